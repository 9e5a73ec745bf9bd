"""Metrics (project/metrics.py): GET /metrics only for a bearer of METRICS_TOKEN, and after a
scripted flow the scraped counters moved by exactly what was done."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD

TOKEN = "metrics-" + "k9Qz2XvB7mW4pL8sT1yR6nD3hF5jG0cA"


@pytest.fixture
def scrape(api, settings):
    settings.METRICS_TOKEN = TOKEN

    def _scrape() -> dict[tuple, float]:
        response = api.bearer(None).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return _scrape


def moved(before: dict, after: dict) -> dict[tuple, float]:
    """The project's samples that changed, by how much (counters and histogram counts only)."""
    changed = {}
    for key, value in after.items():
        name = key[0]
        if not name.startswith("auth_") or name.endswith(("_created", "_bucket", "_sum")):
            continue
        delta = value - before.get(key, 0.0)
        if delta:
            changed[key] = delta
    return changed


def test_there_is_no_metrics_page_without_the_setting(api, settings):
    settings.METRICS_TOKEN = ""

    assert_error(api.get("/metrics"), 404, "not_found")


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_the_metrics_page_needs_the_token(api, settings, header):
    settings.METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": header} if header else {}

    response = api.bearer(None).get("/metrics", **headers)

    assert_error(response, 401, "unauthorized")
    assert b"auth_" not in response.content


def test_a_scripted_flow_moves_each_counter_by_exactly_what_was_done(
    api, scrape, signup, verify, email_code, change_info, settings
):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    before = scrape()

    token = signup(EMAIL)  # a code by e-mail, delivered (tasks run in-process here)
    assert_error(verify(token, "000000" if email_code() != "000000" else "111111"), 400, "code_invalid")
    response = verify(token, email_code())
    assert response.status_code == 200
    verified = response.json()["access"]
    profile = {"username": "jane", "password": PASSWORD, "confirm_password": PASSWORD}
    assert change_info(verified, **profile).status_code == 200
    assert api.bearer(None).post("/user/login/", {"user_input": "jane", "password": "wrong-pass-9"}).status_code == 401
    first = api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}).json()
    second = api.bearer(None).post("/user/login-refresh/", {"refresh": first["refresh"]}).json()
    assert api.bearer(None).post("/user/login-refresh/", {"refresh": first["refresh"]}).status_code == 401  # reuse
    other = api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}).json()
    assert api.bearer(other["access"]).post("/user/logout/", {"refresh": other["refresh"]}).status_code == 200
    assert api.bearer(None).post("/user/signup/", {"email_phone_number": "+33612345678"}).status_code == 400
    assert second["access"]

    changes = moved(before, scrape())
    assert changes == {
        ("auth_signups_started_total", (("channel", "email"),)): 1,
        ("auth_codes_issued_total", (("channel", "email"), ("country", "none"), ("purpose", "signup"))): 1,
        ("auth_deliveries_total", (("channel", "email"), ("outcome", "sent"))): 1,
        ("auth_delivery_attempts_total", (("channel", "email"),)): 1,
        ("auth_delivery_provider_seconds_count", (("channel", "email"),)): 1,
        ("auth_codes_wrong_total", (("purpose", "signup"),)): 1,
        ("auth_codes_verified_total", (("purpose", "signup"),)): 1,
        ("auth_profiles_completed_total", ()): 1,
        ("auth_logins_total", (("method", "password"), ("result", "failure"))): 1,
        ("auth_logins_total", (("method", "password"), ("result", "success"))): 2,
        ("auth_refresh_reuse_detected_total", ()): 1,
        ("auth_sessions_ended_total", (("reason", "reuse"),)): 1,
        ("auth_sessions_ended_total", (("reason", "logout"),)): 1,
        ("auth_sms_guard_refusals_total", (("reason", "country"),)): 1,
    }


def test_each_refusal_with_429_is_counted_under_its_rule(api, scrape, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup_identifier": "2/h"}
    before = scrape()

    statuses = [api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL}).status_code for _ in range(3)]

    assert statuses[-1] == 429
    changes = moved(before, scrape())
    assert changes[("auth_rate_limited_total", (("rule", "signup_identifier"),))] == 1
