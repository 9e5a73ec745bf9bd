"""Logging in by code: POST /user/login-code/ (a username, an address or a number: a code goes to
the account) and POST /user/login-code/confirm/ (the code: a session starts, as a password login's).

What unknown names and unfinished sign-ups are answered is compared with finished accounts in
test_enumeration.py; the tokens' scope is in test_flow_tokens.py.
"""

import re
import time

import pytest
from django.core import mail

from notifications.channels import LocmemSms
from notifications.models import Delivery, DeliveryStatus
from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PASSWORD, PendingUserFactory, PhoneUserFactory, UserFactory
from users.models import Session, SessionMethod
from users.tokens import AccessToken, LoginCodeToken, RefreshToken

SIX_DIGITS = re.compile(r"\b\d{6}\b")


def code_request(api, user_input: str, **extra):
    return api.bearer(None).post("/user/login-code/", {"user_input": user_input}, **extra)


def code_token(api, user_input: str) -> str:
    response = code_request(api, user_input)
    assert response.status_code == 202, response.content
    return response.json()["access"]


def confirm(api, token: str, code, **extra):
    return api.bearer(token).post("/user/login-code/confirm/", {"code": code}, **extra)


@pytest.fixture
def phone_user(db):
    return PhoneUserFactory(username="joe", phone_number=PHONE)


# --- asking for a code -------------------------------------------------------------------------


def test_request_answers_202_with_a_login_code_token_and_mails_a_code(api, user):
    response = code_request(api, EMAIL)

    assert response.status_code == 202, response.content
    assert set(response.json()) == {"access"}
    token = LoginCodeToken(response.json()["access"])
    assert token["token_type"] == "login_code"
    assert token["user_id"] == str(user.id)
    [message] = mail.outbox
    assert message.to == [EMAIL]
    assert "login code" in message.subject.lower()
    assert SIX_DIGITS.search(message.body)


def test_request_by_phone_texts_the_code(api, phone_user):
    code_request(api, "(202) 555-0143")

    [sms] = LocmemSms.outbox
    assert sms["to"] == PHONE
    assert "login code" in sms["body"].lower()
    assert mail.outbox == []


@pytest.mark.parametrize("typed", ["jane", "JANE", " jane "])
def test_request_by_username_mails_the_address_the_account_signed_up_with(api, user, typed):
    token = LoginCodeToken(code_token(api, typed))

    assert token["user_id"] == str(user.id)
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert LocmemSms.outbox == []


def test_request_by_username_texts_the_number_a_phone_account_signed_up_with(api, phone_user):
    code_token(api, "joe")

    assert [m["to"] for m in LocmemSms.outbox] == [PHONE]
    assert mail.outbox == []


def test_request_by_username_of_an_email_account_with_a_number_too_mails_its_address(api):
    UserFactory(username="jane", email=EMAIL, phone_number=PHONE)

    code_token(api, "jane")

    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert LocmemSms.outbox == []


def test_request_by_the_number_of_an_email_account_texts_that_number(api):
    UserFactory(username="jane", email=EMAIL, phone_number=PHONE)

    code_token(api, PHONE)

    assert [m["to"] for m in LocmemSms.outbox] == [PHONE]
    assert mail.outbox == []


@pytest.mark.parametrize("body", [{}, {"user_input": ""}, {"user_input": 12025550143}, {"user_input": "x" * 255}])
def test_request_refuses_a_missing_or_malformed_name(api, body):
    assert_error(api.post("/user/login-code/", body), 400, "invalid", fields=("user_input",))


@pytest.mark.parametrize(
    ("make", "typed"),
    [
        (lambda: None, "nobody@example.com"),
        (lambda: None, "+13105550100"),
        (lambda: None, "nobody"),
        (lambda: PendingUserFactory(email="pending@example.com"), "pending@example.com"),
        (lambda: UserFactory(username="gone", is_active=False), "gone"),
    ],
    ids=["unknown address", "unknown number", "unknown username", "unfinished sign-up", "deactivated account"],
)
def test_request_for_no_finished_account_sends_nothing_and_records_a_suppressed_delivery(api, make, typed):
    make()

    token = LoginCodeToken(code_token(api, typed))

    assert mail.outbox == []
    assert LocmemSms.outbox == []
    [delivery] = Delivery.objects.all()
    assert delivery.subject == token.subject
    assert delivery.status == DeliveryStatus.SUPPRESSED


# --- confirming --------------------------------------------------------------------------------


