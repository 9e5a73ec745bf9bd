"""The web pages in a real browser: sign up, verify, complete the profile, log in, see the account
(GET /user/me/, rotating an expired access token) and log out, by e-mail and by phone, with the
API's errors shown where they belong."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_redis import get_redis_connection
from playwright.sync_api import Page, expect

from notifications.channels import LocmemSms
from tests import factories
from tests.conftest import last_email_code, last_sms_code
from tests.e2e.conftest import NEW_CODE_NOTICE, PHONE
from users.models import Session
from users.tokens import AccessToken, RefreshToken

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long pass phrase"


def _sign_up(page: Page, identifier: str) -> None:
    page.goto("/signup/")
    page.get_by_label("E-mail address or phone number").fill(identifier)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(re.compile(r"/verify/$"))
    expect(page.locator("[data-bind=identifier]")).to_have_text(identifier)


def _complete_profile(page: Page, username: str) -> None:
    expect(page).to_have_url(re.compile(r"/profile/$"))
    page.get_by_label("First name").fill("Jone")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Bio").fill("Tries every sign-up form twice.")
    page.get_by_label("Gender").select_option("unspecified")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)


def _log_in(page: Page, user_input: str) -> None:
    page.get_by_label("Username, e-mail or phone").fill(user_input)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    assert page.evaluate("localStorage.length") == 0  # tokens stay in this tab's sessionStorage


def _fact(page: Page, term: str):
    """The <dd> of the account page's facts whose <dt> says `term`."""
    return page.locator(".facts > div").filter(has=page.get_by_text(term, exact=True)).locator("dd")


def _expect_account(page: Page, username: str, *, email: str | None = None, phone: str | None = None) -> None:
    """The account page shows the profile from GET /user/me/: the username and the identifier the account has."""
    expect(page.locator("#profile")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator(".lead [data-bind=username]")).to_have_text(username)
    expect(_fact(page, "Username")).to_have_text(username)
    for term, value in (("E-mail address", email), ("Phone number", phone)):
        if value:
            expect(_fact(page, term)).to_have_text(value)
        else:
            expect(_fact(page, term)).to_be_hidden()
    expect(_fact(page, "Stays logged in until")).to_have_text(re.compile(r"\d{4}"))


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_have_text("You are logged out.")
    assert page.evaluate("sessionStorage.getItem('session')") is None


def test_whole_flow_by_email(page: Page, snap, outbox):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    snap("home")
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/signup/$"))
    snap("signup")

    _sign_up(page, "jone@example.com")
    outbox(1)
    message = mail.outbox[-1]
    assert message.to == ["jone@example.com"]
    code = last_email_code()

    # The HTML alternative of the e-mail, as a mail client would show it.
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    verify_url = page.url
    page.goto("about:blank")  # out of the pages' Content-Security-Policy, which forbids inline styles
    page.set_content(html)
    expect(page.get_by_text(code)).to_be_visible()
    snap("email")
    page.goto(verify_url)

    page.get_by_label("Code", exact=True).fill(code)
    snap("verify")
    page.get_by_role("button", name="Verify").click()
    _complete_profile(page, "jone123")
    snap("profile")
    page.get_by_role("button", name="Finish sign-up").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_contain_text("Your account is ready")
    expect(page.get_by_label("Username, e-mail or phone")).to_have_value("jone123")
    snap("login")
    _log_in(page, "jone123")
    _expect_account(page, "jone123", email="jone@example.com")
    expect(_fact(page, "First name")).to_have_text("Jone")
    expect(_fact(page, "Bio")).to_have_text("Tries every sign-up form twice.")
    expect(_fact(page, "Gender")).to_have_text("Prefer not to say")
    expect(page.get_by_role("link", name="Your account")).to_be_visible()  # test_web_account takes its picture

    _log_out(page)
    assert Session.objects.get().end_reason == "logout"  # the session was ended, not just forgotten


def test_whole_flow_by_phone_with_field_errors(page: Page, outbox):
    _sign_up(page, "+12025550143")
    outbox(1)
    code = last_sms_code()
    page.get_by_label("Code", exact=True).fill(f"{code[:3]} {code[3:]}")  # pasted with a space
    expect(page.get_by_label("Code", exact=True)).to_have_value(code)
    page.get_by_role("button", name="Verify").click()

    _complete_profile(page, "phone_user")
    page.get_by_label("Password again").fill("something else entirely")
    page.get_by_role("button", name="Finish sign-up").click()
    expect(page.locator("#confirm_password-error")).to_have_text("The two passwords do not match.")
    expect(page.get_by_label("Password again")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Password again")).to_be_focused()
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Finish sign-up").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    page.get_by_label("Username, e-mail or phone").fill("+12025550143")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#notice")).to_have_text("No active account found with the given credentials.")
    _log_in(page, "+12025550143")
    _expect_account(page, "phone_user", phone="+12025550143")
    _log_out(page)


