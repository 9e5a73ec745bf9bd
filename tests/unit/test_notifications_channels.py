"""notifications/channels.py: which failures are transient and which permanent, and the twins."""

import smtplib

import pytest
import requests
from django.core.mail.backends.base import BaseEmailBackend
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

from notifications import channels
from notifications.channels import (
    ConsoleSms,
    EmailMessage,
    LocmemSms,
    PermanentChannelError,
    TransientChannelError,
    TwilioSms,
    email_send,
    sms_sender,
)

ADDRESS = "jane.doe@example.com"
NUMBER = "+12025550143"


class RaisingEmailBackend(BaseEmailBackend):
    """An EMAIL_BACKEND that fails with ``RaisingEmailBackend.error``."""

    error: Exception = OSError()

    def send_messages(self, email_messages):
        raise RaisingEmailBackend.error


@pytest.fixture
def failing_smtp(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RaisingEmailBackend"

    def _fail_with(error: Exception) -> None:
        RaisingEmailBackend.error = error

    return _fail_with


def send_email() -> str:
    return email_send(EmailMessage(ADDRESS, "Subject", "text", "<p>html</p>"))


def test_email_goes_out_with_a_text_and_an_html_part(mailoutbox):
    message_id = send_email()

    [mail] = mailoutbox
    assert mail.to == [ADDRESS]
    assert mail.body == "text"
    assert mail.alternatives[0][0] == "<p>html</p>"
    assert mail.alternatives[0][1] == "text/html"
    assert mail.extra_headers["Message-ID"] == message_id


@pytest.mark.parametrize(
    ("error", "kind", "detail"),
    [
        (smtplib.SMTPDataError(451, b"try later"), TransientChannelError, "SMTP 451"),
        (smtplib.SMTPSenderRefused(421, b"busy", "no-reply@example.com"), TransientChannelError, "SMTP 421"),
        (smtplib.SMTPDataError(550, b"no such user"), PermanentChannelError, "SMTP 550"),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), PermanentChannelError, "SMTP 535"),
        (smtplib.SMTPRecipientsRefused({ADDRESS: (450, b"busy")}), TransientChannelError, "SMTP recipient refused"),
        (smtplib.SMTPRecipientsRefused({ADDRESS: (550, b"unknown")}), PermanentChannelError, "SMTP recipient"),
        (smtplib.SMTPServerDisconnected("gone"), TransientChannelError, "SMTP unavailable"),
        (ConnectionRefusedError(), TransientChannelError, "SMTP unavailable: ConnectionRefusedError"),
        (TimeoutError(), TransientChannelError, "SMTP unavailable: TimeoutError"),
    ],
)
def test_smtp_failures_are_classified(failing_smtp, error, kind, detail):
    failing_smtp(error)

    with pytest.raises(kind) as raised:
        send_email()

    assert str(raised.value).startswith(detail)
    assert ADDRESS not in str(raised.value)  # the detail is stored and logged


