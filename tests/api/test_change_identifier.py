"""POST /user/change-identifier/ and /user/change-identifier/confirm/: a new e-mail address or phone
number, proven by a code sent to it, with a notice to the old one. An identifier that belongs to
someone else answers exactly like a free one, its owner gets a notice, and it never confirms."""

import re
import time

import pytest
from django.core import mail

from notifications.channels import LocmemSms
from notifications.models import Delivery
from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PASSWORD, PhoneUserFactory, UserFactory
from users.models import User

NEW_EMAIL = "jane.new@example.com"
NEW_PHONE = "+12025550199"
TAKEN_EMAIL = "mallory@example.com"
DIGITS = re.compile(r"\d{6}")


def change(api, access: str | None, identifier: str, password: str = PASSWORD):
    return api.bearer(access).post("/user/change-identifier/", {"email_phone_number": identifier, "password": password})


def confirm(api, access: str | None, code):
    return api.bearer(access).post("/user/change-identifier/confirm/", {"code": code})


def login_status(api, user_input: str) -> int:
    return api.bearer(None).post("/user/login/", {"user_input": user_input, "password": PASSWORD}).status_code


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def sms_to(number: str) -> list[dict]:
    return [message for message in LocmemSms.outbox if message["to"] == number]


def assert_no_code(text: str, *codes: str) -> None:
    assert not DIGITS.search(text), text
    for code in codes:
        assert code not in text


@pytest.fixture
def owner(db):
    """Another finished account, holding TAKEN_EMAIL and a phone number."""
    return UserFactory(username="mallory", email=TAKEN_EMAIL, phone_number="+12025550177")


# --- the request -----------------------------------------------------------------------------


def test_a_request_sends_a_code_to_the_new_address_and_a_notice_to_the_old_one(api, settings, user, tokens):
    response = change(api, tokens["access"], NEW_EMAIL)

    assert response.status_code == 202, response.content
    assert response.json() == {
        "detail": "A code has been sent to the new address or number.",
        "retry_after": settings.VERIFICATION_RESEND_COOLDOWN,
    }
    (code_message,) = emails_to(NEW_EMAIL)
    code = DIGITS.search(code_message.body).group()
    (notice,) = emails_to(EMAIL)
    assert_no_code(notice.subject + notice.body, code)
    assert "no longer work for logging in" in notice.body
    assert len(mail.outbox) == 2
    user.refresh_from_db()
    assert user.email == EMAIL  # nothing changes before the code is confirmed


def test_the_request_with_a_wrong_password_is_refused_and_sends_nothing(api, user, tokens):
    response = change(api, tokens["access"], NEW_EMAIL, password="not-the-password")

    assert_error(response, 400, "invalid", fields=("password",))
    assert mail.outbox == []
    user.refresh_from_db()
    assert (user.email, user.pending_identifier) == (EMAIL, None)


@pytest.mark.parametrize("spelling", [EMAIL, "JANE@Example.com", " jane@example.com "])
def test_changing_to_the_current_address_is_refused(api, user, tokens, spelling):
    response = change(api, tokens["access"], spelling)

    assert_error(response, 400, "invalid", fields=("email_phone_number",))
    assert mail.outbox == []


def test_changing_to_the_current_number_is_refused(api, login):
    PhoneUserFactory(username="phone_jane", phone_number=PHONE)
    access = login("phone_jane")["access"]

    assert_error(change(api, access, "(202) 555-0143"), 400, "invalid", fields=("email_phone_number",))
    assert LocmemSms.outbox == []


def test_a_second_request_within_the_cooldown_is_a_429(api, user, tokens):
    assert change(api, tokens["access"], NEW_EMAIL).status_code == 202

    response = change(api, tokens["access"], "third@example.com")

    assert_error(response, 429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 60
    assert emails_to("third@example.com") == []


def test_a_request_refused_by_the_cooldown_leaves_the_pending_change_alone(api, user, tokens, next_codes):
    # The code went to NEW_EMAIL: it must confirm NEW_EMAIL, not an address named afterwards
    # that no code ever reached.
    next_codes("111111", "222222")
    assert change(api, tokens["access"], NEW_EMAIL).status_code == 202
    assert change(api, tokens["access"], "unproven@example.com").status_code == 429

    response = confirm(api, tokens["access"], "111111")

    assert response.status_code == 200, response.content
    assert response.json()["email"] == NEW_EMAIL
    assert not User.objects.filter(email="unproven@example.com").exists()


def test_the_request_needs_an_access_token(api, user, signup):
    assert_error(change(api, None, NEW_EMAIL), 401, "not_authenticated")
    assert_error(change(api, signup("someone@example.com"), NEW_EMAIL), 401, "token_not_valid")


# --- the confirmation --------------------------------------------------------------------------


def test_confirming_makes_the_new_address_the_accounts_and_the_old_one_stops_working(api, user, tokens):
    assert change(api, tokens["access"], NEW_EMAIL).status_code == 202
    code = DIGITS.search(emails_to(NEW_EMAIL)[0].body).group()
    assert login_status(api, EMAIL) == 200  # the old address works until the confirmation

    response = confirm(api, tokens["access"], code)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["username"], body["email"]) == (str(user.id), "jane", NEW_EMAIL)
    user.refresh_from_db()
    assert (user.email, user.pending_identifier, user.pending_identifier_kind) == (NEW_EMAIL, None, "")
    assert_error(
        api.bearer(None).post("/user/login/", {"user_input": EMAIL, "password": PASSWORD}), 401, "invalid_credentials"
    )
    assert login_status(api, NEW_EMAIL) == 200
    assert login_status(api, "jane") == 200
    assert api.bearer(tokens["access"]).get("/user/me/").json()["email"] == NEW_EMAIL  # the session goes on


