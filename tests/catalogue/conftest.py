"""A small catalogue world: a city with two departments, their staff, and helpers to build items;
and a browser's view of the guide editor, for tests that drive it."""

import copy
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.urls import reverse

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.catalogue import services
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.regions import department_create, region_create

STANDARD = {
    "name": "户外广告设置许可",
    "item_type": "01",
    "legal_basis": "《城市市容和环境卫生管理条例》第十一条",
    "exercise_level": "3",
    "legal_limit": {"amount": 20, "unit": "working_day", "note": ""},
    "conditions": "设置户外广告符合城市户外广告设置规划。",
    "materials": [
        {"key": "application", "name": "户外广告设置申请表", "required": True},
        {"key": "site_photos", "name": "设置地点现状照片", "required": True, "deferrable": True},
    ],
}


def item_content(**changes):
    """A complete, valid guide built on STANDARD; keyword arguments replace elements."""
    content = {
        **copy.deepcopy(STANDARD),
        "service_objects": ["1", "2"],
        "handling_forms": ["1", "2"],
        "case_type": "2",
        "promised_limit": {"amount": 8, "unit": "working_day", "note": ""},
        "visits": 1,
        "online_depth": 4,
        "delivery_methods": ["window", "post"],
        "themes": [],
        "lists": ["power"],
        "keywords": ["广告牌"],
        "steps": [
            {"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 1},
            {"key": "review", "name": "审查", "kind": "review", "role": "reviewer", "limit_days": 5},
            {"key": "decide", "name": "决定", "kind": "decide", "role": "approver", "limit_days": 3},
        ],
        "form": {"fields": [
            {"key": "location", "label": "设置地点", "type": "text", "required": True},
            {"key": "photos", "label": "现状照片", "type": "attachment", "material": "site_photos"},
        ]},
    }
    content.update(changes)
    return content


@pytest.fixture
def world(db, make_user):
    province = region_create(actor=None, code="520000", name="贵州省", parent=None)
    city = region_create(actor=None, code="520300", name="遵义市", parent=province)
    county = region_create(actor=None, code="520302", name="红花岗区", parent=city)

    def department(name, region, base):
        return department_create(
            actor=None, name=name, short_name="", uscc=make_uscc("1", "1", region.code, base), region=region, parent=None
        )

    market = department("遵义市综合行政执法局", city, "DM520313")
    other = department("遵义市民政局", city, "DM520309")
    district = department("红花岗区综合行政执法局", county, "DM520399")

    def staff(username, role, *, department=None, region=None):
        user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
        RoleAssignment.objects.create(user=user, role=role, department=department, region=region)
        return user

    admin = make_user("root", kind=AccountKind.STAFF, otp=True, is_staff=True, is_superuser=True)
    return SimpleNamespace(
        city=city,
        county=county,
        market=market,
        other=other,
        district=district,
        admin=admin,
        editor=staff("editor", Role.DEPARTMENT_ADMIN, department=market),
        outsider=staff("outsider", Role.DEPARTMENT_ADMIN, department=other),
        legal=staff("legal", Role.LEGAL_REVIEWER, department=market),
        clerk=staff("clerk", Role.WINDOW_CLERK, department=market),
        citizen=make_user("citizen", kind=AccountKind.CITIZEN),
    )


@pytest.fixture
def basic(world):
    return services.basic_item_create(actor=world.admin, basic_code="XK00127000", standard=STANDARD)


@pytest.fixture
def publish(world):
    """publish(version) → the version published through review and an urgent publication."""

    def run(version, *, note="首次发布"):
        version.refresh_from_db()
        version = services.version_update(actor=world.editor, version=version, content=version.content, change_note=note)
        version = services.version_submit(actor=world.editor, version=version)
        version = services.version_approve(actor=world.legal, version=version)
        return services.version_publish_urgent(actor=world.admin, version=version, reason="测试发布")

    return run


# --- a browser's view of a form -------------------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would post from the form with `action`, untouched: every named control's value."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.found = False
        self.data: dict[str, list[str]] = {}
        self._textarea: list[str] | None = None
        self._select: dict | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("action") == self.action
            self.found = self.found or self.inside
            return
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("submit", "button", "file", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self._add(name, attributes.get("value") or "on")
            else:
                self._add(name, attributes.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attributes, "chosen": [], "first": None}
        elif tag == "option" and self._select is not None:
            value = attributes.get("value") or ""
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in attributes:
                self._select["chosen"].append(value)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # Browsers drop the line break that follows <textarea>.
            self._add(name, text.removeprefix("\n"))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            select = self._select
            chosen = select["chosen"] or ([] if select["multiple"] or select["first"] is None else [select["first"]])
            for value in chosen:
                self._add(select["name"], value)
            self._select = None


def form_data(html: str, action: str) -> dict[str, list[str]]:
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no form posting to {action}"
    return reader.data


def edit_url(version) -> str:
    return reverse("catalogue_workbench:version_edit", args=[version.pk])


def editor_data(client, version) -> dict[str, list[str]]:
    response = client.get(edit_url(version))
    assert response.status_code == 200
    return form_data(response.content.decode(), edit_url(version))


def save(client, version, data):
    return client.post(edit_url(version), {**data, "action": "save"})


def page_text(response) -> str:
    return response.content.decode()
