"""SMS delivery through the real ``twilio`` client to a fake Twilio API on loopback.

The task runs in-process (eager), so each test sees the whole retry sequence synchronously; the
client's HTTP timeout is 1 s (the ``fake_twilio`` fixture).
"""

import re
import time

import pytest

from notifications.models import Channel, Delivery
from tests.support.deliveries import queue_code
from tests.support.fake_twilio import FROM_NUMBER

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CODE = "482913"
NUMBER = "+12025550143"
TWILIO_SID = re.compile(r"^SM[0-9a-f]{32}$")


@pytest.fixture
def send_code(django_capture_on_commit_callbacks):
    """Queue a verification SMS and run the (eager) task after commit; returns the record."""

    def _send(code: str = CODE, recipient: str = NUMBER) -> Delivery:
        return queue_code(django_capture_on_commit_callbacks, channel=Channel.SMS, recipient=recipient, code=code)

    return _send


def test_the_message_goes_to_twilio_and_ends_with_the_webotp_line(fake_twilio, send_code, settings):
    settings.WEBOTP_DOMAIN = "auth.example.com"

    delivery = send_code()

    [message] = fake_twilio.messages
    assert message["To"] == NUMBER
    assert message["From"] == FROM_NUMBER
    assert CODE in message["Body"]
    assert message["Body"].splitlines()[-1] == f"@auth.example.com #{CODE}"
    assert delivery.status == "sent"
    assert delivery.attempts == 1
    assert delivery.provider_message_id == fake_twilio.sids[0]
    assert delivery.sent_at is not None


def test_a_messaging_service_and_a_status_callback_are_sent_when_configured(fake_twilio, send_code, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "a" * 32
    settings.TWILIO_STATUS_CALLBACK_URL = "https://api.example.com/notifications/twilio/status/"

    send_code()

    [message] = fake_twilio.messages
    assert message["MessagingServiceSid"] == "MG" + "a" * 32
    assert "From" not in message
    assert message["StatusCallback"] == "https://api.example.com/notifications/twilio/status/"


def test_a_500_is_retried_and_exactly_one_message_is_sent(fake_twilio, send_code):
    fake_twilio.script("500", "201")

    delivery = send_code()

    assert fake_twilio.answers == ["500", "201"]
    assert len(fake_twilio.messages) == 1
    assert delivery.status == "sent"
    assert delivery.attempts == 2
    assert TWILIO_SID.match(delivery.provider_message_id)
    assert delivery.provider_message_id == fake_twilio.sids[0]
    assert delivery.last_error == ""


@pytest.mark.parametrize("answer", ["400:21211", "400:21211:rfc9457", "400:21408", "400:21610", "400:21614"])
def test_a_permanent_twilio_error_fails_without_retry(fake_twilio, send_code, answer):
    fake_twilio.script(answer, "201")

    delivery = send_code()

    assert fake_twilio.answers == [answer]  # no second request
    assert fake_twilio.messages == []
    assert delivery.status == "failed"
    assert delivery.attempts == 1
    assert delivery.last_error == f"Twilio HTTP 400 code {answer.split(':')[1]}"


def test_wrong_credentials_are_not_retried(fake_twilio, send_code, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    delivery = send_code()

    assert len(fake_twilio.requests) == 0  # refused before it reaches the script
    assert delivery.status == "failed"
    assert delivery.attempts == 1
    assert delivery.last_error == "Twilio HTTP 401 code 20003"


@pytest.mark.parametrize("answer", ["429", "503", "429:20429:rfc9457"])
def test_rate_limits_and_server_errors_are_retried(fake_twilio, send_code, answer):
    fake_twilio.script(answer, "201")

    delivery = send_code()

    assert fake_twilio.answers == [answer, "201"]
    assert len(fake_twilio.messages) == 1
    assert delivery.status == "sent"
    assert delivery.attempts == 2


def test_a_stalled_call_hits_the_client_timeout_and_is_retried(fake_twilio, send_code, settings):
    fake_twilio.script("stall", "201")
    started = time.monotonic()

    delivery = send_code()

    assert time.monotonic() - started >= settings.TWILIO_TIMEOUT  # the client waited, then gave up
    assert fake_twilio.answers == ["stall", "201"]
    assert len(fake_twilio.messages) == 1
    assert delivery.status == "sent"
    assert delivery.attempts == 2


def test_an_unreachable_api_is_retried_until_the_limit(fake_twilio, send_code, settings):
    fake_twilio.stop()
    settings.DELIVERY_MAX_RETRIES = 1

    delivery = send_code()

    assert delivery.status == "failed"
    assert delivery.attempts == 2
    assert delivery.last_error == "gave up: Twilio unreachable: ConnectionError"


def test_a_phone_sign_up_sends_its_code_through_twilio(api, fake_twilio, next_codes):
    next_codes(CODE)

    response = api.post("/user/signup/", {"email_phone_number": NUMBER})

    assert response.status_code == 201, response.content
    [message] = fake_twilio.messages
    assert message["To"] == NUMBER
    assert message["Body"].endswith(f" #{CODE}")
