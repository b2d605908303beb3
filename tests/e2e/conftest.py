"""Browser tests: Debian's Chromium driven by Playwright against a live server (pytest-django's, or uvicorn)."""

import io
import re
import socket
import threading
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, artifacts_dir, off_the_loop


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


@pytest.fixture
def demo_data(transactional_db):
    """The demo data set (``onewindow demo``), committed so that the live server sees it; its
    demo cases are filed through the services, so it is loaded off the loop."""
    off_the_loop(call_command, "demo", quiet_logins=True, stdout=io.StringIO())


@pytest.fixture
def asgi_live_server(transactional_db):
    """The platform served as in production (uvicorn, ASGI, websockets) on a free port of
    127.0.0.1, from a thread of this process: unlike pytest-django's WSGI ``live_server``, it
    answers the websocket of the workbench's live counters. Static files come from the apps'
    folders, as with ``live_server``. ``.url`` is its address."""
    import uvicorn
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from onewindow.config import asgi

    application = ProtocolTypeRouter({
        "http": ASGIStaticFilesHandler(asgi.http_application),
        "websocket": asgi.websocket_application,
    })
    # Listening before the server starts: a browser that connects early waits in the backlog.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    server = uvicorn.Server(uvicorn.Config(application, lifespan="off", log_level="warning",
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    server.should_exit = True
    thread.join()
    listener.close()