class FakeMessages:
    """Stands in for ``client.messages``: raises ``error`` or returns a message with a SID."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[dict] = []

    def create(self, **kwargs):
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return type("Message", (), {"sid": "SM" + "a" * 32})()


@pytest.fixture
def twilio(settings, monkeypatch):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM_NUMBER = "+12025550100"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_STATUS_CALLBACK_URL = ""

    def _twilio(error: Exception | None = None) -> tuple[TwilioSms, FakeMessages]:
        sms = TwilioSms()
        messages = FakeMessages(error)
        monkeypatch.setattr(type(sms.client), "messages", property(lambda client: messages))
        return sms, messages

    return _twilio


def rest_error(status: int, code: int) -> TwilioRestException:
    return TwilioRestException(status, "/Accounts/AC/Messages.json", "Unable to create record", code, "POST")


def service_error(status: int, code: int) -> TwilioServiceException:
    return TwilioServiceException(
        type_uri=f"https://www.twilio.com/docs/errors/{code}", title="Error", status=status, code=code
    )


@pytest.mark.parametrize("code", [21211, 21408, 21610, 21614])
@pytest.mark.parametrize("shape", [rest_error, service_error])
def test_twilio_refusals_of_the_number_are_permanent(twilio, code, shape):
    sms, _ = twilio(shape(400, code))

    with pytest.raises(PermanentChannelError, match=f"Twilio HTTP 400 code {code}"):
        sms.send(to=NUMBER, body="hi")


@pytest.mark.parametrize(
    ("status", "code"), [(429, 20429), (429, 429), (500, 20500), (503, 20503), (400, 20429), (502, 502)]
)
@pytest.mark.parametrize("shape", [rest_error, service_error])
def test_twilio_rate_limits_and_server_errors_are_transient(twilio, status, code, shape):
    sms, _ = twilio(shape(status, code))

    with pytest.raises(TransientChannelError, match=f"Twilio HTTP {status} code {code}"):
        sms.send(to=NUMBER, body="hi")


@pytest.mark.parametrize(("status", "code"), [(401, 20003), (400, 21604), (404, 20404)])
def test_other_twilio_client_errors_are_permanent(twilio, status, code):
    sms, _ = twilio(rest_error(status, code))

    with pytest.raises(PermanentChannelError):
        sms.send(to=NUMBER, body="hi")


@pytest.mark.parametrize(
    "error",
    [
        TwilioException("something in the client"),
        requests.ConnectionError("refused"),
        requests.Timeout("read timed out"),
        ConnectionResetError(),
    ],
)
def test_twilio_client_and_network_failures_are_transient(twilio, error):
    sms, _ = twilio(error)

    with pytest.raises(TransientChannelError, match="Twilio unreachable"):
        sms.send(to=NUMBER, body="hi")


def test_twilio_sends_from_the_number_or_the_messaging_service(twilio, settings):
    sms, messages = twilio()
    assert sms.send(to=NUMBER, body="hi") == "SM" + "a" * 32
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "b" * 32
    settings.TWILIO_STATUS_CALLBACK_URL = "https://api.example.com/notifications/twilio/status/"
    sms.send(to=NUMBER, body="hi")

    assert messages.calls == [
        {"to": NUMBER, "body": "hi", "from_": "+12025550100"},
        {
            "to": NUMBER,
            "body": "hi",
            "messaging_service_sid": "MG" + "b" * 32,
            "status_callback": "https://api.example.com/notifications/twilio/status/",
        },
    ]


def test_the_twilio_client_has_an_explicit_timeout_and_a_configurable_base_url(settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_TIMEOUT = 2.5
    settings.TWILIO_API_BASE_URL = ""
    assert TwilioSms().client.api.base_url == "https://api.twilio.com"

    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9999"
    sms = TwilioSms()

    assert sms.client.http_client.timeout == 2.5
    assert sms.client.api.base_url == "http://127.0.0.1:9999"


def test_the_twilio_client_logs_nothing_through_the_root_logger():
    # It logs request parameters (the message body and the full number) at INFO.
    assert channels._twilio_http_logger.propagate is False


def test_locmem_keeps_messages_in_its_outbox():
    assert LocmemSms().send(to=NUMBER, body="hi") == "locmem-1"
    assert LocmemSms.outbox == [{"to": NUMBER, "body": "hi"}]


def test_console_prints_the_message(capsys):
    assert ConsoleSms().send(to=NUMBER, body="Your code is 123456") == "console"
    assert "Your code is 123456" in capsys.readouterr().out


def test_the_sms_sender_is_chosen_by_dotted_path(settings):
    settings.SMS_BACKEND = "notifications.channels.ConsoleSms"
    assert isinstance(sms_sender(), ConsoleSms)
    settings.SMS_BACKEND = "notifications.channels.LocmemSms"
    assert isinstance(sms_sender(), LocmemSms)
