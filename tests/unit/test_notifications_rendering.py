"""The message templates under templates/notifications/, as notifications/services.py renders them."""

import re

import pytest

from notifications.services import TEMPLATE_SIGNUP_NOTICE, TEMPLATE_VERIFICATION_CODE, message_render

CODE = "482913"


@pytest.fixture(autouse=True)
def _product(settings):
    settings.PRODUCT_NAME = "Acme <Auth> & Co"
    settings.SMS_PRODUCT_NAME = "Acme <A> &"
    settings.SUPPORT_EMAIL = "help@acme.example"
    settings.WEBOTP_DOMAIN = "auth.example.com"
    settings.VERIFICATION_CODE_TTL = 600


def test_the_code_is_in_the_subject_text_html_and_sms():
    rendered = message_render(TEMPLATE_VERIFICATION_CODE, CODE, "en")

    for part in ("subject", "text", "html", "sms"):
        assert CODE in rendered[part], part


def test_the_subject_is_one_line():
    subject = message_render(TEMPLATE_VERIFICATION_CODE, CODE, "en")["subject"]

    assert "\n" not in subject
    assert subject == subject.strip()


def test_html_is_autoescaped_and_text_is_not():
    rendered = message_render(TEMPLATE_VERIFICATION_CODE, CODE, "en")

    assert "Acme &lt;Auth&gt; &amp; Co" in rendered["html"]
    assert "Acme <Auth> & Co" not in rendered["html"]
    assert "Acme <Auth> & Co" in rendered["text"]
    assert "Acme <A> &" in rendered["sms"]  # SMS_PRODUCT_NAME, unescaped


def test_the_messages_name_the_support_address_and_the_lifetime():
    rendered = message_render(TEMPLATE_VERIFICATION_CODE, CODE, "en")

    assert "help@acme.example" in rendered["text"]
    assert 'href="mailto:help@acme.example"' in rendered["html"]
    assert "10 minutes" in rendered["text"]
    assert "10 minutes" in rendered["sms"]


def test_the_html_styles_are_inline_for_mail_clients():
    html = message_render(TEMPLATE_VERIFICATION_CODE, CODE, "en")["html"]

    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert 'style="' in html
    assert "<style" not in html
    assert "<link" not in html
    assert "<script" not in html


def test_the_sms_ends_with_the_webotp_line():
    sms = message_render(TEMPLATE_VERIFICATION_CODE, CODE, "en")["sms"]

    assert sms.splitlines()[-1] == f"@auth.example.com #{CODE}"


def test_the_sign_up_notice_carries_no_code():
    rendered = message_render(TEMPLATE_SIGNUP_NOTICE, None, "en")
    rendered["html"] = re.sub(r"<[^>]*>", " ", rendered["html"])  # tags hold colours like #123456

    for part in ("subject", "text", "html", "sms"):
        assert rendered[part]
        assert "None" not in rendered[part]
        assert not re.search(r"\b\d{6}\b", rendered[part])
        assert "@auth.example.com #" not in rendered[part]
