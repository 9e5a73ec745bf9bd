"""The pages in the reader's language: the switcher turns every page, its script's messages and the
API's errors to the language chosen, and a sign-up made in it keeps that language for its e-mails."""

import re

import pytest
from django.core import mail
from django.utils import translation
from playwright.sync_api import Page, expect

from users.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def said(language: str, text: str) -> str:
    with translation.override(language):
        translated = translation.gettext(text)
    assert translated != text, f"{text!r} is not translated to {language}"
    return translated


def test_the_switcher_turns_the_pages_the_script_and_the_api_to_russian(page: Page, outbox, snap):
    page.goto("/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.select_option("#language", "ru")

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page).to_have_url(re.compile(r"/signup/$"))
    expect(page.locator("h1")).to_have_text(said("ru", "Create your account"))
    page.fill("#email_phone_number", "not an address")
    page.click("main form button[type=submit]")
    # The API's field error, in the page's language.
    expect(page.locator("#email_phone_number-error")).to_have_text(
        said("ru", "Enter a valid e-mail address or phone number.")
    )
    # The script's own words (its JavaScript catalog), in the chosen language.
    notice = page.locator("#notice")
    expect(notice).to_have_text(re.compile("^[^A-Za-z]*[\u0430-\u044f\u0451][^A-Za-z]*$"))
    snap("signup-error-ru")
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")  # the choice is kept


def test_a_sign_up_from_the_spanish_pages_is_kept_in_spanish(page: Page, outbox):
    page.goto("/signup/")
    page.select_option("#language", "es")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    page.fill("#email_phone_number", "ana@example.com")
    page.click("main form button[type=submit]")

    expect(page).to_have_url(re.compile(r"/verify/"))
    outbox(1)
    assert User.objects.get(email="ana@example.com").language == "es"
    assert mail.outbox[-1].subject.startswith(said("es", "Your %(product_name)s code is %(code)s").split("%")[0])


def test_a_429_shows_the_servers_wait_once_in_the_pages_language(page: Page):
    page.goto("/signup/")
    page.select_option("#language", "es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.fill("#email_phone_number", "ana@example.com")
    for _ in range(30):  # the sign-up limits of one client (signup_ip and signup_identifier) run out
        with page.expect_response("**/user/signup/") as answer:
            page.evaluate(
                "fetch('/user/signup/', {method: 'POST', headers: {'Content-Type': 'application/json',"
                " 'Accept-Language': 'es'}, body: JSON.stringify({email_phone_number: 'ana@example.com'})})"
            )
        if answer.value.status == 429:
            break
    detail = answer.value.json()["detail"]
    assert answer.value.status == 429

    page.click("main form button[type=submit]")

    # The page's own request came a moment later: its wait may be a minute less, never said twice.
    wait_as_said = r"^\s*" + re.sub(r"\d+", lambda _: r"\d+", re.escape(detail)) + r"\s*$"
    expect(page.locator("main .notice, #notice").first).to_have_text(re.compile(wait_as_said))
    assert detail.count(said("es", "Invalid input.")) == 0
    with translation.override("es"):
        assert "Too many requests" not in detail
