"""A sign-up in Russian is delivered in Russian by a real worker: the e-mail at the SMTP server and
the SMS at the fake Twilio server, rendered from the language sealed with the task; a later
message asked for in another language still goes out in the account's."""

import re

import pytest
import requests

from notifications.services import message_render
from notifications.sms_text import sms_length

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CODE = "480913"
CYRILLIC = re.compile("[\u0430-\u044f\u0451]")


def post(live_server, path: str, body: dict, language: str) -> requests.Response:
    return requests.post(f"{live_server.url}{path}", json=body, headers={"Accept-Language": language}, timeout=10)


def test_a_russian_sign_up_gets_its_email_and_sms_in_russian(
    live_server, celery_worker, smtp_server, fake_twilio, next_codes
):
    next_codes(CODE)
    celery_worker.start()

    by_email = post(live_server, "/user/signup/", {"email_phone_number": "ivan@example.com"}, "ru")
    by_phone = post(live_server, "/user/signup/", {"email_phone_number": "+12025550143"}, "ru-RU,ru;q=0.9")

    assert by_email.status_code == by_phone.status_code == 201
    assert by_email.headers["Content-Language"] == "ru"
    [email] = smtp_server.wait_for_messages(1)
    russian = message_render("verification_code", CODE, "ru")
    assert email.message["Subject"].strip() == russian["subject"]
    received = email.message.get_body(("plain",)).get_content()
    assert received.split() == russian["text"].split()  # the same words; SMTP has its own line ends
    assert CYRILLIC.search(email.message.get_body(("html",)).get_content())
    [sms] = fake_twilio.wait_for_messages(1)
    assert sms["Body"] == russian["sms"]
    assert sms_length(sms["Body"]).encoding == "UCS-2"
    assert sms_length(sms["Body"]).segments == 1


def test_a_notice_asked_for_in_spanish_reaches_a_russian_account_in_russian(
    live_server, celery_worker, smtp_server, next_codes, settings
):
    from tests.factories import UserFactory

    UserFactory(email="ivan@example.com", language="ru")
    celery_worker.start()

    response = post(live_server, "/user/signup/", {"email_phone_number": "ivan@example.com"}, "es")

    assert response.status_code == 201
    assert response.headers["Content-Language"] == "es"
    [email] = smtp_server.wait_for_messages(1)
    assert email.message["Subject"].strip() == message_render("signup_notice", None, "ru")["subject"]
