"""The optional challenge before SMS (users/challenges.py, users/sms_guard.py), against a fake
siteverify server over real HTTP (tests/support/fake_siteverify.py): not asked for below its share
of the daily budget, required above it, passed, refused, and failing closed when siteverify is
down. Nothing is spent or sent for a request that does not pass."""

import logging
import time

import pytest
from django.core import mail

from notifications.channels import LocmemSms
from tests.api.conftest import assert_error
from tests.support.fake_siteverify import SECRET
from users.ratelimits import Hit, limit_usage, limits_hit

BUDGET = 10


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA", "GB"]
    settings.DEFAULT_PHONE_REGION = "US"
    # Only the budget matters here; the per-client rules stay out of the way.
    settings.RATE_LIMITS = {
        **{rule: "" for rule in settings.RATE_LIMITS},
        "sms_daily_budget": f"{BUDGET}/d",
    }


def signup(api, number: str, challenge: str | None = None, **extra):
    body = {"email_phone_number": number}
    if challenge is not None:
        body["challenge"] = challenge
    return api.bearer(None).post("/user/signup/", body, **extra)


def spend(count: int) -> None:
    """The day's SMS so far: ``count`` of the budget spent."""
    for _ in range(count):
        limits_hit([Hit("sms_daily_budget", "all")])


def spent() -> int:
    return limit_usage(Hit("sms_daily_budget", "all"))[0]


def number(n: int) -> str:
    return f"+1{202 + n}5550143"


