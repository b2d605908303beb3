"""Browser helpers for the end-to-end tests.

ONEWINDOW_CHROMIUM   the Chromium binary (default: Debian's /usr/bin/chromium)
ONEWINDOW_ARTIFACTS  where screenshots go, one per test under e2e/ (default: ./artifacts)
ONEWINDOW_README_SCREENSHOTS  "1" to also write the README's screenshots into docs/
"""

import base64
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.db import connections
from django_otp.oath import TOTP

CHROMIUM = os.environ.get("ONEWINDOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": {"width": 1280, "height": 800}}
PHONE = {
    **DESKTOP,
    "viewport": {"width": 375, "height": 667},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def artifacts_dir() -> Path:
    path = Path(os.environ.get("ONEWINDOW_ARTIFACTS", "artifacts")) / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


def totp_code(secret: str) -> str:
    """The current code of a base32 TOTP secret, as an authenticator app shows it."""
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return f"{TOTP(base64.b32decode(padded)).token():06d}"


def login_as_role(page, base_url: str, login: dict) -> None:
    """Sign in through the login form, then the second-factor form when the login has a secret."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", login["username"])
    page.fill("input[name=password]", login["password"])
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()
    if login.get("totp_secret"):
        page.fill("#totp-token", totp_code(login["totp_secret"]))
        with page.expect_navigation():
            page.locator("form:has(#totp-token) [type=submit]").click()


def off_the_loop(function, *args, **kwargs):
    """Run ``function`` in a thread of its own and return its result.

    Playwright's sync API keeps an asyncio loop running on the test's thread, and Channels'
    ``async_to_sync`` (which tells the workbench counters when a case changes) refuses to run
    there; setup that changes cases through the services runs on another thread instead.
    """

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
