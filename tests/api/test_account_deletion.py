"""DELETE /user/me/ (users/services/deletion.py): proven by the password, or by a login code for an
account without one. The row goes (personal data, sessions, sign-up decoys with it), the delivery
records are anonymised, every token dies, and the identifier can sign up again like anyone's."""

import re
import uuid

import pytest
from django.core import mail

from notifications.models import Delivery
from notifications.services import ANONYMOUS_SUBJECT
from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PASSWORD, PhoneUserFactory, UserFactory
from users.models import AuthStatus, Session, SignupDecoy, User

DIGITS = re.compile(r"\b(\d{6})\b")


def delete_me(api, access: str, **data):
    return api.bearer(access).delete("/user/me/", data)


def login(api, user_input: str = "jane", password: str = PASSWORD) -> dict:
    response = api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def refresh_with(api, refresh: str):
    return api.bearer(None).post("/user/login-refresh/", {"refresh": refresh})


@pytest.fixture
def account(api, signup, verify, email_code, change_info) -> dict:
    """jane, signed up through the API (so her deliveries exist), then named again in a sign-up by
    a stranger (so a sign-up decoy and its notice exist); returns her sign-up token and the pks."""
    token = signup(EMAIL)
    verified = verify(token, email_code()).json()["access"]
    finished = change_info(verified, username="jane", password=PASSWORD, confirm_password=PASSWORD)
    assert finished.status_code == 200, finished.content
    signup(EMAIL)  # a stranger: jane gets a notice, the stranger a decoy
    user = User.objects.get(email=EMAIL)
    assert SignupDecoy.objects.filter(owner=user).count() == 1
    return {"signup_token": token, "user": user}


def test_deleting_with_the_password_erases_the_account(api, account):
    user = account["user"]
    laptop, phone = login(api), login(api, EMAIL)
    decoy = SignupDecoy.objects.get(owner=user)
    subjects = {user.pk, decoy.pk}
    mine = set(Delivery.objects.filter(subject__in=subjects).values_list("pk", flat=True))
    assert len(mine) >= 2  # the code of her sign-up and the notice of the stranger's
    UserFactory(username="bystander", email="bystander@example.com")
    signup_of_another = api.post("/user/signup/", {"email_phone_number": "other@example.com"})
    assert signup_of_another.status_code == 201
    others = list(Delivery.objects.exclude(pk__in=mine).values("pk", "subject", "recipient_masked"))

    response = delete_me(api, laptop["access"], password=PASSWORD)

    assert response.status_code == 204, response.content
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Session.objects.filter(user_id=user.pk).exists()
    assert not SignupDecoy.objects.filter(pk=decoy.pk).exists()
    for tokens in (laptop, phone):
        assert_error(api.bearer(tokens["access"]).get("/user/me/"), 401, "token_not_valid")
        assert_error(refresh_with(api, tokens["refresh"]), 401, "token_not_valid")
    anonymised = Delivery.objects.filter(pk__in=mine)
    assert anonymised.count() == len(mine)  # kept, for the counts, but pointing at nobody
    assert set(anonymised.values_list("subject", "recipient_masked", "provider_message_id", "last_error")) == {
        (uuid.UUID(int=0), "", "", "")
    }
    assert not Delivery.objects.filter(subject__in=subjects).exists()
    assert list(Delivery.objects.exclude(pk__in=mine).values("pk", "subject", "recipient_masked")) == others
    assert_error(
        api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}), 401, "invalid_credentials"
    )


def test_a_wrong_password_deletes_nothing(api, account):
    user = account["user"]
    tokens = login(api)
    deliveries = list(Delivery.objects.order_by("pk").values())

    response = delete_me(api, tokens["access"], password="not-the-password")

    assert_error(response, 400, "invalid", fields=("password",))
    assert User.objects.filter(pk=user.pk).exists()
    assert SignupDecoy.objects.filter(owner=user).exists()
    assert list(Delivery.objects.order_by("pk").values()) == deliveries
    assert api.bearer(tokens["access"]).get("/user/me/").status_code == 200
    assert refresh_with(api, tokens["refresh"]).status_code == 200


@pytest.mark.parametrize("data", [{}, {"password": ""}, {"code": "123456"}], ids=["nothing", "blank", "a code"])
def test_an_account_with_a_password_must_give_it(api, user, tokens, data):
    assert_error(delete_me(api, tokens["access"], **data), 400, "invalid")

    assert User.objects.filter(pk=user.pk).exists()


