"""The SMS-pumping guard (users.services._sms_guard): country allowlist, line type, velocity per
number prefix and a global daily budget. Each refusal happens before the provider is called and
before an account is written, and every reason looks the same to the client."""

import logging
import time

import pytest
from django.core import mail

from notifications.channels import LocmemSms
from tests.api.conftest import assert_error
from tests.api.test_ratelimits import wait_for_fresh_window
from tests.factories import PhoneUserFactory
from users.models import User

ALLOWED_MOBILE = "+447400123456"  # GB mobile
US_NUMBER = "+12025550143"  # US numbers are FIXED_LINE_OR_MOBILE


@pytest.fixture(autouse=True)
def _guard_settings(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA", "GB"]
    settings.DEFAULT_PHONE_REGION = "US"
    # Limits not under test stay out of the way.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "signup_ip": "1000/h",
        "signup_identifier": "1000/h",
        "sms_prefix": "1000/h",
        "sms_daily_budget": "1000/d",
    }


def signup(api, number: str):
    return api.bearer(None).post("/user/signup/", {"email_phone_number": number})


def assert_refused_before_anything(api, number: str) -> bytes:
    """Refused with the generic answer; no SMS, no account, no delivery. Returns the body."""
    sent_before = len(LocmemSms.outbox)

    response = signup(api, number)

    body = assert_error(response, 400, "sms_unavailable", fields=("email_phone_number",))
    assert number not in response.content.decode()
    assert "country" not in body["detail"].lower()
    assert len(LocmemSms.outbox) == sent_before
    assert not User.objects.filter(phone_number=number).exists()
    return response.content


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+4915123456789", "DE mobile: country not allowed"),
        ("+33612345678", "FR mobile: country not allowed"),
        ("+442079460958", "GB fixed line"),
        ("+448001234567", "GB toll-free"),
        ("+18005550199", "US toll-free"),
        ("+19005550123", "US premium rate"),
        ("+449012345678", "GB premium rate"),
        ("+447012345678", "GB personal number"),
        ("+445612345678", "GB VoIP"),
        ("+447640123456", "GB pager"),
    ],
)
def test_numbers_that_cannot_or_may_not_receive_sms_are_refused(api, number, reason):
    assert_refused_before_anything(api, number)
    assert LocmemSms.outbox == []


@pytest.mark.parametrize("number", [ALLOWED_MOBILE, US_NUMBER, "+16135550123"])
def test_mobile_numbers_in_allowed_countries_get_their_code(api, number):
    response = signup(api, number)

    assert response.status_code == 201, response.content
    assert [m["to"] for m in LocmemSms.outbox] == [number]


def test_the_allowlist_is_a_setting(api, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["DE"]

    assert signup(api, "+4915123456789").status_code == 201
    assert_refused_before_anything(api, ALLOWED_MOBILE)


def test_an_empty_allowlist_allows_every_country_but_still_checks_the_line_type(api, settings):
    settings.SMS_ALLOWED_COUNTRIES = []

    assert signup(api, "+4915123456789").status_code == 201
    assert_refused_before_anything(api, "+4930123456")  # DE fixed line


def test_prefix_velocity_trips_for_numbers_equal_but_for_the_last_three_digits(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_prefix": "3/h"}
    same_range = ["+12025550101", "+12025550234", "+12025550999"]

    statuses = [signup(api, number).status_code for number in same_range]
    assert_refused_before_anything(api, "+12025550555")

    assert statuses == [201, 201, 201]
    assert len(LocmemSms.outbox) == 3
    # Another range is not affected.
    assert signup(api, "+12025551234").status_code == 201


def test_prefix_velocity_also_guards_resends(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_prefix": "2/h"}
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = signup(api, "+12025550101").json()["access"]
    assert signup(api, "+12025550102").status_code == 201
    sent = len(LocmemSms.outbox)

    response = api.bearer(token).get("/user/new-verify/")

    assert_error(response, 400, "sms_unavailable")
    assert len(LocmemSms.outbox) == sent


def test_daily_budget_trips_the_breaker_logs_an_error_and_refuses_later_sms(api, settings, caplog):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": "2/d"}
    caplog.set_level(logging.INFO)

    assert signup(api, "+12025550143").status_code == 201
    assert signup(api, "+13105550100").status_code == 201
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    assert_refused_before_anything(api, "+12125550100")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the breaker must tell operators"
    assert any("budget" in r.getMessage().lower() for r in errors)

    # Later SMS, to any number and for resends, are refused too; e-mail is not affected.
    assert_refused_before_anything(api, ALLOWED_MOBILE)
    assert len(LocmemSms.outbox) == 2
    assert signup(api, "someone@example.com").status_code == 201
    assert len(mail.outbox) == 1


def test_spent_budget_also_refuses_resends(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": "1/d"}
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = signup(api, US_NUMBER).json()["access"]

    response = api.bearer(token).get("/user/new-verify/")

    assert response.status_code != 200
    assert_error(response, 400, "sms_unavailable")
    assert len(LocmemSms.outbox) == 1


def test_sign_up_for_an_existing_phone_account_is_guarded_too(api, settings):
    # The notice to an existing account is an SMS as well: it must count against the budget.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": "1/d"}
    PhoneUserFactory(phone_number=US_NUMBER)

    assert signup(api, US_NUMBER).status_code == 201
    assert len(LocmemSms.outbox) == 1
    response = signup(api, US_NUMBER)
    assert_error(response, 400, "sms_unavailable")
    assert len(LocmemSms.outbox) == 1


def test_every_refusal_reason_gives_the_same_body(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_prefix": "1/h", "sms_daily_budget": "3/d"}
    bodies = {
        "country": assert_refused_before_anything(api, "+4915123456789"),
        "fixed line": assert_refused_before_anything(api, "+442079460958"),
        "toll free": assert_refused_before_anything(api, "+18005550199"),
        "premium": assert_refused_before_anything(api, "+19005550123"),
    }
    assert signup(api, "+12025550101").status_code == 201
    bodies["prefix"] = assert_refused_before_anything(api, "+12025550102")
    assert signup(api, "+13105550100").status_code == 201
    assert signup(api, "+12125550100").status_code == 201
    bodies["budget"] = assert_refused_before_anything(api, "+14155550100")

    assert len(set(bodies.values())) == 1, bodies


def test_spent_daily_budget_lifts_when_its_window_ends(api, settings):
    period = 3
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": f"1/{period}s"}
    window_end = wait_for_fresh_window("all", period)  # the budget has one bucket, keyed "all"

    spent = signup(api, "+12025550143")
    refused = signup(api, "+13105550100")
    assert time.time() < window_end, "the requests straddled the window; the machine is too slow"
    time.sleep(window_end - time.time() + 0.05)
    after = signup(api, "+12125550100")

    assert spent.status_code == 201, spent.content
    assert_error(refused, 400, "sms_unavailable")
    assert after.status_code == 201, after.content
    assert [m["to"] for m in LocmemSms.outbox] == ["+12025550143", "+12125550100"]