def test_confirm_starts_a_session_like_a_password_login(api, user, email_code):
    token = code_token(api, EMAIL)

    response = confirm(api, token, email_code(), HTTP_USER_AGENT="Phone app 1.0")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "auth_status"}
    assert body["auth_status"] == "done"
    assert AccessToken(body["access"])["user_id"] == str(user.id)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.id)
    me = api.bearer(body["access"]).get("/user/me/")
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    assert api.bearer(None).post("/user/login-refresh/", {"refresh": body["refresh"]}).status_code == 200
    [session] = Session.objects.all()
    assert session.method == SessionMethod.CODE
    assert session.user_agent == "Phone app 1.0"


def test_confirm_by_sms_code(api, phone_user, sms_code):
    token = code_token(api, "joe")

    response = confirm(api, token, sms_code())

    assert response.status_code == 200, response.content
    assert AccessToken(response.json()["access"])["user_id"] == str(phone_user.id)


def test_confirm_accepts_the_code_as_an_integer(api, user, next_codes):
    next_codes("004321")
    token = code_token(api, "jane")

    assert confirm(api, token, 4321).status_code == 200


def test_confirm_leaves_the_password_and_other_sessions_alone(api, user, tokens, email_code):
    token = code_token(api, EMAIL)

    assert confirm(api, token, email_code()).status_code == 200

    assert api.bearer(tokens["access"]).get("/user/me/").status_code == 200
    assert api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}).status_code == 200
    assert len(mail.outbox) == 1  # the code, and no notice


def test_wrong_code_is_refused_and_starts_no_session(api, user, next_codes):
    next_codes("111111")
    token = code_token(api, EMAIL)

    response = confirm(api, token, "222222")

    assert_error(response, 400, "code_invalid", fields=("code",))
    assert not Session.objects.exists()


def test_the_right_code_after_five_wrong_guesses_is_refused(api, user, next_codes):
    next_codes("111111")
    token = code_token(api, EMAIL)
    for _ in range(5):
        assert_error(confirm(api, token, "222222"), 400, "code_invalid")

    assert_error(confirm(api, token, "111111"), 400, "code_attempts_exceeded", fields=("code",))
    assert not Session.objects.exists()


def test_an_expired_code_is_refused(api, user, settings, email_code):
    settings.VERIFICATION_CODE_TTL = 1
    token = code_token(api, EMAIL)
    code = email_code()
    time.sleep(1.1)

    assert_error(confirm(api, token, code), 400, "code_expired", fields=("code",))


def test_a_code_works_once(api, user, email_code):
    token = code_token(api, EMAIL)
    code = email_code()
    assert confirm(api, token, code).status_code == 200

    assert_error(confirm(api, token, code), 400, "code_expired")
    assert Session.objects.count() == 1


def test_a_reset_code_does_not_log_in(api, user, next_codes):
    next_codes("111111", "222222")
    api.post("/user/password-reset/", {"email_phone_number": EMAIL})
    token = code_token(api, EMAIL)

    assert_error(confirm(api, token, "111111"), 400, "code_invalid")


def test_an_account_deactivated_after_the_request_cannot_log_in(api, user, email_code):
    token = code_token(api, EMAIL)
    code = email_code()
    user.is_active = False
    user.save()

    assert_error(confirm(api, token, code), 400, "code_invalid")
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("make", "typed"),
    [
        (lambda: None, "nobody@example.com"),
        (lambda: None, "+13105550100"),
        (lambda: None, "nobody"),
        (lambda: PendingUserFactory(email="pending@example.com"), "pending@example.com"),
        (lambda: UserFactory(username="gone", is_active=False), "gone"),
    ],
    ids=["unknown address", "unknown number", "unknown username", "unfinished sign-up", "deactivated account"],
)
def test_a_decoy_never_confirms_even_with_the_code_it_was_issued(api, next_codes, make, typed):
    next_codes("424242")
    make()
    token = code_token(api, typed)

    response = confirm(api, token, "424242")

    assert_error(response, 400, "code_invalid", fields=("code",))
    assert not Session.objects.exists()


# --- asking again ------------------------------------------------------------------------------


def test_a_second_request_within_the_cooldown_sends_nothing_and_the_first_code_still_works(api, user, email_code):
    code_token(api, EMAIL)
    code = email_code()

    token = code_token(api, "jane")

    assert len(mail.outbox) == 1
    assert confirm(api, token, code).status_code == 200


