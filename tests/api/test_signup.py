"""POST /user/signup/: start a sign-up with an e-mail address or a phone number."""

import re

import pytest
from django.core import mail

from notifications.channels import LocmemSms
from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PASSWORD, PhoneUserFactory, UserFactory
from users.models import AuthStatus, AuthType, User
from users.tokens import STAGE_NEW, SignupToken

SIX_DIGITS = re.compile(r"\b\d{6}\b")


def test_signup_by_email_creates_pending_account_and_mails_a_code(api):
    response = api.post("/user/signup/", {"email_phone_number": "Jane@Example.COM"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"access", "auth_type", "auth_status"}
    assert body["auth_type"] == "via_email"
    assert body["auth_status"] == "new"
    user = User.objects.get()
    assert user.email == "jane@example.com"
    assert user.auth_type == AuthType.EMAIL
    assert user.auth_status == AuthStatus.NEW
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jane@example.com"]
    assert SIX_DIGITS.search(mail.outbox[0].body)
    assert LocmemSms.outbox == []


def test_signup_token_is_scoped_to_the_new_account(api):
    response = api.post("/user/signup/", {"email_phone_number": EMAIL})

    token = SignupToken(response.json()["access"])
    assert token["user_id"] == str(User.objects.get().id)
    assert token["stage"] == STAGE_NEW
    assert token["token_type"] == "signup"


@pytest.mark.parametrize("typed", ["+1 202-555-0143", "(202) 555-0143", "+12025550143"])
def test_signup_by_phone_stores_e164_and_texts_a_code(api, settings, typed):
    settings.DEFAULT_PHONE_REGION = "US"

    response = api.post("/user/signup/", {"email_phone_number": typed})

    assert response.status_code == 201, response.content
    assert response.json()["auth_type"] == "via_phone"
    assert response.json()["auth_status"] == "new"
    user = User.objects.get()
    assert user.phone_number == PHONE
    assert user.email is None
    assert user.auth_type == AuthType.PHONE
    assert len(LocmemSms.outbox) == 1
    assert LocmemSms.outbox[0]["to"] == PHONE
    assert SIX_DIGITS.search(LocmemSms.outbox[0]["body"])
    assert mail.outbox == []


@pytest.mark.parametrize("typed", ["not-an-identifier", "jane@", "12345", "+1 202 555 014", "", "   "])
def test_signup_refuses_what_is_neither_email_nor_phone(api, typed):
    response = api.post("/user/signup/", {"email_phone_number": typed})

    assert_error(response, 400, "invalid", fields=("email_phone_number",))
    assert not User.objects.exists()
    assert mail.outbox == []
    assert LocmemSms.outbox == []


def test_signup_requires_the_identifier(api):
    response = api.post("/user/signup/", {"email": EMAIL})

    body = assert_error(response, 400, "invalid", fields=("email_phone_number",))
    assert body["fields"]["email_phone_number"] == ["This field is required."]


@pytest.mark.parametrize("value", [True, None, ["jane@example.com"], {"email": "jane@example.com"}])
def test_signup_refuses_an_identifier_that_is_not_a_string(api, value):
    response = api.post("/user/signup/", {"email_phone_number": value})

    assert_error(response, 400, "invalid", fields=("email_phone_number",))
    assert not User.objects.exists()


def test_signup_refuses_an_identifier_longer_than_254_characters(api):
    response = api.post("/user/signup/", {"email_phone_number": "a" * 250 + "@example.com"})

    assert_error(response, 400, "invalid", fields=("email_phone_number",))


def test_resignup_reuses_the_pending_account(api, settings, signup):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    first = SignupToken(signup("jane@example.com"))

    second = SignupToken(signup("JANE@example.com"))

    assert User.objects.count() == 1
    assert first["user_id"] == second["user_id"] == str(User.objects.get().id)
    assert len(mail.outbox) == 2  # no cooldown: a fresh code each time


def test_resignup_by_phone_in_another_format_reuses_the_pending_account(settings, signup):
    settings.DEFAULT_PHONE_REGION = "US"
    first = SignupToken(signup("+1 202-555-0143"))

    second = SignupToken(signup("(202) 555-0143"))

    assert User.objects.count() == 1
    assert first["user_id"] == second["user_id"]


def test_resignup_within_cooldown_sends_no_second_message(signup, verify, email_code):
    signup()
    code = email_code()

    token = signup()

    assert len(mail.outbox) == 1
    assert verify(token, code).status_code == 200  # the code already sent still works


@pytest.mark.parametrize(
    ("factory", "typed", "typed_kind"),
    [
        (lambda: UserFactory(email="done@example.com"), "DONE@example.com", "via_email"),
        (lambda: PhoneUserFactory(phone_number=PHONE), "(202) 555-0143", "via_phone"),
    ],
    ids=["email", "phone"],
)
def test_signup_for_finished_account_looks_the_same_but_sends_a_notice(api, factory, typed, typed_kind):
    existing = factory()
    new = api.post("/user/signup/", {"email_phone_number": "someone.new@example.com"})
    mail.outbox.clear()

    response = api.post("/user/signup/", {"email_phone_number": typed})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == set(new.json())
    assert body["auth_type"] == typed_kind
    assert body["auth_status"] == "new"
    assert User.objects.count() == 2  # nothing created for the finished account
    sent = [m.body for m in mail.outbox] + [m["body"] for m in LocmemSms.outbox]
    assert len(sent) == 1
    assert "already have an account" in sent[0]
    assert not SIX_DIGITS.search(sent[0])
    existing.refresh_from_db()
    assert existing.auth_status == AuthStatus.DONE
    assert SignupToken(body["access"])["user_id"] != str(existing.id)


def test_finished_account_signup_token_can_never_verify(api, next_codes, verify):
    UserFactory(email="done@example.com")
    next_codes("123456")  # the code issued for the decoy is known to the test, not to the caller
    token = api.post("/user/signup/", {"email_phone_number": "done@example.com"}).json()["access"]

    response = verify(token, "123456")

    assert_error(response, 400, "code_invalid", fields=("code",))


def test_finished_account_signup_token_can_never_change_user_info(api, change_info):
    existing = UserFactory(email="done@example.com", username="done")
    token = api.post("/user/signup/", {"email_phone_number": "done@example.com"}).json()["access"]

    response = change_info(token, username="hijack", password="An0ther-Secret!", confirm_password="An0ther-Secret!")

    assert_error(response, 403, "verification_required")
    existing.refresh_from_db()
    assert existing.username == "done"
    assert existing.check_password(PASSWORD)


def test_repeated_signup_for_finished_account_sends_one_notice_per_cooldown(api):
    UserFactory(email="done@example.com")

    for _ in range(3):
        assert api.post("/user/signup/", {"email_phone_number": "done@example.com"}).status_code == 201

    assert len(mail.outbox) == 1


def test_signup_with_a_long_but_valid_domain_is_recorded_masked(api):
    address = f"jane@mail.{'a' * 60}.{'b' * 60}.co.uk"

    response = api.post("/user/signup/", {"email_phone_number": address})

    assert response.status_code == 201, response.content
    from notifications.models import Delivery

    assert Delivery.objects.get().recipient_masked == f"j***@mail.{'a' * 60}.{'b' * 60}.co.uk"


def test_signup_with_the_longest_valid_address_is_not_a_server_error(api):
    domain = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 56, "com"])  # 252 characters
    address = f"x@{domain}"
    assert len(address) == 254

    response = api.post("/user/signup/", {"email_phone_number": address})

    assert response.status_code == 201, response.content


