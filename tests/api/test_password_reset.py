"""A forgotten password: POST /user/password-reset/ (a code to the address or number), GET
/user/password-reset/new-code/ (another one) and POST /user/password-reset/confirm/ (the new
password), which ends every session and tells the owner.

What unknown identifiers and unfinished sign-ups are answered is compared with finished accounts in
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
from users.models import Session, SessionEnd
from users.tokens import PasswordResetToken

NEW_PASSWORD = "Ano7her-Horse-Battery"
SIX_DIGITS = re.compile(r"\b\d{6}\b")


def reset_request(api, identifier: str, **extra):
    return api.bearer(None).post("/user/password-reset/", {"email_phone_number": identifier}, **extra)


def reset_token(api, identifier: str) -> str:
    response = reset_request(api, identifier)
    assert response.status_code == 202, response.content
    return response.json()["access"]


def new_code(api, token: str):
    return api.bearer(token).get("/user/password-reset/new-code/")


def confirm(api, token: str, code, password: str = NEW_PASSWORD, confirm_password: str | None = None):
    body = {
        "code": code,
        "password": password,
        "confirm_password": password if confirm_password is None else confirm_password,
    }
    return api.bearer(token).post("/user/password-reset/confirm/", body)


def login(api, user_input: str, password: str):
    return api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password})


def refresh(api, token: str):
    return api.bearer(None).post("/user/login-refresh/", {"refresh": token})


@pytest.fixture
def phone_user(db):
    return PhoneUserFactory(username="joe", phone_number=PHONE)


# --- asking for a code -------------------------------------------------------------------------


def test_request_answers_202_with_a_reset_token_and_mails_a_code(api, user):
    response = reset_request(api, EMAIL)

    assert response.status_code == 202, response.content
    assert set(response.json()) == {"access"}
    token = PasswordResetToken(response.json()["access"])
    assert token["token_type"] == "password_reset"
    assert token["user_id"] == str(user.id)
    assert token["to"]  # where to: sealed, not readable
    assert EMAIL not in str(token.payload)
    [message] = mail.outbox
    assert message.to == [EMAIL]
    assert "reset" in message.subject.lower()
    assert SIX_DIGITS.search(message.body)
    assert LocmemSms.outbox == []


def test_request_by_phone_texts_the_code(api, phone_user):
    response = reset_request(api, "(202) 555-0143")

    assert response.status_code == 202, response.content
    token = PasswordResetToken(response.json()["access"])
    assert token["to"]
    assert "0143" not in str(token.payload)
    [sms] = LocmemSms.outbox
    assert sms["to"] == PHONE
    assert "reset" in sms["body"].lower()
    assert SIX_DIGITS.search(sms["body"])
    assert mail.outbox == []


def test_request_reads_any_spelling_of_the_address(api, user):
    reset_token(api, "JANE@Example.COM.")

    assert [m.to for m in mail.outbox] == [[EMAIL]]


def test_request_for_an_email_account_with_a_phone_number_too_texts_that_number(api):
    user = UserFactory(username="jane", email=EMAIL, phone_number=PHONE)

    token = PasswordResetToken(reset_token(api, PHONE))

    assert token["user_id"] == str(user.id)
    assert [m["to"] for m in LocmemSms.outbox] == [PHONE]
    assert mail.outbox == []


@pytest.mark.parametrize("body", [{}, {"email_phone_number": ""}, {"email_phone_number": "not an address"}])
def test_request_refuses_what_is_not_an_address_or_number(api, body):
    response = api.post("/user/password-reset/", body)

    assert_error(response, 400, "invalid", fields=("email_phone_number",))
    assert mail.outbox == []


def test_request_for_nobody_sends_nothing_and_records_a_suppressed_delivery(api):
    token = PasswordResetToken(reset_token(api, "nobody@example.com"))

    assert mail.outbox == []
    [delivery] = Delivery.objects.all()
    assert delivery.subject == token.subject
    assert delivery.status == DeliveryStatus.SUPPRESSED


def test_request_for_an_unfinished_sign_up_sends_nothing(api):
    pending = PendingUserFactory(email="pending@example.com")

    token = PasswordResetToken(reset_token(api, "pending@example.com"))

    assert token.subject != pending.id
    assert mail.outbox == []


# --- confirming --------------------------------------------------------------------------------


def test_confirm_sets_the_new_password(api, user, email_code):
    token = reset_token(api, EMAIL)

    response = confirm(api, token, email_code())

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"detail"}
    assert login(api, "jane", NEW_PASSWORD).status_code == 200
    assert_error(login(api, "jane", PASSWORD), 401, "invalid_credentials")


def test_confirm_by_sms_sets_the_new_password(api, phone_user, sms_code):
    token = reset_token(api, PHONE)

    response = confirm(api, token, sms_code())

    assert response.status_code == 200, response.content
    assert login(api, PHONE, NEW_PASSWORD).status_code == 200


def test_confirm_accepts_the_code_as_an_integer(api, user, next_codes):
    next_codes("012345")
    token = reset_token(api, EMAIL)

    assert confirm(api, token, 12345).status_code == 200


def test_confirm_ends_every_session_so_every_access_and_refresh_token_dies(api, user, email_code):
    laptop = login(api, "jane", PASSWORD).json()
    phone = login(api, EMAIL, PASSWORD).json()
    assert api.bearer(phone["access"]).get("/user/me/").status_code == 200
    token = reset_token(api, EMAIL)

    assert confirm(api, token, email_code()).status_code == 200

    for session in (laptop, phone):
        assert_error(api.bearer(session["access"]).get("/user/me/"), 401, "token_not_valid")
        assert_error(refresh(api, session["refresh"]), 401, "token_not_valid")
    assert set(Session.objects.values_list("end_reason", flat=True)) == {SessionEnd.PASSWORD}
    fresh = login(api, "jane", NEW_PASSWORD).json()
    assert api.bearer(fresh["access"]).get("/user/me/").status_code == 200
    assert refresh(api, fresh["refresh"]).status_code == 200


def test_confirm_sends_the_owner_a_notice_without_a_code(api, user, email_code):
    token = reset_token(api, EMAIL)
    code = email_code()

    confirm(api, token, code)

    assert len(mail.outbox) == 2
    notice = mail.outbox[-1]
    assert notice.to == [EMAIL]
    assert "password was changed" in notice.subject.lower()
    assert "logged out" in notice.body
    assert not SIX_DIGITS.search(notice.subject + notice.body)


def test_confirm_by_sms_texts_the_owner_a_notice(api, phone_user, sms_code):
    token = reset_token(api, PHONE)

    confirm(api, token, sms_code())

    assert [m["to"] for m in LocmemSms.outbox] == [PHONE, PHONE]
    notice = LocmemSms.outbox[-1]["body"]
    assert "password" in notice.lower()
    assert not SIX_DIGITS.search(notice)


def test_wrong_code_is_refused_and_changes_nothing(api, user, next_codes, tokens):
    next_codes("111111")
    token = reset_token(api, EMAIL)

    response = confirm(api, token, "222222")

    assert_error(response, 400, "code_invalid", fields=("code",))
    assert login(api, "jane", PASSWORD).status_code == 200
    assert api.bearer(tokens["access"]).get("/user/me/").status_code == 200
    assert len(mail.outbox) == 1  # the code; no notice


def test_the_right_code_after_five_wrong_guesses_is_refused(api, user, next_codes):
    next_codes("111111")
    token = reset_token(api, EMAIL)
    for _ in range(5):
        assert_error(confirm(api, token, "222222"), 400, "code_invalid")

    response = confirm(api, token, "111111")

    assert_error(response, 400, "code_attempts_exceeded", fields=("code",))
    assert login(api, "jane", PASSWORD).status_code == 200


def test_the_right_code_after_four_wrong_guesses_works(api, user, next_codes):
    next_codes("111111")
    token = reset_token(api, EMAIL)
    for _ in range(4):
        confirm(api, token, "222222")

    assert confirm(api, token, "111111").status_code == 200


def test_an_expired_code_is_refused(api, user, settings, email_code):
    settings.VERIFICATION_CODE_TTL = 1
    token = reset_token(api, EMAIL)
    code = email_code()
    time.sleep(1.1)

    response = confirm(api, token, code)

    assert_error(response, 400, "code_expired", fields=("code",))
    assert login(api, "jane", PASSWORD).status_code == 200


def test_a_code_works_once(api, user, email_code):
    token = reset_token(api, EMAIL)
    code = email_code()
    assert confirm(api, token, code).status_code == 200

    response = confirm(api, token, code, password="Yet-an0ther-Horse")

    assert_error(response, 400, "code_expired")
    assert login(api, "jane", NEW_PASSWORD).status_code == 200


def test_the_code_of_another_flow_does_not_reset(api, user, next_codes):
    # A login code of the same account is bound to its own purpose.
    next_codes("111111", "222222")
    api.post("/user/login-code/", {"user_input": EMAIL})
    token = reset_token(api, EMAIL)

    assert_error(confirm(api, token, "111111"), 400, "code_invalid")


@pytest.mark.parametrize(
    ("password", "confirm_password", "field"),
    [
        ("short1!", "short1!", "password"),  # under 8 characters
        ("password123", "password123", "password"),  # common
        ("73910248561", "73910248561", "password"),  # all digits
        ("x" * 129, "x" * 129, "password"),  # over PASSWORD_MAX_LENGTH, refused before any hashing
        (NEW_PASSWORD, NEW_PASSWORD + "!", "confirm_password"),
    ],
    ids=["short", "common", "numeric", "too long", "mismatch"],
)
def test_a_weak_password_is_refused_and_does_not_burn_the_code(
    api, user, email_code, tokens, password, confirm_password, field
):
    token = reset_token(api, EMAIL)
    code = email_code()

    response = confirm(api, token, code, password=password, confirm_password=confirm_password)

    assert_error(response, 400, "invalid", fields=(field,))
    assert login(api, "jane", PASSWORD).status_code == 200
    assert api.bearer(tokens["access"]).get("/user/me/").status_code == 200
    assert confirm(api, token, code).status_code == 200  # the same code still works


def test_a_password_like_the_accounts_own_data_is_refused_once_the_code_is_right(api, email_code):
    UserFactory(username="janedoe", email="jane.doe.writer@example.com")
    token = reset_token(api, "jane.doe.writer@example.com")
    code = email_code()

    response = confirm(api, token, code, password="jane.doe.writer")

    assert_error(response, 400, "invalid", fields=("password",))
    assert confirm(api, token, code).status_code == 200  # not burnt either


@pytest.mark.parametrize("body", [{"code": "123456"}, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}])
def test_confirm_requires_every_field(api, user, body):
    token = reset_token(api, EMAIL)

    response = api.bearer(token).post("/user/password-reset/confirm/", body)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


# --- decoys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "identifier"),
    [
        (lambda: None, "nobody@example.com"),
        (lambda: None, "+13105550100"),
        (lambda: PendingUserFactory(email="pending@example.com"), "pending@example.com"),
        (lambda: UserFactory(email="gone@example.com", is_active=False), "gone@example.com"),
    ],
    ids=["unknown address", "unknown number", "unfinished sign-up", "deactivated account"],
)
def test_a_decoy_never_confirms_even_with_the_code_it_was_issued(api, next_codes, make, identifier):
    next_codes("424242")
    account = make()
    token = reset_token(api, identifier)

    response = confirm(api, token, "424242")

    assert_error(response, 400, "code_invalid", fields=("code",))
    assert mail.outbox == []
    assert LocmemSms.outbox == []
    if account is not None:
        account.refresh_from_db()
        assert not account.check_password(NEW_PASSWORD)


def test_a_token_of_an_account_deactivated_since_never_confirms(api, user, email_code):
    token = reset_token(api, EMAIL)
    code = email_code()
    user.is_active = False
    user.save()

    assert_error(confirm(api, token, code), 400, "code_invalid")

    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- a new code --------------------------------------------------------------------------------


def test_new_code_within_the_cooldown_is_429_with_retry_after(api, user, email_code):
    token = reset_token(api, EMAIL)
    code = email_code()

    response = new_code(api, token)

    assert_error(response, 429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 60
    assert len(mail.outbox) == 1
    assert confirm(api, token, code).status_code == 200  # the current code still works


def test_new_code_replaces_the_old_one(api, user, settings, next_codes):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    next_codes("111111", "222222")
    token = reset_token(api, EMAIL)

    response = new_code(api, token)

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"detail", "retry_after"}
    assert [m.to for m in mail.outbox] == [[EMAIL], [EMAIL]]
    assert "222222" in mail.outbox[-1].body
    assert_error(confirm(api, token, "111111"), 400, "code_invalid")
    assert confirm(api, token, "222222").status_code == 200


def test_new_code_answers_with_the_next_cooldown(api, user, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 1
    token = reset_token(api, EMAIL)
    time.sleep(1.1)

    response = new_code(api, token)

    assert response.status_code == 200, response.content
    assert response.json()["retry_after"] == 1


def test_new_code_goes_by_sms_when_the_request_did(api, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    UserFactory(username="jane", email=EMAIL, phone_number=PHONE)
    token = reset_token(api, PHONE)

    assert new_code(api, token).status_code == 200

    assert [m["to"] for m in LocmemSms.outbox] == [PHONE, PHONE]
    assert mail.outbox == []


def test_new_code_gives_fresh_attempts_after_the_old_code_was_exhausted(api, user, settings, next_codes):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    next_codes("111111", "222222")
    token = reset_token(api, EMAIL)
    for _ in range(6):
        confirm(api, token, "333333")

    new_code(api, token)

    assert confirm(api, token, "222222").status_code == 200


def test_new_code_is_limited_per_account(api, user, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "resend_account": "2/h"}
    token = reset_token(api, EMAIL)

    answers = [new_code(api, token).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


# --- rate limits -------------------------------------------------------------------------------


def test_requests_are_limited_per_client_address(api, rates):
    rates(password_reset_ip="2/h")

    answers = [reset_request(api, f"someone{i}@example.com").status_code for i in range(3)]
    elsewhere = reset_request(api, "someone@example.com", REMOTE_ADDR="198.51.100.7")

    assert answers == [202, 202, 429]
    assert elsewhere.status_code == 202


def test_requests_are_limited_per_network(api, rates):
    rates(password_reset_network="2/h")

    answers = [
        reset_request(api, f"someone{i}@example.com", REMOTE_ADDR=f"203.0.113.{i + 1}").status_code for i in range(3)
    ]
    other_network = reset_request(api, "someone@example.com", REMOTE_ADDR="203.0.114.1")

    assert answers == [202, 202, 429]
    assert other_network.status_code == 202


def test_requests_are_limited_per_identifier_whatever_its_spelling_or_the_address(api, user, rates):
    rates(password_reset_identifier="2/h")

    first = reset_request(api, EMAIL, REMOTE_ADDR="198.51.100.1")
    second = reset_request(api, "Jane@Example.com", REMOTE_ADDR="198.51.100.2")
    third = reset_request(api, "JANE@EXAMPLE.COM", REMOTE_ADDR="192.0.2.3")
    other = reset_request(api, "someone@example.com", REMOTE_ADDR="192.0.2.3")

    assert (first.status_code, second.status_code) == (202, 202)
    body = assert_error(third, 429, "rate_limited")
    assert body["fields"] == {}
    assert int(third["Retry-After"]) > 0
    assert other.status_code == 202
    assert [m.to for m in mail.outbox] == [[EMAIL]]  # the second request fell in the first code's cooldown


def test_an_unknown_identifier_is_limited_like_an_account(api, user, rates):
    rates(password_reset_identifier="1/h")

    for identifier in (EMAIL, "nobody@example.com"):
        assert reset_request(api, identifier).status_code == 202
        again = reset_request(api, identifier)
        assert_error(again, 429, "rate_limited")


def test_confirm_guesses_are_limited_per_client_address(api, user, rates):
    rates(verify_ip="3/h")
    token = reset_token(api, EMAIL)

    answers = [confirm(api, token, "000000").status_code for _ in range(4)]

    assert answers == [400, 400, 400, 429]


# --- the SMS guard -----------------------------------------------------------------------------


def test_a_number_of_a_country_not_allowed_is_refused_for_an_account_and_for_nobody_alike(api, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA"]
    PhoneUserFactory(phone_number="+447400123456")

    for_account = reset_request(api, "+447400123456")
    for_nobody = reset_request(api, "+447400123457")

    assert_error(for_account, 400, "sms_unavailable", fields=("email_phone_number",))
    assert (for_account.status_code, for_account.content) == (for_nobody.status_code, for_nobody.content)
    assert LocmemSms.outbox == []
    assert not Delivery.objects.exists()


def test_a_number_that_cannot_receive_sms_is_refused(api):
    response = reset_request(api, "+18005550100")  # toll-free

    assert_error(response, 400, "sms_unavailable")


def test_requests_for_unknown_numbers_count_against_the_sms_limits_like_accounts(api, rates, phone_user):
    rates(sms_network_hour="2/h")

    answers = [reset_request(api, number).status_code for number in (PHONE, "+13105550100", "+14155550100")]

    assert answers == [202, 202, 400]


def test_a_second_request_within_the_cooldown_sends_nothing_and_the_first_code_still_works(api, user, email_code):
    first = reset_token(api, EMAIL)
    code = email_code()

    second = reset_token(api, EMAIL)

    assert len(mail.outbox) == 1
    assert confirm(api, second, code).status_code == 200  # one code per account, whichever token
    assert_error(confirm(api, first, code), 400, "code_expired")


def test_a_second_request_after_the_cooldown_sends_a_code_that_replaces_the_first(api, user, settings, next_codes):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    next_codes("111111", "222222")
    reset_token(api, EMAIL)

    token = reset_token(api, EMAIL)

    assert len(mail.outbox) == 2
    assert_error(confirm(api, token, "111111"), 400, "code_invalid")
    assert confirm(api, token, "222222").status_code == 200


# --- the SMS challenge -------------------------------------------------------------------------


@pytest.fixture
def challenge_due(settings, fake_siteverify):
    settings.SMS_CHALLENGE_AFTER_SHARE = 0  # always due
    return fake_siteverify


def test_with_the_challenge_due_a_request_by_phone_needs_one_for_an_account_and_for_nobody_alike(
    api, phone_user, challenge_due
):
    for_account = reset_request(api, PHONE)
    for_nobody = reset_request(api, "+13105550100")
    passed = api.post("/user/password-reset/", {"email_phone_number": PHONE, "challenge": challenge_due.token()})

    assert_error(for_account, 400, "challenge_required", fields=("challenge",))
    assert (for_account.status_code, for_account.content) == (for_nobody.status_code, for_nobody.content)
    assert passed.status_code == 202, passed.content
    assert [m["to"] for m in LocmemSms.outbox] == [PHONE]


def test_with_the_challenge_due_a_new_code_by_sms_takes_it_in_a_header(api, phone_user, challenge_due, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = api.post("/user/password-reset/", {"email_phone_number": PHONE, "challenge": challenge_due.token()})
    token = token.json()["access"]

    without = new_code(api, token)
    passed = api.bearer(token).get("/user/password-reset/new-code/", HTTP_X_CHALLENGE=challenge_due.token())

    assert_error(without, 400, "challenge_required")
    assert passed.status_code == 200, passed.content
    assert [m["to"] for m in LocmemSms.outbox] == [PHONE, PHONE]


def test_a_request_by_e_mail_never_needs_the_challenge(api, user, challenge_due):
    assert reset_request(api, EMAIL).status_code == 202
    assert challenge_due.requests == []


def test_a_new_code_by_phone_passes_the_sms_guard_for_a_decoy_as_for_an_account(api, rates, settings, phone_user):
    # The reset token carries the number named, sealed: a decoy's new code is refused exactly when
    # an account's is, so the guard cannot tell them apart.
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    tokens = {"account": reset_token(api, PHONE), "nobody": reset_token(api, "+13105550100")}
    rates(sms_network_hour="2/h")  # both requests spent it

    answers = {name: api.bearer(token).get("/user/password-reset/new-code/") for name, token in tokens.items()}

    for response in answers.values():
        assert_error(response, 400, "sms_unavailable")
    assert answers["account"].json() == answers["nobody"].json()


def test_a_reset_token_without_its_sealed_identifier_is_refused_for_a_new_code(api, user):
    token = PasswordResetToken(reset_token(api, EMAIL))
    del token.payload["to"]

    assert_error(api.bearer(str(token)).get("/user/password-reset/new-code/"), 401, "token_not_valid")
