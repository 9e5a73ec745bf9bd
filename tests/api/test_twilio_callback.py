"""POST /notifications/twilio/status/: Twilio's signed delivery reports update the delivery record."""

import uuid
from urllib.parse import urlencode

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from notifications.models import Delivery
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token-for-tests"
PATH = "/notifications/twilio/status/"
PUBLIC_URL = "https://api.example.com/notifications/twilio/status/"
SID = "SM" + "1" * 32


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_STATUS_CALLBACK_URL = PUBLIC_URL


@pytest.fixture
def delivery():
    return Delivery.objects.create(
        subject=uuid.uuid4(),
        channel="sms",
        recipient_masked="+1******0143",
        purpose="signup",
        status="sent",
        attempts=1,
        provider_message_id=SID,
    )


def report(status: str, sid: str = SID, **extra: str) -> dict[str, str]:
    """The form Twilio posts (a subset of its fields)."""
    return {
        "AccountSid": "AC" + "0" * 32,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+12025550143",
        "From": "+12025550100",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post(params: dict[str, str], signature: str | None):
    headers = {} if signature is None else {"HTTP_X_TWILIO_SIGNATURE": signature}
    return Client().post(PATH, urlencode(params), content_type="application/x-www-form-urlencoded", **headers)


def sign(params: dict[str, str], url: str = PUBLIC_URL, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def test_a_signed_delivered_report_marks_the_delivery_delivered(delivery):
    params = report("delivered")

    response = post(params, sign(params))

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert delivery.last_error == ""


def test_a_signed_undelivered_report_records_the_provider_error(delivery):
    params = report("undelivered", ErrorCode="30003")

    response = post(params, sign(params))

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "undelivered"
    assert delivery.last_error == "provider error 30003"


def test_without_a_configured_public_url_the_request_url_is_signed(delivery, settings):
    settings.TWILIO_STATUS_CALLBACK_URL = ""
    params = report("delivered")

    response = post(params, sign(params, url=f"http://testserver{PATH}"))

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


@pytest.mark.parametrize("status", ["queued", "sending", "sent"])
def test_intermediate_states_change_nothing(delivery, status):
    params = report(status)

    response = post(params, sign(params))

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_report_for_an_unknown_message_is_accepted_and_ignored(delivery):
    params = report("delivered", sid="SM" + "9" * 32)

    response = post(params, sign(params))

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_missing_signature_is_refused(delivery):
    response = post(report("delivered"), signature=None)

    assert_error(response, 403, "permission_denied")
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_wrong_signature_is_refused(delivery):
    params = report("delivered")

    response = post(params, sign(params, token="someone-elses-token"))

    assert_error(response, 403, "permission_denied")
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_signature_of_other_parameters_is_refused(delivery):
    signed = report("delivered")
    tampered = report("undelivered")

    response = post(tampered, sign(signed))

    assert_error(response, 403, "permission_denied")
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_signature_for_another_url_is_refused(delivery):
    params = report("delivered")

    response = post(params, sign(params, url="https://evil.example.com/notifications/twilio/status/"))

    assert_error(response, 403, "permission_denied")


def test_without_an_auth_token_every_report_is_refused(delivery, settings):
    params = report("delivered")
    signature = sign(params, token="")
    settings.TWILIO_AUTH_TOKEN = ""

    response = post(params, signature)

    assert_error(response, 403, "permission_denied")
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_signed_report_without_a_message_sid_is_invalid(delivery):
    params = {"MessageStatus": "delivered"}

    response = post(params, sign(params))

    assert_error(response, 400, "invalid", fields=("MessageSid",))
