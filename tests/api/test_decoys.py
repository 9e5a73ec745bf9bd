"""Decoys per identifier typed: an account with both an e-mail address and a phone number must not
be linkable through its decoys, and a decoy's resend goes where its sign-up went."""

import re

import pytest
from django.core import mail

from notifications.channels import LocmemSms
from tests.api.conftest import EMAIL, PHONE
from tests.factories import PhoneUserFactory
from users.tokens import SignupToken


@pytest.fixture(autouse=True)
def _no_limits(settings):
    settings.RATE_LIMITS = {name: "" for name in settings.RATE_LIMITS}


@pytest.fixture
def owner(db):
    return PhoneUserFactory(username="jane", email=EMAIL, phone_number=PHONE)


def signup(api, identifier: str) -> str:
    response = api.bearer(None).post("/user/signup/", {"email_phone_number": identifier})
    assert response.status_code == 201, response.content
    return response.json()["access"]


def test_two_identifiers_of_one_account_get_different_decoys(api, owner):
    by_email = SignupToken(signup(api, EMAIL))["user_id"]
    by_phone = SignupToken(signup(api, PHONE))["user_id"]

    assert by_email != by_phone


def test_each_decoy_reports_the_channel_of_the_identifier_typed(api, owner):
    signup(api, EMAIL)
    phone_token = signup(api, PHONE)

    status = api.bearer(phone_token).get("/user/delivery-status/").json()

    assert status["channel"] == "sms"
    assert status["recipient"] == "+1******0143"
    assert [sms["to"] for sms in LocmemSms.outbox] == [PHONE]


def test_a_decoy_resend_notifies_the_identifier_the_sign_up_used(api, owner, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = signup(api, PHONE)
    mail.outbox.clear()
    LocmemSms.outbox.clear()

    assert api.bearer(token).get("/user/new-verify/").status_code == 200

    assert mail.outbox == []
    assert [sms["to"] for sms in LocmemSms.outbox] == [PHONE]
    assert not re.search(r"\b\d{6}\b", LocmemSms.outbox[0]["body"])


def test_a_sign_up_token_whose_pending_account_was_removed_opens_nothing(api, next_codes):
    next_codes("123456")
    token = signup(api, "gone@example.com")
    from users.models import User

    User.objects.all().delete()  # the abandoned sign-up was cleaned up

    for response in (api.bearer(token).get("/user/delivery-status/"), api.bearer(token).get("/user/new-verify/")):
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"
    # Verify reads nothing for a code: even the right one finds no sign-up to verify.
    verify = api.bearer(token).post("/user/verify/", {"code": "123456"})
    assert verify.status_code == 400
    assert verify.json()["code"] == "code_invalid"


# --- durable as a pending account ------------------------------------------------------------------


def _age_everything(*, hours: int) -> None:
    """Every pending account and decoy was last taken up ``hours`` ago."""
    from datetime import timedelta

    from django.utils import timezone

    from users.models import SignupDecoy, User

    then = timezone.now() - timedelta(hours=hours)
    User.objects.exclude(auth_status="done").update(date_joined=then)
    SignupDecoy.objects.update(renewed_at=then)


def _answer(api, token: str) -> int:
    """How a sign-up token is received where its subject is read (the delivery status)."""
    return api.bearer(token).get("/user/delivery-status/").status_code


def test_a_decoy_is_renewed_by_a_new_sign_up_exactly_like_a_pending_account(api, owner, settings):
    from users.services.signup import signups_remove_abandoned

    settings.SIGNUP_ABANDON_HOURS = 72
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    decoy, pending = signup(api, EMAIL), signup(api, "newcomer@example.com")
    _age_everything(hours=50)
    signup(api, EMAIL), signup(api, "newcomer@example.com")  # both taken up again: renewed
    _age_everything(hours=30)  # 80 hours after the first sign-up, 30 after the renewal

    signups_remove_abandoned()

    assert _answer(api, decoy) == _answer(api, pending) == 200  # both still a live sign-up


def test_an_abandoned_decoy_goes_with_the_abandoned_sign_ups(api, owner, settings):
    from users.services.signup import signups_remove_abandoned

    settings.SIGNUP_ABANDON_HOURS = 72
    decoy, pending = signup(api, EMAIL), signup(api, "newcomer@example.com")
    _age_everything(hours=73)

    signups_remove_abandoned()

    assert _answer(api, decoy) == _answer(api, pending) == 401  # both gone, alike


def test_a_decoy_survives_a_flush_of_the_cache(api, owner):
    from django_redis import get_redis_connection

    decoy = signup(api, EMAIL)
    get_redis_connection("default").flushdb()

    assert _answer(api, decoy) == 200
