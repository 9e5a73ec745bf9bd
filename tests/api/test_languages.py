"""The API speaks the client's language (Accept-Language, with Content-Language on every answer,
English for anything else), while the messages a person receives are in the language of their
account: the one the sign-up was made in, or the one set with PATCH /user/me/, whatever the
language of the request that causes them."""

import pytest
from django.core import mail
from django.utils import translation

from notifications.channels import LocmemSms
from notifications.services import message_render
from project.exceptions import wait_message
from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PASSWORD, UserFactory
from users.models import User

CODE = "482913"


def said(language: str, text: str) -> str:
    """``text`` as the catalog of ``language`` has it (never the English: the catalog is complete)."""
    with translation.override(language):
        translated = str(translation.gettext(text))
    assert language == "en" or translated != text, f"{text!r} is not translated to {language}"
    return translated


@pytest.fixture
def speaking(api):
    """The API client asking for a language."""

    def _speaking(language: str):
        api.credentials()
        api.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return api

    return _speaking


def test_errors_come_back_in_spanish_with_english_codes(speaking):
    response = speaking("es").post("/user/signup/", {"email_phone_number": "not an address"})

    body = assert_error(response, 400, "invalid", ("email_phone_number",))
    assert body["detail"] == said("es", "Invalid input.")
    assert body["fields"]["email_phone_number"] == [said("es", "Enter a valid e-mail address or phone number.")]
    assert response["Content-Language"] == "es"


def test_framework_messages_follow_the_language_too(speaking):
    response = speaking("ru").post("/user/signup/", {})

    body = assert_error(response, 400, "invalid", ("email_phone_number",))
    assert body["fields"]["email_phone_number"] == [said("ru", "This field is required.")]
    assert response["Content-Language"] == "ru"


@pytest.mark.parametrize("header", ["de", "fr-CA, de;q=0.8", "xx", ""])
def test_an_unknown_language_falls_back_to_english(speaking, header):
    response = speaking(header).post("/user/signup/", {"email_phone_number": "not an address"})

    body = assert_error(response, 400, "invalid")
    assert body["detail"] == "Invalid input."
    assert response["Content-Language"] == "en"


def test_a_regional_variant_gets_its_language(speaking):
    response = speaking("es-MX,es;q=0.9,en;q=0.5").post("/user/signup/", {"email_phone_number": "x"})

    assert response["Content-Language"] == "es"


def test_successful_answers_carry_content_language(speaking, next_codes):
    next_codes(CODE)
    response = speaking("ru").post("/user/signup/", {"email_phone_number": EMAIL})

    assert response.status_code == 201
    assert response["Content-Language"] == "ru"
    assert "Accept-Language" in response["Vary"]


def test_a_russian_sign_up_by_email_gets_a_russian_email_and_keeps_russian(speaking, next_codes):
    next_codes(CODE)
    assert speaking("ru").post("/user/signup/", {"email_phone_number": EMAIL}).status_code == 201

    [message] = mail.outbox
    russian = message_render("verification_code", CODE, "ru")
    assert message.subject == russian["subject"]
    assert message.body == russian["text"]
    assert message.alternatives[0][0] == russian["html"]
    assert '<html lang="ru">' in russian["html"]
    assert User.objects.get(email=EMAIL).language == "ru"


def test_a_russian_sign_up_by_phone_gets_a_russian_sms(speaking, next_codes):
    next_codes(CODE)
    assert speaking("ru").post("/user/signup/", {"email_phone_number": PHONE}).status_code == 201

    [sms] = LocmemSms.outbox
    assert sms["body"] == message_render("verification_code", CODE, "ru", ("sms",))["sms"]
    assert User.objects.get(phone_number=PHONE).language == "ru"


