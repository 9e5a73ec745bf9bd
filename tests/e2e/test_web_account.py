"""The account page's actions in a real browser at 1280 and 390 px: edit the profile, change the e-mail
address (by code), change the password, list and end sessions, log out everywhere and delete the account."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests import factories
from tests.conftest import _CODE
from tests.e2e.conftest import expect_fit
from users.models import Session, SessionEnd, User
from users.tokens import RefreshToken

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CURL = "curl/8.5.0"


def _log_in(page: Page, user_input: str, password: str = factories.PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username, e-mail or phone").fill(user_input)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def _on_account(page: Page, user) -> None:
    _log_in(page, user.username)
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator("#profile")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#sessions")).not_to_have_attribute("aria-busy", "true")


def _card(page: Page, title: str):
    return page.get_by_role("region", name=title)


def _fact(page: Page, term: str):
    return page.locator(".facts > div").filter(has=page.get_by_text(term, exact=True)).locator("dd")


def _api_login(page: Page, user) -> dict:
    """A second session of `user`, started through the API by another client."""
    answer = page.request.post(
        "/user/login/",
        data={"user_input": user.username, "password": factories.PASSWORD},
        headers={"User-Agent": CURL},
    )
    assert answer.status == 200, answer.text()
    return answer.json()


def _refresh_status(page: Page, tokens: dict) -> int:
    return page.request.post("/user/login-refresh/", data={"refresh": tokens["refresh"]}).status


def _code_sent_to(address: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [address])
    return _CODE.search(message.body).group(1)


def test_edit_profile(page: Page, width, snap):
    user = factories.UserFactory(first_name="Ada", bio="Counts things.", gender="female")
    factories.UserFactory(username="taken_name")
    _on_account(page, user)
    expect_fit(page)
    card = _card(page, "Profile")
    card.get_by_role("button", name="Edit profile").click()

    expect(card.get_by_label("First name")).to_be_focused()
    expect(card.get_by_label("First name")).to_have_value("Ada")
    expect(card.get_by_label("Username")).to_have_value(user.username)
    expect(card.get_by_label("Gender")).to_have_value("female")
    card.get_by_label("First name").fill("Ada L.")
    card.get_by_label("Username").fill("ada_lovelace")
    card.get_by_label("Bio").fill("Wrote the first program.")
    card.get_by_label("Gender").select_option("unspecified")
    expect_fit(page)
    if width == "desktop":
        snap("account-edit")

    card.get_by_label("Username").fill("taken_name")
    card.get_by_role("button", name="Save changes").click()
    expect(card.get_by_text("This username is taken.")).to_be_visible()
    expect(card.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(card.get_by_label("Username")).to_be_focused()
    expect(card.get_by_role("status")).to_have_text("Check the highlighted field.")
    card.get_by_label("Username").fill("ada_lovelace")
    card.get_by_role("button", name="Save changes").click()

    expect(card.get_by_role("status")).to_have_text("Your profile has been saved.")
    expect(card.get_by_role("button", name="Edit profile")).to_be_focused()
    expect(_fact(page, "Username")).to_have_text("ada_lovelace")
    expect(_fact(page, "First name")).to_have_text("Ada L.")
    expect(_fact(page, "Bio")).to_have_text("Wrote the first program.")
    expect(_fact(page, "Gender")).to_have_text("Prefer not to say")
    expect(page.locator(".lead [data-bind=username]")).to_have_text("ada_lovelace")
    user.refresh_from_db()
    assert (user.username, user.first_name, user.gender) == ("ada_lovelace", "Ada L.", "unspecified")


def test_change_email_by_code_then_only_the_new_address_logs_in(page: Page, width, snap, outbox):
    user = factories.UserFactory(email="old@example.com")
    _on_account(page, user)
    card = _card(page, "Logging in")
    expect(_fact(page, "E-mail address")).to_have_text("old@example.com")
    card.get_by_role("button", name="Change e-mail or phone").click()
    card.get_by_label("New e-mail address or phone number").fill("new@example.com")
    card.get_by_label("Your password").fill("not the password")
    card.get_by_role("button", name="Send me a code").click()
    expect(card.get_by_label("Your password")).to_have_attribute("aria-invalid", "true")
    expect(card.get_by_text("Your current password is required and must be correct.")).to_be_visible()

    card.get_by_label("Your password").fill(factories.PASSWORD)
    card.get_by_role("button", name="Send me a code").click()
    expect(card.get_by_label("Code", exact=True)).to_be_focused()
    expect(card.locator("[data-bind=pending]")).to_have_text("new@example.com")
    expect(card.locator("#identifier-resend")).to_have_text(re.compile(r"^Send a new code in ([1-5]\d|60) s$"))
    outbox(2)  # the code to the new address, a notice to the old one
    card.get_by_label("Code", exact=True).fill(_code_sent_to("new@example.com"))
    expect_fit(page)
    if width == "desktop":
        snap("account-change-email")
    card.get_by_role("button", name="Confirm the change").click()

    expect(card.get_by_role("status")).to_have_text("Done: you now log in with new@example.com.")
    expect(_fact(page, "E-mail address")).to_have_text("new@example.com")
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    _log_in(page, "old@example.com")
    expect(page.locator("#notice")).to_have_text("No active account found with the given credentials.")
    _log_in(page, "new@example.com")
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(_fact(page, "E-mail address")).to_have_text("new@example.com")


def test_change_password_ends_every_session_and_the_new_one_logs_in(page: Page, width):
    user = factories.UserFactory()
    other = _api_login(page, user)
    _on_account(page, user)
    card = _card(page, "Logging in")
    card.get_by_role("button", name="Change password").click()
    card.get_by_label("Current password").fill(factories.PASSWORD)
    card.get_by_label("New password", exact=True).fill("a fresh pass phrase")
    card.get_by_label("New password again").fill("a fresh pass phrase")
    expect_fit(page)
    card.get_by_role("button", name="Change password").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_have_text("Your password has been changed. Log in with the new one.")
    assert _refresh_status(page, other) == 401
    _log_in(page, user.username, "a fresh pass phrase")
    expect(page).to_have_url(re.compile(r"/account/$"))


def test_sessions_list_shows_both_sessions_and_ends_the_other_one(page: Page, width, snap):
    user = factories.UserFactory(
        username="jone123",
        email="jone@example.com",
        first_name="Jone",
        bio="Tries every sign-up form twice.",
        gender="unspecified",
    )
    other = _api_login(page, user)
    _on_account(page, user)
    sessions = page.locator("#sessions li")
    expect(sessions).to_have_count(2)
    this = sessions.filter(has_text="This browser")
    expect(this).to_contain_text("Chrome on Linux")
    expect(this.get_by_role("button")).to_have_count(0)  # this tab's session ends with "Log out"
    theirs = sessions.filter(has_text="curl")
    expect(theirs).to_contain_text("Logged in with a password")
    expect_fit(page)
    if width == "desktop":
        snap("account")

    theirs.get_by_role("button", name=re.compile(r"^End the session of curl")).click()
    expect(sessions).to_have_count(1)
    expect(_card(page, "Sessions").get_by_role("status")).to_have_text("Ended the session of curl.")
    expect(page.locator("#sessions-title")).to_be_focused()
    assert _refresh_status(page, other) == 401
    ended = Session.objects.get(id=RefreshToken(other["refresh"]).session_id)
    assert ended.end_reason == SessionEnd.ENDED
    page.reload()  # this session lives on
    expect(sessions).to_have_count(1)
    expect(sessions).to_contain_text("This browser")


def test_log_out_everywhere(page: Page, width):
    user = factories.UserFactory()
    other = _api_login(page, user)
    _on_account(page, user)
    expect(page.locator("#sessions li")).to_have_count(2)
    page.get_by_role("button", name="Log out everywhere").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_have_text("You are logged out everywhere: on this device and every other.")
    assert page.evaluate("sessionStorage.getItem('session')") is None
    assert _refresh_status(page, other) == 401
    assert set(Session.objects.values_list("end_reason", flat=True)) == {SessionEnd.LOGOUT_ALL}


def test_delete_account_asks_for_the_password_first(page: Page, width, snap):
    user = factories.UserFactory()
    _on_account(page, user)
    card = _card(page, "Delete account")
    card.get_by_role("button", name="Delete account…").click()
    expect(card.get_by_label("Your password")).to_be_focused()
    card.get_by_role("button", name="Cancel").click()  # changing one's mind is one click
    expect(card.get_by_role("button", name="Delete account…")).to_be_focused()
    expect(card.get_by_label("Your password")).to_be_hidden()

    card.get_by_role("button", name="Delete account…").click()
    card.get_by_label("Your password").fill("not the password")
    expect_fit(page)
    if width == "desktop":
        snap("account-delete")
    card.get_by_role("button", name="Delete my account").click()
    expect(card.get_by_text("Your current password is required and must be correct.")).to_be_visible()
    expect(card.get_by_label("Your password")).to_have_value("")
    assert User.objects.filter(pk=user.pk).exists()

    card.get_by_label("Your password").fill(factories.PASSWORD)
    card.get_by_role("button", name="Delete my account").click()

    expect(page).to_have_url(re.compile(r"/signup/$"))
    expect(page.locator("#notice")).to_have_text("Your account has been deleted. Thank you for trying us.")
    assert not User.objects.filter(pk=user.pk).exists()
    assert page.evaluate("sessionStorage.length") == 0
    _log_in(page, user.username)
    expect(page.locator("#notice")).to_have_text("No active account found with the given credentials.")