def test_confirm_refuses_a_wrong_code_and_still_takes_the_right_one(api, user, tokens, next_codes):
    next_codes("314159")
    change(api, tokens["access"], NEW_EMAIL)

    body = assert_error(confirm(api, tokens["access"], "000000"), 400, "code_invalid", fields=("code",))

    assert "code" in body["fields"]
    user.refresh_from_db()
    assert user.email == EMAIL
    assert confirm(api, tokens["access"], "314159").status_code == 200


def test_confirm_refuses_an_expired_code(api, settings, user, tokens, next_codes):
    settings.VERIFICATION_CODE_TTL = 1
    next_codes("314159")
    change(api, tokens["access"], NEW_EMAIL)

    time.sleep(1.1)

    assert_error(confirm(api, tokens["access"], "314159"), 400, "code_expired", fields=("code",))
    user.refresh_from_db()
    assert user.email == EMAIL


def test_confirm_refuses_a_code_used_once_already(api, user, tokens, next_codes):
    next_codes("314159")
    change(api, tokens["access"], NEW_EMAIL)
    assert confirm(api, tokens["access"], "314159").status_code == 200

    assert_error(confirm(api, tokens["access"], "314159"), 400, "code_expired")


def test_confirm_without_a_request_is_refused(api, user, tokens):
    assert_error(confirm(api, tokens["access"], "123456"), 400, "code_expired", fields=("code",))


def test_confirm_gives_up_after_five_wrong_codes(api, user, tokens, next_codes):
    next_codes("314159")
    change(api, tokens["access"], NEW_EMAIL)
    for _ in range(5):
        assert_error(confirm(api, tokens["access"], "000000"), 400, "code_invalid")

    assert_error(confirm(api, tokens["access"], "314159"), 400, "code_attempts_exceeded")
    user.refresh_from_db()
    assert user.email == EMAIL


def test_a_code_confirms_only_the_identifier_it_was_sent_to(api, user, tokens, next_codes):
    next_codes("314159")
    change(api, tokens["access"], NEW_EMAIL)
    # Whatever writes another pending identifier afterwards (a request racing this one), the code
    # that reached NEW_EMAIL proves NEW_EMAIL only.
    User.objects.filter(pk=user.pk).update(pending_identifier="unproven@example.com")

    assert_error(confirm(api, tokens["access"], "314159"), 400, "code_invalid")
    user.refresh_from_db()
    assert user.email == EMAIL


def test_the_code_of_one_account_does_not_confirm_for_another(api, user, tokens, next_codes, login):
    UserFactory(username="other")
    other = login("other")
    next_codes("314159", "271828")
    change(api, tokens["access"], NEW_EMAIL)
    change(api, other["access"], "other.new@example.com")

    assert_error(confirm(api, other["access"], "314159"), 400, "code_invalid")
    assert confirm(api, tokens["access"], "314159").json()["email"] == NEW_EMAIL


def test_an_address_taken_between_request_and_confirm_is_not_confirmed(api, user, tokens, next_codes):
    next_codes("314159")
    change(api, tokens["access"], NEW_EMAIL)
    UserFactory(username="quick", email=NEW_EMAIL)

    assert_error(confirm(api, tokens["access"], "314159"), 400, "code_invalid")
    user.refresh_from_db()
    assert user.email == EMAIL
    assert User.objects.get(email=NEW_EMAIL).username == "quick"


# --- an identifier that belongs to someone else --------------------------------------------------


def _answer(response) -> tuple:
    # Every header with its value, but the request id's, which differs for every request alike.
    headers = sorted((name, "<id>" if name == "X-Request-ID" else value) for name, value in response.headers.items())
    return response.status_code, response.content, headers


