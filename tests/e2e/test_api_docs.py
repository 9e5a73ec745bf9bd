"""The documentation pages in a real browser, under their Content-Security-Policy: Swagger UI
(/api/docs/) and ReDoc (/api/redoc/) render the API's operations from this site's files alone, and
the policy blocks nothing they need."""

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP

pytestmark = pytest.mark.e2e

# ReDoc's sidebar footer always tries this image from its maker's CDN; the policy blocks it (the
# footer then hides it), and it is the one violation the docs pages are allowed.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@dataclass
class Tab:
    page: Page
    violations: list[str] = field(default_factory=list)  # console reports of the policy
    errors: list[str] = field(default_factory=list)  # uncaught script errors
    offsite: list[str] = field(default_factory=list)  # requests answered by another origin


@pytest.fixture
def tab(browser: Browser, live_server) -> Iterator[Tab]:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-US")
    tab = Tab(context.new_page())
    tab.page.set_default_timeout(10_000)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on(
        "console",
        lambda message: tab.violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    own = (live_server.url, "blob:", "data:")
    tab.page.on(
        "requestfinished", lambda request: tab.offsite.append(request.url) if not request.url.startswith(own) else None
    )
    yield tab
    context.close()


def test_swagger_ui_renders_the_operations_under_its_policy(tab: Tab):
    response = tab.page.goto("/api/docs/")
    assert "script-src 'self';" in response.headers["content-security-policy"]

    path = tab.page.locator(".opblock-summary-path", has_text="/user/signup/")
    signup = tab.page.locator(".opblock").filter(has=path)
    expect(signup).to_be_visible()
    signup.locator(".opblock-summary").click()
    expect(signup.get_by_role("button", name="Try it out")).to_be_visible()
    expect(tab.page.get_by_role("button", name="Authorize")).to_be_visible()

    assert tab.violations == []
    assert tab.errors == []
    assert tab.offsite == []


def test_redoc_renders_the_operations_and_searches_under_its_policy(tab: Tab):
    response = tab.page.goto("/api/redoc/")
    assert "script-src 'self';" in response.headers["content-security-policy"]

    expect(tab.page.get_by_role("heading", level=1)).to_have_text("DRF Custom Authentication API (1.0.0)")
    expect(tab.page.get_by_role("menuitem", name="user", exact=True)).to_be_visible()
    # Search runs in a worker made from a blob: URL, which the policy allows.
    tab.page.get_by_placeholder("Search...").fill("refresh")
    expect(tab.page.locator("[data-role='search:results']")).to_contain_text("Exchange a refresh token")

    assert [text for text in tab.violations if REDOCLY_LOGO not in text] == []
    assert tab.errors == []
    assert tab.offsite == []