def test_wrong_code_is_shown_next_to_the_code_field(page: Page, snap, outbox):
    _sign_up(page, "wrong@example.com")
    outbox(1)
    wrong = f"{(int(last_email_code()) + 1) % 1_000_000:06d}"
    page.get_by_label("Code", exact=True).fill(wrong)
    page.get_by_role("button", name="Verify").click()

    expect(page.locator("#code-error")).to_have_text("The code is incorrect.")
    expect(page.get_by_label("Code", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#notice")).to_have_text("Check the highlighted field.")
    expect(page).to_have_url(re.compile(r"/verify/$"))
    snap("verify-error")


def test_resend_during_the_cooldown_counts_down_from_retry_after(page: Page, outbox):
    _sign_up(page, "+12025550143")
    outbox(1)
    resend = page.locator("#resend")
    resend.click()

    expect(resend).to_have_text(re.compile(r"^Send a new code in ([1-5]\d|60) s$"))
    expect(resend).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#notice")).to_have_text(NEW_CODE_NOTICE)
    page.reload()  # the countdown survives a reload
    expect(resend).to_have_text(re.compile(r"^Send a new code in \d+ s$"))
    assert len(LocmemSms.outbox) == 1  # nothing more was sent


def test_resend_after_the_cooldown_sends_a_code_and_counts_down(page: Page, outbox):
    _sign_up(page, "again@example.com")
    outbox(1)
    get_redis_connection("default").flushdb()  # as if the cooldown had passed
    page.locator("#resend").click()

    expect(page.locator("#notice")).to_have_text("A new code has been sent.")
    expect(page.locator("#resend")).to_have_text(re.compile(r"^Send a new code in ([1-5]\d|60) s$"))
    outbox(2)
    page.get_by_label("Code", exact=True).fill(last_email_code())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_verify_shows_the_delivery_status(page: Page):
    status = {
        "channel": "sms",
        "recipient": "+1202•••0143",
        "status": "delivered",
        "attempts": 2,
        "detail": "Your code was delivered.",
    }
    page.route("**/user/delivery-status/", lambda route: route.fulfill(json=status))
    _sign_up(page, "+12025550143")

    expect(page.locator("#delivery-badge")).to_have_text("Delivered")
    expect(page.locator("#delivery")).to_contain_text("SMS to +1202•••0143")
    expect(page.locator("#delivery")).to_contain_text("Your code was delivered. (2 attempts)")


def test_verify_without_a_delivery_record_still_works(page: Page, outbox):
    body = {"detail": "Not found.", "code": "not_found", "fields": {}}
    page.route("**/user/delivery-status/", lambda route: route.fulfill(status=404, json=body))
    _sign_up(page, "quiet@example.com")
    outbox(1)

    expect(page.locator("#delivery")).to_be_hidden()
    page.get_by_label("Code", exact=True).fill(last_email_code())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_account_page_without_a_session_sends_to_log_in(page: Page):
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_have_text("Log in to see your account.")


def _logged_in(page: Page, user) -> dict:
    """Logs `user` in through the log-in page and returns the session the page stored."""
    page.goto("/login/")
    page.get_by_label("Username, e-mail or phone").fill(user.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    _expect_account(page, user.username, email=user.email)
    return page.evaluate("JSON.parse(sessionStorage.getItem('session'))")


def _expire_access(page: Page, user) -> None:
    """Puts an access token of the tab's session that expired a minute ago into it."""
    stored = page.evaluate("JSON.parse(sessionStorage.getItem('session'))")
    token = AccessToken(stored["access"])
    token.set_exp(lifetime=-timedelta(minutes=1))
    page.evaluate(
        """(access) => {
            const session = JSON.parse(sessionStorage.getItem("session"));
            sessionStorage.setItem("session", JSON.stringify({ ...session, access }));
        }""",
        str(token),
    )


def test_account_page_with_an_expired_access_token_rotates_the_pair_and_shows_the_profile(page: Page):
    user = factories.UserFactory(first_name="Ada")
    session = _logged_in(page, user)
    _expire_access(page, user)
    me_statuses: list[int] = []
    page.on("response", lambda r: me_statuses.append(r.status) if r.url.endswith("/user/me/") else None)

    page.reload()

    _expect_account(page, user.username, email=user.email)
    expect(_fact(page, "First name")).to_have_text("Ada")
    assert me_statuses == [401, 200]
    rotated = page.evaluate("JSON.parse(sessionStorage.getItem('session'))")
    assert rotated["refresh"] != session["refresh"]
    assert rotated["access"] != session["access"]
    assert RefreshToken(rotated["refresh"]).generation == RefreshToken(session["refresh"]).generation + 1
    _log_out(page)  # with the rotated pair
    assert Session.objects.get(id=RefreshToken(rotated["refresh"]).session_id).end_reason == "logout"


def test_account_page_with_a_dead_session_forgets_it_and_sends_to_log_in(page: Page):
    user = factories.UserFactory()
    _logged_in(page, user)
    _expire_access(page, user)
    Session.objects.update(ended_at=timezone.now())  # as after a log-out elsewhere or a password change

    page.reload()

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_have_text("Your session has ended. Log in again.")
    expect(page.get_by_label("Username, e-mail or phone")).to_have_value(user.username)
    assert page.evaluate("sessionStorage.getItem('session')") is None
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()


def test_account_page_shows_a_server_error_and_keeps_the_session(page: Page):
    user = factories.UserFactory()
    session = _logged_in(page, user)
    body = {"detail": "The service is temporarily unavailable.", "code": "service_unavailable", "fields": {}}
    page.route("**/user/me/", lambda route: route.fulfill(status=503, json=body))

    page.reload()

    expect(page.locator("#notice")).to_have_text("The service is temporarily unavailable.")
    expect(page).to_have_url(re.compile(r"/account/$"))
    assert page.evaluate("JSON.parse(sessionStorage.getItem('session'))") == session


# --- phones, keyboards, assistive technology ---------------------------------------------------


def _expect_phone_fit_and_one_stylesheet(page: Page) -> None:
    """No sideways scrolling at phone width, and the page's only style is the one site.css."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"
    styles = page.evaluate(
        """() => ({
            links: document.querySelectorAll('link[rel~="stylesheet"]').length,
            sheets: document.styleSheets.length,
            imports: [...document.styleSheets].flatMap((s) => [...s.cssRules]).filter((r) => r instanceof CSSImportRule)
                .length,
        })"""
    )
    assert styles == {"links": 1, "sheets": 1, "imports": 0}, (page.url, styles)


def _expect_live_notice(page: Page) -> None:
    expect(page.locator("#notice")).to_have_attribute("aria-live", re.compile(r"^(polite|assertive)$"))


def test_every_page_fits_a_phone_loads_one_stylesheet_and_announces_its_notice(page: Page, outbox):
    page.set_viewport_size(PHONE)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _expect_phone_fit_and_one_stylesheet(page)
    page.goto("/signup/")
    _expect_phone_fit_and_one_stylesheet(page)
    _expect_live_notice(page)

    _sign_up(page, "jone.doe@example.com")  # /verify/, waiting for the code
    _expect_phone_fit_and_one_stylesheet(page)
    _expect_live_notice(page)
    outbox(1)
    page.get_by_label("Code", exact=True).fill(last_email_code())
    page.get_by_role("button", name="Verify").click()
    _complete_profile(page, "jone_doe")  # /profile/, filled in
    _expect_phone_fit_and_one_stylesheet(page)
    _expect_live_notice(page)
    page.get_by_role("button", name="Finish sign-up").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("#notice")).to_contain_text("Your account is ready")
    _expect_phone_fit_and_one_stylesheet(page)
    _expect_live_notice(page)
    _log_in(page, "jone_doe")
    _expect_account(page, "jone_doe", email="jone.doe@example.com")
    _expect_phone_fit_and_one_stylesheet(page)
    _expect_live_notice(page)


def test_code_field_offers_one_time_code_autofill_on_a_numeric_keypad(page: Page):
    _sign_up(page, "otp@example.com")

    code = page.get_by_label("Code", exact=True)
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(code).to_have_attribute("inputmode", "numeric")


_FOCUSED_FIELD = """() => {
    const field = document.activeElement;
    if (!["INPUT", "SELECT", "TEXTAREA"].includes(field.tagName)) return null;
    const style = getComputedStyle(field);
    return {
        id: field.id,
        outlineStyle: style.outlineStyle,
        outlineWidth: style.outlineWidth,
        boxShadow: style.boxShadow,
    };
}"""


@pytest.mark.parametrize("path", ["/signup/", "/login/", "/password-reset/", "/login-code/"])
def test_a_field_reached_with_the_keyboard_shows_its_focus(page: Page, path):
    page.goto(path)
    expect(page.locator("main form")).to_be_visible()
    page.evaluate("document.activeElement.blur()")  # undo autofocus: the keyboard starts from the top

    fields: dict[str, dict] = {}  # every form field the Tab key reaches, once round the page
    for _ in range(25):
        page.keyboard.press("Tab")
        field = page.evaluate(_FOCUSED_FIELD)
        if field and field["id"] in fields:
            break
        if field:
            fields[field["id"]] = field
    assert fields, f"Tab never reached a field on {path}"
    for field in fields.values():
        outlined = field["outlineStyle"] != "none" and float(field["outlineWidth"].removesuffix("px")) > 0
        assert outlined or field["boxShadow"] != "none", field