def test_a_taken_address_answers_byte_for_byte_like_a_free_one(api, login, owner):
    UserFactory(username="jane", email=EMAIL)
    UserFactory(username="john", email="john@example.com")
    jane, john = login("jane"), login("john")

    free = change(api, jane["access"], NEW_EMAIL)
    taken = change(api, john["access"], TAKEN_EMAIL)

    assert free.status_code == 202
    assert _answer(taken) == _answer(free)
    # and again while the cooldown runs
    assert _answer(change(api, john["access"], TAKEN_EMAIL)) == _answer(change(api, jane["access"], NEW_EMAIL))


def test_a_taken_number_answers_byte_for_byte_like_a_free_one(api, login, owner):
    UserFactory(username="jane", email=EMAIL)
    UserFactory(username="john", email="john@example.com")
    jane, john = login("jane"), login("john")

    free = change(api, jane["access"], NEW_PHONE)
    taken = change(api, john["access"], owner.phone_number)

    assert free.status_code == 202
    assert _answer(taken) == _answer(free)
    (claim,) = sms_to(owner.phone_number)
    assert_no_code(claim["body"])
    assert "stays yours" in claim["body"]


def test_the_owner_of_a_taken_address_gets_a_notice_and_no_code(api, user, tokens, owner, next_codes):
    next_codes("314159")

    assert change(api, tokens["access"], TAKEN_EMAIL).status_code == 202

    (claim,) = emails_to(TAKEN_EMAIL)
    assert_no_code(claim.subject + claim.body, "314159")
    assert "stays yours" in claim.body
    (notice,) = emails_to(EMAIL)  # the requester's own address is told as for a free one
    assert_no_code(notice.subject + notice.body, "314159")
    assert len(mail.outbox) == 2
    assert Delivery.objects.filter(purpose="identifier_claim_notice").count() == 1


def test_a_taken_address_never_confirms_even_with_the_right_code(api, user, tokens, owner, next_codes):
    next_codes("314159")
    change(api, tokens["access"], TAKEN_EMAIL)

    assert_error(confirm(api, tokens["access"], "314159"), 400, "code_invalid", fields=("code",))

    user.refresh_from_db()
    owner.refresh_from_db()
    assert (user.email, owner.email) == (EMAIL, TAKEN_EMAIL)
    assert login_status(api, TAKEN_EMAIL) == 200  # still the owner's


def test_a_taken_number_never_confirms_even_with_the_right_code(api, user, tokens, owner, next_codes):
    next_codes("314159")
    change(api, tokens["access"], owner.phone_number)

    assert_error(confirm(api, tokens["access"], "314159"), 400, "code_invalid")

    user.refresh_from_db()
    assert user.phone_number is None
    assert User.objects.get(phone_number=owner.phone_number) == owner


# --- e-mail address and phone number ---------------------------------------------------------------


def test_the_address_then_the_number_change_and_only_the_new_ones_log_in(api, settings, user, tokens, next_codes):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    next_codes("111111", "222222", "333333")
    access = tokens["access"]

    assert change(api, access, NEW_EMAIL).status_code == 202
    assert confirm(api, access, "111111").json()["email"] == NEW_EMAIL

    # A number for an account that had none: the code by SMS, the notice to the address.
    assert change(api, access, "(202) 555-0199").status_code == 202
    (code_sms,) = sms_to(NEW_PHONE)
    assert "222222" in code_sms["body"]
    added = emails_to(NEW_EMAIL)[-1]
    assert_no_code(added.subject + added.body, "222222")
    assert confirm(api, access, "222222").json()["phone_number"] == NEW_PHONE

    # And a new number: the old one gets the notice by SMS.
    assert change(api, access, "+12025550188").status_code == 202
    (notice,) = sms_to(NEW_PHONE)[1:]
    assert_no_code(notice["body"], "333333")
    body = confirm(api, access, "333333").json()

    assert (body["email"], body["phone_number"], body["auth_type"]) == (NEW_EMAIL, "+12025550188", "via_email")
    assert [login_status(api, name) for name in (EMAIL, NEW_PHONE)] == [401, 401]
    assert [login_status(api, name) for name in (NEW_EMAIL, "+12025550188", "jane")] == [200, 200, 200]


def test_a_phone_account_moves_to_a_new_number(api, login, next_codes):
    PhoneUserFactory(username="phone_jane", phone_number=PHONE)
    access = login("phone_jane")["access"]
    next_codes("314159")

    assert change(api, access, NEW_PHONE).status_code == 202

    (notice,) = sms_to(PHONE)
    assert_no_code(notice["body"], "314159")
    assert "314159" in sms_to(NEW_PHONE)[0]["body"]
    assert confirm(api, access, "314159").json()["phone_number"] == NEW_PHONE
    assert login_status(api, PHONE) == 401
    assert login_status(api, NEW_PHONE) == 200
