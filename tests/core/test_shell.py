import json
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from onewindow.accounts.choices import Role
from onewindow.accounts.models import StaffProfile
from onewindow.core.testing.access_matrix import login_as

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """The parts of a rendered page the shell promises: elements, texts, script bodies."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []
        self.inline_scripts: list[str] = []
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data):
        if not data.strip():
            return
        if self._open and self._open[-1] == "script":
            self.inline_scripts.append(data)
        self.texts.append((tuple(self._open), data.strip()))

    def find(self, tag, **attrs):
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def text_within(self, tag):
        return [text for path, text in self.texts if tag in path]


@pytest.fixture
def pages(client_as, citizen, staff, supervisor):
    """Each shell with a visitor it is meant for: (url name, client)."""
    return {
        "portal": ("core:home", Client()),
        "portal-citizen": ("core:home", client_as(citizen)),
        "workbench": ("core:workbench", client_as(staff)),
        "supervision": ("core:supervision", client_as(supervisor)),
    }


SHELLS = ["portal", "portal-citizen", "workbench", "supervision"]
HEADINGS = {
    "portal": "一网通办，办事不用跑",
    "portal-citizen": "一网通办，办事不用跑",
    "workbench": "工作台",
    "supervision": "电子监察",
}
ENGLISH = {"portal": "One-stop", "portal-citizen": "One-stop", "workbench": "Workbench", "supervision": "E-supervision"}


def get(pages, shell, language=None):
    name, client = pages[shell]
    with translation.override(language or settings.LANGUAGE_CODE):
        url = reverse(name)
    response = client.get(url)
    assert response.status_code == 200, (shell, url, response.status_code)
    return response


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_renders_utf8_chinese_by_default(pages, shell):
    response = get(pages, shell)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = Page(response.content.decode("utf-8"))
    assert page.find("meta", charset="utf-8")
    assert page.find("html")[0]["lang"] == "zh-hans"
    assert HEADINGS[shell] in response.content.decode()
    assert page.find("meta", name="viewport")


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_in_english_under_the_en_prefix(pages, shell):
    response = get(pages, shell, "en")
    html = response.content.decode()
    assert Page(html).find("html")[0]["lang"] == "en"
    assert ENGLISH[shell] in html
    assert "跳到主要内容" not in html and "Skip to main content" in html


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_has_landmarks_skip_link_and_current_nav(pages, shell):
    page = Page(get(pages, shell).content.decode())
    skip = page.find("a", href="#main")
    assert skip and "skip-link" in skip[0]["class"]
    assert page.find("main", id="main")
    assert page.find("header", role="banner")
    assert page.find("nav")
    current = page.find("a", **{"aria-current": "page"})
    assert len(current) == 1
    assert current[0]["href"] == reverse(pages[shell][0])
    assert page.find("div", role="status")


@pytest.mark.parametrize("shell", SHELLS)
def test_static_files_referenced_exist(pages, shell):
    page = Page(get(pages, shell).content.decode())
    referenced = [a["href"] for a in page.find("link")] + [a["src"] for a in page.find("script")]
    assert len(referenced) == 4
    for url in referenced:
        assert url.startswith(settings.STATIC_URL), url
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
    scripts = page.find("script")
    assert all("defer" in a for a in scripts)


@pytest.mark.parametrize("shell", SHELLS)
def test_csp_header_and_no_inline_script_or_style(pages, shell):
    response = get(pages, shell)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    page = Page(response.content.decode())
    assert page.inline_scripts == []
    assert all(a.get("src") for a in page.find("script"))
    assert page.find("style") == []
    for tag, attrs in page.elements:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith(("on", "hx-on"))], (tag, attrs)


def test_workbench_header_names_the_user_department_and_role(client_as, demo_data):
    clerk = get_user_model().objects.get(username="clerk")
    page = Page(client_as(clerk).get(reverse("core:workbench")).content.decode())
    department = StaffProfile.objects.get(user=clerk).department
    assert page.text_within("dd") == [clerk.real_name, department.short_name, str(Role.WINDOW_CLERK.label)]
    badge = page.find("span", id="unread-badge")[0]
    assert badge["hx-get"] == reverse("core:inbox_unread_count")


def test_hx_headers_carry_a_csrf_token_the_server_accepts(citizen):
    client = Client(enforce_csrf_checks=True)
    login_as(client, citizen)
    page = Page(client.get(reverse("core:home")).content.decode())
    headers = json.loads(page.find("body")[0]["hx-headers"])
    assert headers["X-CSRFToken"]
    refused = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert refused.status_code == 403
    accepted = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, headers=headers)
    assert accepted.status_code == 302


def test_language_switch_redirects_to_the_english_page(pages):
    _, client = pages["workbench"]
    page = Page(get(pages, "workbench").content.decode())
    form = page.find("form", action="/i18n/setlang/")[0]
    assert form["method"] == "post"
    assert {a["value"] for a in page.find("option")} == {"zh-hans", "en"}
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/workbench/"})
    assert response.status_code == 302 and response["Location"] == "/en/workbench/"
    assert ENGLISH["workbench"] in client.get(response["Location"]).content.decode()


def test_404_is_the_translated_shell_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and Page(html).find("header", role="banner")
    english = client.get("/en/no-such-page/")
    assert english.status_code == 404
    assert "Page not found" in english.content.decode()


def test_403_is_the_shell_page(client_as, citizen):
    response = client_as(citizen).get(reverse("core:workbench"))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_500_renders_without_context_processors():
    request = RequestFactory().get("/")
    response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务器错误" in html
    page = Page(html)
    assert page.find("meta", charset="utf-8")
    assert page.inline_scripts == [] and page.find("style") == []


@pytest.mark.django_db
def test_health_endpoint_answers_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]