def test_a_second_request_after_the_cooldown_sends_a_code_that_replaces_the_first(api, user, settings, next_codes):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    next_codes("111111", "222222")
    first = code_token(api, EMAIL)

    second = code_token(api, EMAIL)

    assert len(mail.outbox) == 2
    assert "222222" in mail.outbox[-1].body
    assert_error(confirm(api, first, "111111"), 400, "code_invalid")
    assert confirm(api, second, "222222").status_code == 200


# --- rate limits -------------------------------------------------------------------------------


def test_requests_are_limited_per_client_address(api, rates):
    rates(login_code_ip="2/h")

    answers = [code_request(api, f"someone{i}").status_code for i in range(3)]
    elsewhere = code_request(api, "someone", REMOTE_ADDR="198.51.100.7")

    assert answers == [202, 202, 429]
    assert elsewhere.status_code == 202


@pytest.mark.parametrize(
    "spellings",
    [
        ("jane", "JANE", "j\u0430ne"),  # the last with a Cyrillic a
        (EMAIL, "Jane@Example.com", "JANE@EXAMPLE.COM."),
        (PHONE, "(202) 555-0143", "202.555.0143"),
    ],
    ids=["username (and a look-alike)", "address", "number"],
)
def test_requests_are_limited_per_name_whatever_its_spelling_or_the_address(api, user, rates, spellings):
    rates(login_code_identifier="2/h")

    answers = [code_request(api, typed, REMOTE_ADDR=f"198.51.100.{i + 1}") for i, typed in enumerate(spellings)]
    other = code_request(api, "someone-else", REMOTE_ADDR="198.51.100.9")

    assert [a.status_code for a in answers[:2]] == [202, 202]
    body = assert_error(answers[2], 429, "rate_limited")
    assert body["fields"] == {}
    assert int(answers[2]["Retry-After"]) > 0
    assert other.status_code == 202


def test_confirm_guesses_are_limited_per_client_address(api, user, rates):
    rates(verify_ip="3/h")
    token = code_token(api, EMAIL)

    answers = [confirm(api, token, "000000").status_code for _ in range(4)]

    assert answers == [400, 400, 400, 429]


# --- the SMS guard -----------------------------------------------------------------------------


def test_a_number_of_a_country_not_allowed_is_refused_for_an_account_and_for_nobody_alike(api, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA"]
    PhoneUserFactory(phone_number="+447400123456")

    for_account = code_request(api, "+447400123456")
    for_nobody = code_request(api, "+447400123457")

    assert_error(for_account, 400, "sms_unavailable", fields=("user_input",))  # the field this endpoint takes
    assert (for_account.status_code, for_account.content) == (for_nobody.status_code, for_nobody.content)
    assert LocmemSms.outbox == []
    assert not Delivery.objects.exists()


def test_the_username_of_a_phone_account_answers_alike_when_the_sms_guard_refuses(api, settings):
    # Refusing would tell a phone account's username from any other name: it answers like an
    # unknown name, and nothing is sent.
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA"]
    PhoneUserFactory(username="brit", phone_number="+447400123456")

    brit, nobody = code_request(api, "brit"), code_request(api, "nobody")

    assert brit.status_code == nobody.status_code == 202
    assert LocmemSms.outbox == []
    code = "123456"
    confirm = api.bearer(brit.json()["access"]).post("/user/login-code/confirm/", {"code": code})
    assert confirm.status_code == 400  # no code went out that could confirm


def test_requests_for_unknown_numbers_count_against_the_sms_limits_like_accounts(api, rates, phone_user):
    rates(sms_network_hour="2/h")

    answers = [code_request(api, number).status_code for number in (PHONE, "+13105550100", "+14155550100")]

    assert answers == [202, 202, 400]


# --- the SMS challenge -------------------------------------------------------------------------


def test_with_the_challenge_due_a_request_by_phone_needs_one_for_an_account_and_for_nobody_alike(
    api, phone_user, settings, fake_siteverify
):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0  # always due

    for_account = code_request(api, PHONE)
    for_nobody = code_request(api, "+13105550100")
    by_email = code_request(api, "nobody@example.com")
    passed = api.post("/user/login-code/", {"user_input": PHONE, "challenge": fake_siteverify.token()})

    assert_error(for_account, 400, "challenge_required", fields=("challenge",))
    assert (for_account.status_code, for_account.content) == (for_nobody.status_code, for_nobody.content)
    assert by_email.status_code == 202
    assert passed.status_code == 202, passed.content
    assert [m["to"] for m in LocmemSms.outbox] == [PHONE]
