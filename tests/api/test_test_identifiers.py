"""Test identifiers (TEST_IDENTIFIERS): for app-store reviewers and other teams' CI, those addresses
and numbers get their fixed code in every code flow (sign-up, password reset, login by code, change
of address), and no message at all: no code, no notice, no SMS spent. Everyone else is untouched.
Production refuses the setting without ALLOW_TEST_IDENTIFIERS (tests/unit/test_production_settings.py).
"""

import logging

import pytest
from django.apps import apps
from django.core import mail

from notifications.channels import LocmemSms
from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD, PhoneUserFactory, UserFactory, session_tokens
from users.ratelimits import Hit, limit_usage

REVIEWER = "reviewer@example.com"
REVIEWER_CODE = "123456"
REVIEWER_PHONE = "+12025550188"
REVIEWER_PHONE_CODE = "654321"
NEW_PASSWORD = "Ano7her-Horse-Battery"


@pytest.fixture(autouse=True)
def _test_identifiers(settings):
    settings.TEST_IDENTIFIERS = {REVIEWER: REVIEWER_CODE, REVIEWER_PHONE: REVIEWER_PHONE_CODE}


def nothing_sent() -> bool:
    return mail.outbox == [] and LocmemSms.outbox == []


def signup(api, identifier: str) -> str:
    response = api.bearer(None).post("/user/signup/", {"email_phone_number": identifier})
    assert response.status_code == 201, response.content
    return response.json()["access"]


def verify(api, token: str, code: str):
    return api.bearer(token).post("/user/verify/", {"code": code})


def reset(api, identifier: str) -> str:
    response = api.bearer(None).post("/user/password-reset/", {"email_phone_number": identifier})
    assert response.status_code == 202, response.content
    return response.json()["access"]


def reset_confirm(api, token: str, code: str):
    body = {"code": code, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    return api.bearer(token).post("/user/password-reset/confirm/", body)


def login_code(api, user_input: str) -> str:
    response = api.bearer(None).post("/user/login-code/", {"user_input": user_input})
    assert response.status_code == 202, response.content
    return response.json()["access"]


def login_code_confirm(api, token: str, code: str):
    return api.bearer(token).post("/user/login-code/confirm/", {"code": code})


# --- sign-up -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        (REVIEWER, REVIEWER_CODE),
        ("Reviewer@EXAMPLE.com", REVIEWER_CODE),
        (REVIEWER_PHONE, REVIEWER_PHONE_CODE),
        ("(202) 555-0188", REVIEWER_PHONE_CODE),
    ],
    ids=["address", "address spelt otherwise", "number", "number spelt otherwise"],
)
def test_sign_up_with_a_test_identifier_sends_nothing_and_takes_the_fixed_code(api, typed, code):
    token = signup(api, typed)

    response = verify(api, token, code)

    assert response.status_code == 200, response.content
    assert nothing_sent()
    verified = response.json()["access"]
    profile = {"username": "reviewer", "password": PASSWORD, "confirm_password": PASSWORD}
    assert api.bearer(verified).patch("/user/change-user-info/", profile).status_code == 200
    assert api.bearer(None).post("/user/login/", {"user_input": "reviewer", "password": PASSWORD}).status_code == 200
    assert nothing_sent()


def test_a_new_code_for_a_test_identifier_is_the_fixed_code_again_and_sends_nothing(api, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = signup(api, REVIEWER)

    assert api.bearer(token).get("/user/new-verify/").status_code == 200

    assert nothing_sent()
    assert verify(api, token, REVIEWER_CODE).status_code == 200


def test_wrong_guesses_still_count_for_a_test_identifier(api):
    token = signup(api, REVIEWER)
    for _ in range(5):
        assert_error(verify(api, token, "000000"), 400, "code_invalid")

    assert_error(verify(api, token, REVIEWER_CODE), 400, "code_attempts_exceeded")


def test_sign_up_of_a_finished_test_account_sends_no_notice_and_never_verifies(api):
    UserFactory(email=REVIEWER)

    token = signup(api, REVIEWER)

    assert_error(verify(api, token, REVIEWER_CODE), 400, "code_invalid")
    assert nothing_sent()


def test_other_identifiers_keep_their_random_codes_and_messages(api, next_codes):
    next_codes("111111")

    token = signup(api, "someone@example.com")

    assert len(mail.outbox) == 1
    assert "111111" in mail.outbox[0].body
    assert_error(verify(api, token, REVIEWER_CODE), 400, "code_invalid")
    assert verify(api, token, "111111").status_code == 200


# --- password reset and login by code ----------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "typed", "code"),
    [
        (lambda: UserFactory(username="reviewer", email=REVIEWER), REVIEWER, REVIEWER_CODE),
        (
            lambda: PhoneUserFactory(username="reviewer", phone_number=REVIEWER_PHONE),
            REVIEWER_PHONE,
            REVIEWER_PHONE_CODE,
        ),
    ],
    ids=["address", "number"],
)
def test_password_reset_takes_the_fixed_code_and_sends_neither_code_nor_notice(api, make, typed, code):
    user = make()
    other_session = session_tokens(user)

    response = reset_confirm(api, reset(api, typed), code)

    assert response.status_code == 200, response.content
    assert nothing_sent()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_error(
        api.bearer(other_session["access"]).get("/user/me/"), 401, "token_not_valid"
    )  # sessions ended all the same


