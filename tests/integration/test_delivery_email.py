"""E-mail delivery through Django's real SMTP backend to an aiosmtpd server on loopback.

The task runs in-process (eager), so each test sees the whole retry sequence synchronously.
"""

import pytest

from notifications.models import Channel, Delivery
from tests.support.deliveries import queue_code

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CODE = "482913"
ADDRESS = "jane.doe@example.com"


@pytest.fixture
def send_code(django_capture_on_commit_callbacks):
    """Queue a verification e-mail and run the (eager) task after commit; returns the record."""

    def _send(code: str = CODE, recipient: str = ADDRESS) -> Delivery:
        return queue_code(django_capture_on_commit_callbacks, channel=Channel.EMAIL, recipient=recipient, code=code)

    return _send


def test_html_and_text_parts_both_carry_the_code(smtp_server, send_code, settings):
    settings.PRODUCT_NAME = "Acme <Auth> & Co"
    settings.SUPPORT_EMAIL = "help@acme.example"
    settings.DEFAULT_FROM_EMAIL = "no-reply@acme.example"

    delivery = send_code()

    [received] = smtp_server.wait_for_messages(1)
    message = received.message
    assert received.rcpt_tos == [ADDRESS]
    assert message["To"] == ADDRESS
    assert message["From"] == "no-reply@acme.example"
    assert "Acme <Auth> & Co" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert CODE in text
    assert CODE in html
    # Settings and user data are autoescaped in HTML, and kept as they are in plain text.
    assert "Acme &lt;Auth&gt; &amp; Co" in html
    assert "Acme <Auth> & Co" not in html
    assert "Acme <Auth> & Co" in text
    assert "help@acme.example" in text
    assert "help@acme.example" in html
    # Inline styles only: many mail clients drop <style> blocks and linked stylesheets.
    assert 'style="' in html
    assert "<style" not in html
    assert "<link" not in html
    assert delivery.status == "sent"
    assert delivery.attempts == 1
    assert delivery.provider_message_id == message["Message-ID"][:64]


def test_a_4xx_answer_is_retried_then_delivered(smtp_server, send_code):
    smtp_server.fail_next(451)

    delivery = send_code()

    assert smtp_server.handler.refused == [451]
    assert len(smtp_server.wait_for_messages(1)) == 1
    assert delivery.status == "sent"
    assert delivery.attempts == 2
    assert delivery.last_error == ""


def test_a_5xx_answer_is_not_retried(smtp_server, send_code):
    smtp_server.fail_next(550, count=3)

    delivery = send_code()

    assert smtp_server.handler.refused == [550]  # one attempt, no retry
    assert smtp_server.messages == []
    assert delivery.status == "failed"
    assert delivery.attempts == 1
    assert delivery.last_error == "SMTP 550"


def test_retries_stop_at_the_limit_and_the_delivery_fails(smtp_server, send_code, settings):
    settings.DELIVERY_MAX_RETRIES = 2
    smtp_server.fail_next(421, count=5)

    delivery = send_code()

    assert smtp_server.handler.refused == [421, 421, 421]  # the first attempt and two retries
    assert smtp_server.messages == []
    assert delivery.status == "failed"
    assert delivery.attempts == 3
    assert delivery.last_error.startswith("gave up: SMTP 421")


def test_an_unreachable_server_is_a_transient_failure(smtp_server, send_code, settings):
    smtp_server.stop()
    settings.DELIVERY_MAX_RETRIES = 1

    delivery = send_code()

    assert delivery.status == "failed"
    assert delivery.attempts == 2
    assert delivery.last_error == "gave up: SMTP unavailable: ConnectionRefusedError"
