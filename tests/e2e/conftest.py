"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

import re

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, artifacts_dir


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the e2e tests, closed before any other package's tests run."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread while the browser is open, and
    # Django refuses ORM calls (such as loading demo data) from a thread with a running loop.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context_options():
    """Options for each test's browser context; override the fixture (e.g. with PHONE) to change them."""
    return DESKTOP


@pytest.fixture
def page(browser, context_options, request):
    """A page in a fresh context; its screenshot is saved when the test ends, pass or fail."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    try:
        page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def console_errors(page):
    """Console errors and uncaught exceptions on ``page``; CSP violations show up here."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
