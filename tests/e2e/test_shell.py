import pytest
from playwright.sync_api import expect

from onewindow.accounts.choices import Role
from onewindow.accounts.demo import DEMO_LOGINS
from tests.e2e.browser import PHONE, login_as_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def landing(login: dict) -> tuple[str, str]:
    """Where a role lands after signing in, and a heading it must see there."""
    if login["role"] == Role.SUPERVISOR:
        return "/supervision/", "电子监察"
    if login["role"] in Role.values:
        return "/workbench/", "工作台"
    return "/", "一网通办，办事不用跑"


def test_portal_home_renders_with_htmx_under_the_csp(page, live_server, console_errors):
    response = page.goto(live_server.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("h1")).to_have_text("一网通办，办事不用跑")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    # htmx ran, took its CSP-safe settings from the page, and injected no <style> element.
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert console_errors == []


@pytest.mark.parametrize("login", DEMO_LOGINS, ids=[login["username"] for login in DEMO_LOGINS])
def test_each_demo_role_signs_in_and_lands_on_its_screen(page, live_server, demo_data, console_errors, login):
    login_as_role(page, live_server.url, login)
    path, heading = landing(login)
    assert page.url == live_server.url + path
    expect(page.locator("main h1")).to_have_text(heading)
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    assert console_errors == []


class TestPhone:
    @pytest.fixture
    def context_options(self):
        return PHONE

    def test_portal_fits_a_phone_without_console_errors(self, page, live_server, console_errors):
        page.goto(live_server.url + "/")
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        expect(page.get_by_role("navigation", name="门户导航")).to_be_visible()
        assert console_errors == []

    def test_workbench_navigation_folds_behind_the_menu_button(self, page, live_server, demo_data, console_errors):
        clerk = next(login for login in DEMO_LOGINS if login["role"] == Role.WINDOW_CLERK)
        login_as_role(page, live_server.url, clerk)
        navigation = page.get_by_role("navigation", name="工作台导航")
        menu = page.get_by_role("button", name="菜单")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(navigation).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(navigation).to_be_visible()
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        assert console_errors == []
