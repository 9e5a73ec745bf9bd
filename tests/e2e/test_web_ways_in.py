"""The ways back in without the password, in a real browser at 1280 and 390 px: "Forgot your password?"
(a code and a new password) and "Log in with a code", both linked from the log-in page."""

import re

import pytest
from django.core import mail
from django_redis import get_redis_connection
from playwright.sync_api import Page, expect

from tests import factories
from tests.conftest import last_email_code
from tests.e2e.conftest import NEW_CODE_NOTICE, expect_fit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a brand new pass phrase"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _reset_requested(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(re.compile(r"/password-reset/$"))
    page.get_by_label("E-mail address or phone number").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(re.compile(r"/password-reset/confirm/$"))
    expect(page.locator("[data-bind=identifier]")).to_have_text(email)


def test_forgot_password_by_email_sets_a_new_password(page: Page, width, snap, outbox):
    user = factories.UserFactory(email="forgot@example.com")
    page.goto("/password-reset/")
    expect_fit(page)
    if width == "desktop":
        snap("password-reset")

    _reset_requested(page, "forgot@example.com")
    outbox(1)
    assert mail.outbox[-1].to == ["forgot@example.com"]
    page.get_by_label("Code", exact=True).fill(last_email_code())
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    expect_fit(page)
    if width == "desktop":
        snap("password-reset-confirm")
    page.get_by_role("button", name="Set my new password").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_have_text("Your password has been changed. Log in with it.")
    expect(page.get_by_label("Username, e-mail or phone")).to_have_value("forgot@example.com")
    assert page.evaluate("sessionStorage.getItem('reset')") is None
    page.get_by_label("Password").fill(factories.PASSWORD)  # the old one no longer works
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("#notice")).to_have_text("No active account found with the given credentials.")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator(".lead [data-bind=username]")).to_have_text(user.username)


def test_forgot_password_shows_a_wrong_code_under_its_field_and_counts_down_to_a_new_one(
    page: Page, width, snap, outbox
):
    factories.UserFactory(email="wrong.reset@example.com")
    _reset_requested(page, "wrong.reset@example.com")
    outbox(1)
    page.get_by_label("Code", exact=True).fill(_wrong(last_email_code()))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my new password").click()

    expect(page.locator("#code-error")).to_have_text("The code is incorrect.")
    expect(page.get_by_label("Code", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Code", exact=True)).to_be_focused()
    expect(page.locator("#notice")).to_have_text("Check the highlighted field.")
    expect(page).to_have_url(re.compile(r"/password-reset/confirm/$"))

    resend = page.get_by_role("button", name=re.compile(r"^Send a new code"))
    resend.click()  # within the minute after the first code: the server says how long to wait
    expect(resend).to_have_text(re.compile(r"^Send a new code in ([1-5]\d|60) s$"))
    expect(resend).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#notice")).to_have_text(NEW_CODE_NOTICE)
    expect_fit(page)
    if width == "desktop":
        snap("password-reset-error")
    assert len(mail.outbox) == 1


def test_forgot_password_page_without_a_request_says_where_to_start(page: Page, width):
    page.goto("/password-reset/confirm/")
    expect(page.get_by_text("Start by telling us the e-mail address or phone number")).to_be_visible()
    expect(page.locator("#password-reset-confirm-form")).to_be_hidden()
    expect_fit(page)


def test_log_in_with_a_code(page: Page, width, snap, outbox):
    user = factories.UserFactory(username="codey", email="codey@example.com")
    page.goto("/login/")
    expect_fit(page)
    page.get_by_role("link", name="Log in with a code").click()
    expect(page).to_have_url(re.compile(r"/login-code/$"))
    expect_fit(page)
    if width == "desktop":
        snap("login-code")
    page.get_by_label("Username, e-mail or phone").fill("codey")
    page.get_by_role("button", name="Send me a code").click()

    expect(page).to_have_url(re.compile(r"/login-code/confirm/$"))
    expect(page.locator("[data-bind=user_input]")).to_have_text("codey")
    # No second code within the server's cooldown: the button counts it down from the request.
    expect(page.locator("#resend")).to_have_text(re.compile(r"^Send a new code in ([1-5]\d|60) s$"))
    outbox(1)
    assert mail.outbox[-1].to == ["codey@example.com"]
    code = last_email_code()
    page.get_by_label("Code", exact=True).fill(code)
    expect_fit(page)
    if width == "desktop":
        snap("login-code-confirm")
    page.get_by_label("Code", exact=True).fill(_wrong(code))
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("#code-error")).to_have_text("The code is incorrect.")

    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator(".lead [data-bind=username]")).to_have_text(user.username)
    expect(page.locator("#sessions li")).to_have_count(1)
    expect(page.locator("#sessions li")).to_contain_text("Logged in with a code")
    assert page.evaluate("sessionStorage.getItem('loginCode')") is None
    assert page.evaluate("localStorage.length") == 0


def test_a_new_login_code_after_the_cooldown_replaces_the_first(page: Page, outbox):
    factories.UserFactory(username="again", email="again@example.com")
    page.goto("/login-code/")
    page.get_by_label("Username, e-mail or phone").fill("again")
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(re.compile(r"/login-code/confirm/$"))
    outbox(1)
    get_redis_connection("default").flushdb()  # as if the cooldown had passed
    page.evaluate("sessionStorage.removeItem('loginCodeResendAt')")
    page.reload()

    page.get_by_role("button", name="Send a new code").click()
    expect(page.locator("#notice")).to_have_text("A new code has been sent.")
    expect(page.locator("#resend")).to_have_text(re.compile(r"^Send a new code in ([1-5]\d|60) s$"))
    outbox(2)
    assert [message.to for message in mail.outbox] == [["again@example.com"]] * 2
    page.get_by_label("Code", exact=True).fill(last_email_code())
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account/$"))