def test_the_challenge_is_not_asked_for_below_its_share_of_the_budget(api, fake_siteverify):
    spend(BUDGET // 2 - 1)

    response = signup(api, number(0))

    assert response.status_code == 201, response.content
    assert fake_siteverify.requests == []  # siteverify is not even called


def test_above_its_share_an_sms_sign_up_without_a_challenge_is_refused_and_spends_nothing(api, fake_siteverify):
    spend(BUDGET // 2)

    response = signup(api, number(0))

    body = assert_error(response, 400, "challenge_required", fields=("challenge",))
    assert "challenge" in body["detail"].lower()
    assert LocmemSms.outbox == []
    assert spent() == BUDGET // 2
    assert fake_siteverify.requests == []


def test_a_passed_challenge_lets_the_sms_through(api, fake_siteverify):
    spend(BUDGET // 2)
    token = fake_siteverify.token()

    response = signup(api, number(0), challenge=token, REMOTE_ADDR="198.51.100.23")

    assert response.status_code == 201, response.content
    assert [m["to"] for m in LocmemSms.outbox] == [number(0)]
    assert spent() == BUDGET // 2 + 1
    assert fake_siteverify.requests == [{"secret": SECRET, "response": token, "remoteip": "198.51.100.23"}]


@pytest.mark.parametrize("kind", ["made up", "already used", "blank"])
def test_a_refused_challenge_is_challenge_failed_and_spends_nothing(api, fake_siteverify, kind):
    spend(BUDGET // 2)
    used = fake_siteverify.token()
    assert signup(api, number(0), challenge=used).status_code == 201
    token = {"made up": "XXXX.NOT.ISSUED", "already used": used, "blank": ""}[kind]

    response = signup(api, number(1), challenge=token)

    if kind == "blank":  # an empty field is no answer at all
        assert_error(response, 400, "challenge_required", fields=("challenge",))
    else:
        assert_error(response, 400, "challenge_failed", fields=("challenge",))
    assert [m["to"] for m in LocmemSms.outbox] == [number(0)]
    assert spent() == BUDGET // 2 + 1


def test_share_zero_asks_for_the_challenge_from_the_first_sms(api, fake_siteverify, settings):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0

    assert_error(signup(api, number(0)), 400, "challenge_required")
    assert signup(api, number(0), challenge=fake_siteverify.token()).status_code == 201


def test_without_a_budget_rule_the_challenge_is_always_asked_for(api, fake_siteverify, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": ""}

    assert_error(signup(api, number(0)), 400, "challenge_required")


def test_e_mail_sign_ups_never_need_the_challenge(api, fake_siteverify, settings):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0

    response = signup(api, "jane@example.com")

    assert response.status_code == 201, response.content
    assert len(mail.outbox) == 1
    assert fake_siteverify.requests == []


def test_the_hcaptcha_backend_speaks_the_same_siteverify(api, fake_siteverify, settings):
    settings.SMS_CHALLENGE_BACKEND = "users.challenges.Hcaptcha"
    settings.SMS_CHALLENGE_AFTER_SHARE = 0

    assert_error(signup(api, number(0), challenge="XXXX.NOT.ISSUED"), 400, "challenge_failed")
    assert signup(api, number(0), challenge=fake_siteverify.token()).status_code == 201
    assert len(fake_siteverify.requests) == 2


def test_a_wrong_secret_fails_the_challenge_and_tells_the_operators(api, fake_siteverify, settings, caplog):
    settings.SMS_CHALLENGE_SECRET = "not-the-secret"
    settings.SMS_CHALLENGE_AFTER_SHARE = 0
    caplog.set_level(logging.INFO)

    response = signup(api, number(0), challenge=fake_siteverify.token())

    assert_error(response, 400, "challenge_failed")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("invalid-input-secret" in message for message in errors), errors


# --- siteverify down: fail closed ------------------------------------------------------------


@pytest.mark.parametrize("answer", ["500", "garbage"])
def test_a_siteverify_answering_nonsense_fails_closed_with_503(api, fake_siteverify, settings, answer):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0
    fake_siteverify.script(answer)

    response = signup(api, number(0), challenge=fake_siteverify.token())

    assert_error(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
    assert LocmemSms.outbox == []
    assert spent() == 0


def test_an_unreachable_siteverify_fails_closed_with_503(api, fake_siteverify, settings):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0
    token = fake_siteverify.token()
    fake_siteverify.stop()  # the port is closed: connection refused

    response = signup(api, number(0), challenge=token)

    assert_error(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
    assert LocmemSms.outbox == []
    assert spent() == 0


def test_a_siteverify_that_does_not_answer_fails_closed_within_the_timeout(api, fake_siteverify, settings):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0
    settings.SMS_CHALLENGE_TIMEOUT = 0.5
    fake_siteverify.script("stall")
    started = time.monotonic()

    response = signup(api, number(0), challenge=fake_siteverify.token())

    assert_error(response, 503, "service_unavailable")
    assert time.monotonic() - started < 2.5  # the stall lasts 3 s: the timeout, not the server, ended it
    assert LocmemSms.outbox == []


# --- resends ---------------------------------------------------------------------------------


def test_resends_above_the_share_need_the_challenge_in_the_x_challenge_header(api, fake_siteverify, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    access = signup(api, number(0)).json()["access"]
    spend(BUDGET // 2)

    without = api.bearer(access).get("/user/new-verify/")
    refused = api.bearer(access).get("/user/new-verify/", HTTP_X_CHALLENGE="XXXX.NOT.ISSUED")
    passed = api.bearer(access).get("/user/new-verify/", HTTP_X_CHALLENGE=fake_siteverify.token())

    assert_error(without, 400, "challenge_required", fields=("challenge",))
    assert_error(refused, 400, "challenge_failed", fields=("challenge",))
    assert passed.status_code == 200, passed.content
    assert len(LocmemSms.outbox) == 2


def test_an_overlong_challenge_is_invalid_input(api, fake_siteverify):
    body = assert_error(signup(api, number(0), challenge="x" * 4097), 400, "invalid", fields=("challenge",))

    assert "x" * 100 not in str(body)
    assert fake_siteverify.requests == []


# --- logs ------------------------------------------------------------------------------------


def test_neither_the_secret_nor_the_tokens_are_ever_logged(api, fake_siteverify, settings, caplog):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0
    caplog.set_level(logging.DEBUG)
    tokens = [fake_siteverify.token() for _ in range(3)]

    signup(api, number(0), challenge=tokens[0])
    signup(api, number(1), challenge=tokens[0])  # already used
    fake_siteverify.script("500")
    signup(api, number(2), challenge=tokens[1])
    fake_siteverify.stop()
    signup(api, number(3), challenge=tokens[2])

    text = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "siteverify" in text  # the failures were logged...
    assert SECRET not in text  # ...without the secret
    for token in tokens:
        assert token not in text
