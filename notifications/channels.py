"""Outside channels: e-mail and SMS, each with a console twin, a locmem twin and the real sender.

E-mail goes through Django's ``EMAIL_BACKEND`` (console, locmem or SMTP). SMS goes through the class
named by ``settings.SMS_BACKEND``: :class:`ConsoleSms` (the embedded default), :class:`LocmemSms`
(tests) or :class:`TwilioSms`. Every sender raises :class:`TransientChannelError` for failures a
retry can fix and :class:`PermanentChannelError` for the rest; nothing else escapes.
"""

import logging
import smtplib
import sys
import threading
from dataclasses import dataclass
from email.utils import make_msgid

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """A send failed; ``str()`` is safe to log and store (no code, no full recipient)."""


class TransientChannelError(ChannelError):
    pass


class PermanentChannelError(ChannelError):
    pass


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str


# One connection to the mail server per process, kept open between messages: a new SMTP
# conversation (connect, EHLO, maybe STARTTLS and AUTH) for every code would cost more than the
# message itself. A connection the server has dropped meanwhile is replaced once, at once.
_email_connection = threading.local()


def _email_backend(fresh: bool = False):
    backend = getattr(_email_connection, "backend", None)
    settings_now = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)
    if fresh or backend is None or getattr(_email_connection, "settings", None) != settings_now:
        if backend is not None:
            backend.close()
        backend = get_connection(fail_silently=False)
        backend.open()  # opened here, send_messages() leaves it open (SMTP; the others have none)
        _email_connection.backend, _email_connection.settings = backend, settings_now
    return backend


def email_send(message: EmailMessage) -> str:
    """Send through Django's EMAIL_BACKEND (on this process's kept connection); returns the
    Message-ID."""
    # The Message-ID is made here (as Django would) so that it is known without building the
    # whole MIME message twice.
    message_id = make_msgid(domain=DNS_NAME)
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message_id},
    )
    mail.attach_alternative(message.html, "text/html")
    try:
        try:
            _email_backend().send_messages([mail])
        except smtplib.SMTPServerDisconnected:
            _email_backend(fresh=True).send_messages([mail])
    except smtplib.SMTPResponseException as exc:
        _email_backend(fresh=True)  # the conversation is in an unknown state: start a new one next time
        detail = f"SMTP {exc.smtp_code}"
        if 400 <= exc.smtp_code < 500:
            raise TransientChannelError(detail) from exc
        raise PermanentChannelError(detail) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = f"SMTP recipient refused {codes}"
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientChannelError(detail) from exc
        raise PermanentChannelError(detail) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        _email_connection.backend = None  # unusable: the next message opens a new one
        raise TransientChannelError(f"SMTP unavailable: {type(exc).__name__}") from exc
    return message_id


class BaseSms:
    def send(self, *, to: str, body: str) -> str:
        """Send one SMS; returns the provider's message id."""
        raise NotImplementedError


class ConsoleSms(BaseSms):
    """Prints the message to standard output, the way Django's console e-mail backend does."""

    def send(self, *, to: str, body: str) -> str:
        sys.stdout.write(f"--- SMS to {to} ---\n{body}\n---\n")
        sys.stdout.flush()
        return "console"


class LocmemSms(BaseSms):
    """Keeps messages in :data:`outbox`, like ``django.core.mail.outbox``, for tests."""

    outbox: list[dict[str, str]] = []
    _lock = threading.Lock()

    def send(self, *, to: str, body: str) -> str:
        with self._lock:
            LocmemSms.outbox.append({"to": to, "body": body})
            return f"locmem-{len(LocmemSms.outbox)}"


# Twilio error codes that no retry can fix: invalid number, unsupported region, unsubscribed
# recipient, not a mobile number.
TWILIO_PERMANENT_CODES = frozenset({21211, 21408, 21610, 21614})
TWILIO_RATE_LIMIT_CODE = 20429

# The twilio client logs request parameters (the message body and full number) at INFO.
_twilio_http_logger = logging.getLogger("notifications.twilio_http")
_twilio_http_logger.propagate = False
_twilio_http_logger.addHandler(logging.NullHandler())


class TwilioSms(BaseSms):
    def __init__(self) -> None:
        http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT, logger=_twilio_http_logger)
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        if settings.TWILIO_API_BASE_URL:
            self.client.api.base_url = settings.TWILIO_API_BASE_URL

    def send(self, *, to: str, body: str) -> str:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        callback_url = settings.TWILIO_STATUS_CALLBACK_URL
        callback = {"status_callback": callback_url} if callback_url else {}
        try:
            message = self.client.messages.create(to=to, body=body, **sender, **callback)
        except (TwilioRestException, TwilioServiceException) as exc:
            # Both are HTTP error answers: the legacy body and the RFC 9457 problem body.
            status, code = _int_or_zero(exc.status), _int_or_zero(exc.code)
            detail = f"Twilio HTTP {status} code {code}"
            if code in TWILIO_PERMANENT_CODES:
                raise PermanentChannelError(detail) from exc
            if status == 429 or status >= 500 or code == TWILIO_RATE_LIMIT_CODE:
                raise TransientChannelError(detail) from exc
            raise PermanentChannelError(detail) from exc
        except (TwilioException, requests.RequestException, OSError) as exc:
            raise TransientChannelError(f"Twilio unreachable: {type(exc).__name__}") from exc
        return message.sid


def _int_or_zero(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


_senders = threading.local()


def sms_sender() -> BaseSms:
    """The SMS_BACKEND sender, made once per thread and configuration: the Twilio client and its
    HTTP session (kept-alive connections) serve every message of a worker process."""
    configuration = (
        settings.SMS_BACKEND,
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL,
        settings.TWILIO_TIMEOUT,
    )
    if getattr(_senders, "configuration", None) != configuration:
        _senders.sender, _senders.configuration = import_string(settings.SMS_BACKEND)(), configuration
    return _senders.sender
