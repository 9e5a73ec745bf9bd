"""GET /user/delivery-status/: the sign-up client reads how its latest code delivery went."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications.models import Delivery
from notifications.tasks import settle_unsent_deliveries
from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PendingUserFactory, UserFactory
from users.tokens import STAGE_NEW, SignupToken

FIELDS = {"channel", "recipient", "status", "attempts", "detail", "updated_at"}


@pytest.fixture
def status(api):
    def _status(token: str | None, **headers):
        return api.bearer(token).get("/user/delivery-status/", **headers)

    return _status


def test_shows_the_latest_delivery_of_the_sign_up(signup, status):
    token = signup(EMAIL)

    response = status(token)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert body["channel"] == "email"
    assert body["recipient"] == "j***@example.com"
    assert body["status"] == "sent"
    assert body["attempts"] == 1
    assert body["detail"] == "Your code was sent."
    assert EMAIL.encode() not in response.content


def test_needs_the_sign_up_token(status, db):
    response = status(None)

    assert_error(response, 401, "not_authenticated")


def test_refuses_an_access_token(status, tokens):
    response = status(tokens["access"])

    assert_error(response, 401, "token_not_valid")


def test_is_queued_until_the_worker_sends(signup, status, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # published to the test broker; no worker runs

    token = signup(PHONE)

    body = status(token).json()
    assert body["status"] == "queued"
    assert body["attempts"] == 0
    assert body["detail"] == "Sending your code."


def test_a_delivery_no_worker_took_shows_failed_once_its_code_expired(signup, status, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # published to the test broker; no worker takes it, as if lost
    token = signup(PHONE)
    late = settings.VERIFICATION_CODE_TTL + settings.CELERY_TASK_TIME_LIMIT + 61
    Delivery.objects.update(created_at=timezone.now() - timedelta(seconds=late))

    assert settle_unsent_deliveries() == 1

    body = status(token).json()
    assert body["status"] == "failed"
    assert body["detail"] == "Your code expired before we could send it. Ask for a new one."
    spanish = status(token, HTTP_ACCEPT_LANGUAGE="es").json()
    assert spanish["detail"] == "Tu código caducó antes de que pudiéramos enviarlo. Pide uno nuevo."


def test_shows_failed_after_twilio_refuses_the_number(signup, status, fake_twilio):
    fake_twilio.script("400:21211")

    token = signup(PHONE)

    body = status(token).json()
    assert body["channel"] == "sms"
    assert body["recipient"] == "+1******0143"
    assert body["status"] == "failed"
    assert body["attempts"] == 1
    assert "number" in body["detail"]
    assert fake_twilio.answers == ["400:21211"]


def test_shows_the_retries_of_a_delivery_that_got_through(signup, status, fake_twilio):
    fake_twilio.script("500", "429")

    token = signup(PHONE)

    body = status(token).json()
    assert body["status"] == "sent"
    assert body["attempts"] == 3


def test_follows_the_newest_code_after_a_resend(api, signup, status, fake_twilio, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    fake_twilio.script("400:21211")
    token = signup(PHONE)
    assert status(token).json()["status"] == "failed"

    response = api.bearer(token).get("/user/new-verify/")

    assert response.status_code == 200, response.content
    body = status(token).json()
    assert body["status"] == "sent"
    assert body["attempts"] == 1


def test_shows_undelivered_after_twilio_reports_it(signup, status, settings):
    settings.TWILIO_AUTH_TOKEN = "twilio-auth-token-for-tests"
    settings.TWILIO_STATUS_CALLBACK_URL = "https://api.example.com/notifications/twilio/status/"
    token = signup(PHONE)
    params = {"MessageSid": Delivery.objects.get().provider_message_id, "MessageStatus": "undelivered"}
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
        settings.TWILIO_STATUS_CALLBACK_URL, params
    )
    callback = Client().post(
        "/notifications/twilio/status/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert callback.status_code == 204

    body = status(token).json()
    assert body["status"] == "undelivered"
    assert "number" in body["detail"]


def test_a_sign_up_without_any_delivery_is_404(status, db):
    user = PendingUserFactory()
    token = str(SignupToken.for_subject(user.id, stage=STAGE_NEW))

    response = status(token)

    assert_error(response, 404, "not_found")


def test_a_sign_up_for_an_existing_account_looks_like_any_other(signup, status, db):
    UserFactory(email=EMAIL)  # finished: this sign-up gets a decoy token, its owner a notice

    token = signup(EMAIL)

    body = status(token).json()
    assert body["channel"] == "email"
    assert body["recipient"] == "j***@example.com"
    assert body["status"] == "sent"
    assert body["attempts"] == 1
