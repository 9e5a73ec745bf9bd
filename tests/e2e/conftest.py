"""Browser fixtures: Debian's headless Chromium driven by Playwright against pytest-django's live server.

Playwright never downloads a browser here: it launches /usr/bin/chromium (``apt-get install chromium``).
Screenshots are written to docs/screenshots/ only with UPDATE_SCREENSHOTS=1, so a normal run leaves the
tree clean.
"""

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect, sync_playwright

from notifications.channels import LocmemSms

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The notice of a resend refused by the cooldown: the server's Retry-After is at most 60 s, said as
# "1 minute" if the click came within the second of the first code, in seconds after that.
NEW_CODE_NOTICE = re.compile(r"^You can ask for a new code in (1 minute|([1-5]?\d) seconds?)\.$")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

expect.set_options(timeout=5_000)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the e2e tests, stopped after them so that later tests run without it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it as root, or run apt-get install chromium")
    # Playwright's sync API keeps an asyncio loop running on this thread, and Django then refuses
    # the database work this thread still does (flushing between tests, assertions). Nothing here is
    # async code, so the check is lifted for as long as the browser runs, as Playwright's docs advise.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    """A fresh tab (empty sessionStorage) on the live server; uncaught script errors fail the test."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(5_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture(params=["desktop", "phone"])
def width(request, page: Page) -> str:
    """Runs a test twice: in a 1280 px wide window and in a 390 px wide one."""
    page.set_viewport_size(DESKTOP if request.param == "desktop" else PHONE)
    return request.param


def expect_fit(page: Page) -> None:
    """Nothing sticks out sideways: the page scrolls only up and down at its width."""
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px window"


@pytest.fixture
def snap(page: Page) -> Callable[[str], None]:
    """``snap("signup")`` saves signup-desktop.png and signup-phone.png when UPDATE_SCREENSHOTS=1."""

    def take(name: str) -> None:
        if os.environ.get("UPDATE_SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True, animations="disabled")
        page.set_viewport_size(DESKTOP)

    return take


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Polls ``condition`` (a delivery runs on the live server's thread) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        time.sleep(0.05)


@pytest.fixture
def outbox() -> Callable[[int], None]:
    """``outbox(n)`` waits until n messages (e-mail and SMS together) have been sent."""

    def wait(count: int) -> None:
        wait_for(lambda: len(mail.outbox) + len(LocmemSms.outbox) >= count)

    return wait