@pytest.mark.parametrize(
    ("make", "typed", "code"),
    [
        (lambda: UserFactory(username="reviewer", email=REVIEWER), REVIEWER, REVIEWER_CODE),
        (lambda: UserFactory(username="reviewer", email=REVIEWER), "reviewer", REVIEWER_CODE),
        (
            lambda: PhoneUserFactory(username="reviewer", phone_number=REVIEWER_PHONE),
            REVIEWER_PHONE,
            REVIEWER_PHONE_CODE,
        ),
        (lambda: PhoneUserFactory(username="reviewer", phone_number=REVIEWER_PHONE), "reviewer", REVIEWER_PHONE_CODE),
    ],
    ids=["address", "username of an e-mail account", "number", "username of a phone account"],
)
def test_login_by_code_takes_the_fixed_code_and_sends_nothing(api, make, typed, code):
    user = make()

    response = login_code_confirm(api, login_code(api, typed), code)

    assert response.status_code == 200, response.content
    assert api.bearer(response.json()["access"]).get("/user/me/").json()["id"] == str(user.id)
    assert nothing_sent()


@pytest.mark.parametrize("typed", [REVIEWER, REVIEWER_PHONE])
def test_a_test_identifier_without_an_account_never_confirms(api, typed):
    code = REVIEWER_CODE if "@" in typed else REVIEWER_PHONE_CODE

    assert_error(reset_confirm(api, reset(api, typed), code), 400, "code_invalid")
    assert_error(login_code_confirm(api, login_code(api, typed), code), 400, "code_invalid")
    assert nothing_sent()


def test_a_test_identifier_as_a_new_address_takes_the_fixed_code(api):
    user = UserFactory(username="jane", email=EMAIL)
    access = session_tokens(user)["access"]

    response = api.bearer(access).post(
        "/user/change-identifier/", {"email_phone_number": REVIEWER, "password": PASSWORD}
    )
    assert response.status_code == 202, response.content
    confirmed = api.bearer(access).post("/user/change-identifier/confirm/", {"code": REVIEWER_CODE})

    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["email"] == REVIEWER
    assert [m.to for m in mail.outbox] == [[EMAIL]]  # the notice to the old address only
    assert LocmemSms.outbox == []


# --- the SMS guard -----------------------------------------------------------------------------


def test_a_test_number_spends_no_sms_budget_and_passes_the_guard_in_every_flow(api, settings):
    # Nothing is ever sent to it: the limits on SMS have nothing to count.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "1/h", "sms_daily_budget": "1/d"}
    settings.SMS_ALLOWED_COUNTRIES = ["GB"]

    verified = verify(api, signup(api, REVIEWER_PHONE), REVIEWER_PHONE_CODE).json()["access"]
    profile = {"username": "reviewer", "password": PASSWORD, "confirm_password": PASSWORD}
    assert api.bearer(verified).patch("/user/change-user-info/", profile).status_code == 200
    assert reset_confirm(api, reset(api, REVIEWER_PHONE), REVIEWER_PHONE_CODE).status_code == 200
    assert login_code_confirm(api, login_code(api, "reviewer"), REVIEWER_PHONE_CODE).status_code == 200

    assert limit_usage(Hit("sms_daily_budget", "all"))[0] == 0
    assert nothing_sent()


# --- the start-up warning ----------------------------------------------------------------------


def test_start_up_logs_a_warning_while_test_identifiers_are_on(caplog):
    with caplog.at_level(logging.WARNING, logger="users.apps"):
        apps.get_app_config("users").ready()

    [record] = [r for r in caplog.records if r.name == "users.apps"]
    assert record.levelno == logging.WARNING
    assert "TEST_IDENTIFIERS is on" in record.getMessage()
    assert REVIEWER_CODE not in record.getMessage()  # neither the codes
    assert REVIEWER not in record.getMessage()  # nor the identifiers are logged


def test_start_up_is_silent_without_test_identifiers(caplog, settings):
    settings.TEST_IDENTIFIERS = {}

    with caplog.at_level(logging.WARNING, logger="users.apps"):
        apps.get_app_config("users").ready()

    assert [r for r in caplog.records if r.name == "users.apps"] == []