def test_the_sign_up_token_of_a_deleted_account_opens_nothing(api, account):
    tokens = login(api)
    assert delete_me(api, tokens["access"], password=PASSWORD).status_code == 204

    for response in (
        api.bearer(account["signup_token"]).get("/user/delivery-status/"),
        api.bearer(account["signup_token"]).patch("/user/change-user-info/", {"bio": "x"}),
    ):
        assert_error(response, 401, "token_not_valid")
    # Verify reads no account for a code: the deletion took the address's code with it.
    assert_error(api.bearer(account["signup_token"]).post("/user/verify/", {"code": "123456"}), 400, "code_expired")


def test_signing_up_again_after_deletion_starts_a_new_account(api, account, signup, verify, email_code):
    old_id = account["user"].pk
    assert delete_me(api, login(api)["access"], password=PASSWORD).status_code == 204
    mail.outbox.clear()

    token = signup(EMAIL)

    fresh = User.objects.get(email=EMAIL)
    assert fresh.pk != old_id
    assert (fresh.auth_status, fresh.username, fresh.has_usable_password()) == (AuthStatus.NEW, None, False)
    (message,) = mail.outbox
    assert message.to == [EMAIL]
    assert DIGITS.search(message.body)  # a real code, not the notice a finished account's owner gets
    status = api.bearer(token).get("/user/delivery-status/").json()
    assert (status["status"], status["attempts"]) == ("sent", 1)  # its own record, none of the old ones
    assert verify(token, email_code()).status_code == 200
    assert User.objects.get(pk=fresh.pk).auth_status == AuthStatus.CODE_VERIFIED


# --- an account without a password ---------------------------------------------------------------


@pytest.fixture
def passwordless(db) -> User:
    user = PhoneUserFactory(username="phone_jane", phone_number=PHONE)
    user.set_unusable_password()
    user.auth_status = AuthStatus.DONE
    user.save()
    return user


def login_code(api, sms_code) -> str:
    """Ask for a login code for phone_jane and return it."""
    response = api.bearer(None).post("/user/login-code/", {"user_input": "phone_jane"})
    assert response.status_code == 202, response.content
    return sms_code()


def login_by_code(api, sms_code) -> dict:
    flow = api.bearer(None).post("/user/login-code/", {"user_input": "phone_jane"}).json()["access"]
    response = api.bearer(flow).post("/user/login-code/confirm/", {"code": sms_code()})
    assert response.status_code == 200, response.content
    return response.json()


def test_an_account_without_a_password_is_deleted_with_a_login_code(api, settings, passwordless, sms_code):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    tokens = login_by_code(api, sms_code)
    code = login_code(api, sms_code)

    response = delete_me(api, tokens["access"], code=code)

    assert response.status_code == 204, response.content
    assert not User.objects.filter(pk=passwordless.pk).exists()
    assert_error(api.bearer(tokens["access"]).get("/user/me/"), 401, "token_not_valid")
    assert not Delivery.objects.filter(subject=passwordless.pk).exists()
    assert Delivery.objects.filter(subject=ANONYMOUS_SUBJECT, recipient_masked="").count() == 2


def test_an_account_without_a_password_needs_the_code(api, settings, passwordless, sms_code):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    tokens = login_by_code(api, sms_code)

    assert_error(delete_me(api, tokens["access"], password=PASSWORD), 400, "invalid", fields=("code",))
    assert_error(delete_me(api, tokens["access"]), 400, "invalid", fields=("code",))
    code = login_code(api, sms_code)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_error(delete_me(api, tokens["access"], code=wrong), 400, "code_invalid", fields=("code",))
    assert User.objects.filter(pk=passwordless.pk).exists()
    assert api.bearer(tokens["access"]).get("/user/me/").status_code == 200

    assert delete_me(api, tokens["access"], code=code).status_code == 204


def test_a_used_login_code_does_not_delete(api, passwordless, sms_code):
    flow = api.bearer(None).post("/user/login-code/", {"user_input": "phone_jane"}).json()["access"]
    code = sms_code()
    tokens = api.bearer(flow).post("/user/login-code/confirm/", {"code": code}).json()

    assert_error(delete_me(api, tokens["access"], code=code), 400, "code_expired")
    assert User.objects.filter(pk=passwordless.pk).exists()