def test_signing_up_again_restarts_the_abandonment_clock(api, settings):
    from datetime import timedelta

    from django.utils import timezone

    from users.services.signup import signups_remove_abandoned

    settings.SIGNUP_ABANDON_HOURS = 72
    api.post("/user/signup/", {"email_phone_number": "late@example.com"})
    User.objects.update(date_joined=timezone.now() - timedelta(hours=73))

    api.post("/user/signup/", {"email_phone_number": "late@example.com"})  # the person comes back
    signups_remove_abandoned()

    assert User.objects.filter(email="late@example.com").exists()


FULL_WIDTH_EXAMPLE = "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45"  # "example" in full-width letters
U_LABEL = "\u00fc" * 57  # 63 characters once encoded, the most a label may have


@pytest.mark.parametrize(
    "again",
    [f"casep@{FULL_WIDTH_EXAMPLE}.com", "casep\uff20example.com", "\uff43asep@example.com", "CASEP@example.com."],
)
def test_another_spelling_of_the_address_reuses_the_pending_account_and_mails_the_canonical_address(
    api, settings, signup, again
):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    first = SignupToken(signup("casep@example.com"))

    second = SignupToken(signup(again))

    assert User.objects.count() == 1
    assert first["user_id"] == second["user_id"]
    assert [m.to for m in mail.outbox] == [["casep@example.com"], ["casep@example.com"]]


def test_another_spelling_of_a_finished_account_address_gets_the_notice(api):
    UserFactory(email="casep@example.com")

    response = api.post("/user/signup/", {"email_phone_number": f"casep@{FULL_WIDTH_EXAMPLE}.com"})

    assert response.status_code == 201, response.content
    assert User.objects.count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["casep@example.com"]
    assert "already have an account" in mail.outbox[0].body


def test_signup_with_an_international_domain_stores_and_mails_its_ascii_form(api):
    response = api.post("/user/signup/", {"email_phone_number": "Jane@B\u00fccher.example"})

    assert response.status_code == 201, response.content
    assert User.objects.get().email == "jane@xn--bcher-kva.example"
    assert mail.outbox[0].to == ["jane@xn--bcher-kva.example"]


@pytest.mark.parametrize(
    "typed",
    [
        "jane@\u2603.com",  # not allowed by IDNA 2008
        "jane@xn--zz.com",  # an A-label that does not decode
        "jane@exa\u200dmple.com",  # a joiner out of context
        "jane@ab--c.com",
        "ex\u0131st@example.com",  # a dotless i: not an ASCII mailbox
        f"{'x' * 64}@{U_LABEL}.{U_LABEL}.{U_LABEL}.com",  # 242 typed, 260 once the domain is encoded
    ],
)
def test_signup_refuses_an_address_without_a_canonical_form_with_400(api, typed):
    response = api.post("/user/signup/", {"email_phone_number": typed})

    assert_error(response, 400, "invalid", fields=("email_phone_number",))
    assert not User.objects.exists()
    assert mail.outbox == []