def test_a_pending_sign_up_started_again_takes_the_new_language(speaking, next_codes, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    next_codes(CODE)
    speaking("ru").post("/user/signup/", {"email_phone_number": EMAIL})
    speaking("es").post("/user/signup/", {"email_phone_number": EMAIL})

    assert User.objects.get(email=EMAIL).language == "es"
    assert mail.outbox[-1].subject == message_render("verification_code", CODE, "es")["subject"]


def test_the_owner_of_a_finished_account_is_told_in_their_own_language(speaking, next_codes, settings):
    UserFactory(email=EMAIL, language="ru")
    settings.VERIFICATION_RESEND_COOLDOWN = 0

    assert speaking("es").post("/user/signup/", {"email_phone_number": EMAIL}).status_code == 201

    [notice] = mail.outbox
    assert notice.subject == message_render("signup_notice", None, "ru")["subject"]
    assert User.objects.get(email=EMAIL).language == "ru"  # a stranger's request changes nothing


def test_a_notice_sent_again_by_new_verify_stays_in_the_owners_language(speaking, settings):
    UserFactory(email=EMAIL, language="ru")
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = speaking("es").post("/user/signup/", {"email_phone_number": EMAIL}).json()["access"]

    assert speaking("es").get("/user/new-verify/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    assert len(mail.outbox) == 2
    assert mail.outbox[-1].subject == message_render("signup_notice", None, "ru")["subject"]


def test_a_password_reset_asked_in_spanish_reaches_a_russian_account_in_russian(speaking, next_codes):
    UserFactory(username="jane", email=EMAIL, language="ru")
    next_codes(CODE)

    assert speaking("es").post("/user/password-reset/", {"email_phone_number": EMAIL}).status_code == 202

    assert mail.outbox[-1].subject == message_render("password_reset_code", CODE, "ru")["subject"]


def test_patch_me_changes_the_language_of_later_messages(speaking, login, next_codes):
    UserFactory(username="jane", email=EMAIL, language="ru")
    access = login("jane")["access"]

    response = speaking("en").patch("/user/me/", {"language": "es"}, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "es"
    me = speaking("ru").get("/user/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.json()["language"] == "es"

    next_codes(CODE)
    speaking("ru").post("/user/password-reset/", {"email_phone_number": EMAIL})
    assert mail.outbox[-1].subject == message_render("password_reset_code", CODE, "es")["subject"]


def test_patch_me_refuses_a_language_it_does_not_speak(speaking, login):
    UserFactory(username="jane", email=EMAIL)
    access = login("jane")["access"]

    response = speaking("en").patch("/user/me/", {"language": "de"}, HTTP_AUTHORIZATION=f"Bearer {access}")

    assert_error(response, 400, "invalid", ("language",))
    assert User.objects.get(username="jane").language == "en"


def test_the_password_changed_notice_follows_the_account(speaking, login):
    UserFactory(username="jane", email=EMAIL, language="es")
    access = login("jane")["access"]
    change = {
        "old_password": PASSWORD,
        "password": "a new long passphrase 7",
        "confirm_password": "a new long passphrase 7",
    }

    assert speaking("ru").patch("/user/me/", change, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200

    assert mail.outbox[-1].subject == message_render("password_changed_notice", None, "es")["subject"]


def test_a_429_says_the_wait_with_the_languages_plural_forms(speaking, next_codes):
    next_codes(CODE)
    token = speaking("ru").post("/user/signup/", {"email_phone_number": EMAIL}).json()["access"]

    response = speaking("ru").get("/user/new-verify/", HTTP_AUTHORIZATION=f"Bearer {token}")

    body = assert_error(response, 429, "rate_limited")
    with translation.override("ru"):
        assert body["detail"] == wait_message(int(response["Retry-After"]))
    with translation.override("en"):
        assert body["detail"] != wait_message(int(response["Retry-After"]))


def test_a_successful_answer_says_its_detail_in_the_language_too(speaking, login):
    UserFactory(username="jane", email=EMAIL)
    pair = login("jane")

    response = speaking("es").post(
        "/user/logout/", {"refresh": pair["refresh"]}, HTTP_AUTHORIZATION=f"Bearer {pair['access']}"
    )

    assert response.status_code == 200, response.content
    assert response.json()["detail"] == said("es", "Logged out.")
