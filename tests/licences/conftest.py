"""The licence library's small world: the cases' world (a city, its 综合行政执法局 with a
published 户外广告设置许可 item, window clerk, reviewer and chief representative), a licence
type that the item's approvals issue, the applicant with a verified identity, and a clock
held at a chosen date that tests move on."""

import datetime as dt
from types import SimpleNamespace

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.catalogue import services as catalogue
from onewindow.core.identifiers import make_id_number
from onewindow.core.workdays import SHANGHAI
from onewindow.licences import clock, services
from tests.cases.conftest import (  # noqa: F401
    approver,
    delivered_case,
    filed_case,
    item,
    reviewer,
)
from tests.catalogue.conftest import STANDARD, basic, item_content, publish, world  # noqa: F401

TODAY = dt.date(2026, 12, 9)
HOLDER_ID = make_id_number("520302", dt.date(1988, 3, 14), 135)
OTHER_ID = make_id_number("520302", dt.date(1992, 6, 2), 246)
FIELDS = [
    {"key": "location", "label": "设置地点", "type": "text", "required": True},
    {"key": "area", "label": "面积（平方米）", "type": "integer", "required": False},
    {"key": "lit", "label": "是否发光", "type": "boolean", "required": False},
]


class Clock:
    """The library's clock, set by the test: `licence_clock.set(date)`, `.advance(days=...)`."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def set(self, day: dt.date) -> None:
        self.moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=SHANGHAI)

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


@pytest.fixture(autouse=True)
def licence_clock(monkeypatch):
    held = Clock(dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=SHANGHAI))
    monkeypatch.setattr(clock, "now", held)
    return held


@pytest.fixture(autouse=True)
def master_key(settings, tmp_path):
    """Each test seals its department keys under its own master key."""
    settings.LICENCE_MASTER_KEY_FILE = tmp_path / "licence_master.key"


@pytest.fixture
def holder(world):
    """The item's applicant (world.citizen) with a verified identity."""
    citizen = world.citizen
    citizen.id_number, citizen.real_name = HOLDER_ID, "张三"
    citizen.save(update_fields=["id_number", "real_name"])
    return citizen


@pytest.fixture
def licence_type(world, item):
    """户外广告设置许可证, issued by 综合行政执法局 when the item is approved; valid 2 years."""
    return services.licence_type_save(
        actor=world.editor,
        code="outdoor_ad_permit",
        name="户外广告设置许可证",
        department=world.market,
        holder_kind="person",
        fields=FIELDS,
        validity_years=2,
        reminder_days=30,
        issued_for_items=[item.impl_code],
        replaces_materials=["户外广告设置许可证"],
        print_title="户外广告设置许可证",
    )


@pytest.fixture
def sm2_type(world):
    return services.licence_type_save(
        actor=world.editor,
        code="ad_sm2",
        name="户外广告登记证",
        department=world.market,
        holder_kind="person",
        fields=FIELDS[:1],
        validity_years=1,
        algorithm="sm2",
    )


@pytest.fixture
def issue(world, licence_type, holder):
    """issue(**changes) → a licence of `licence_type` issued by the department administrator."""

    def make(*, of_type=None, **changes):
        values = {
            "holder_id": HOLDER_ID,
            "holder_name": "张三",
            "fields": {"location": "红花岗区中华南路88号", "area": 12},
        }
        values.update(changes)
        return services.licence_issue(
            actor=world.editor, licence_type=of_type or licence_type, **values
        )

    return make


def _staff(make_user, username, role, department):
    user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
    RoleAssignment.objects.create(user=user, role=role, department=department)
    return user


@pytest.fixture
def people(world, make_user, holder):
    """The holder, another citizen, and staff of the other department (民政局)."""
    return SimpleNamespace(
        holder=holder,
        stranger=make_user(
            "stranger", kind=AccountKind.CITIZEN, real_name="李四", id_number=OTHER_ID
        ),
        other_clerk=_staff(make_user, "otherclerk", Role.WINDOW_CLERK, world.other),
        other_admin=world.outsider,
    )


@pytest.fixture
def reuse_item(world, make_user):
    """A published item of 民政局 whose guide asks for the 户外广告设置许可证 (replaceable by the
    licence) and an application form."""
    standard = {
        **STANDARD,
        "name": "户外广告备案",
        "materials": [
            {"key": "application", "name": "备案申请表", "required": True},
            {
                "key": "permit",
                "name": "户外广告设置许可证",
                "required": True,
                "licence_type": "outdoor_ad_permit",
            },
        ],
    }
    basic_item = catalogue.basic_item_create(
        actor=world.admin, basic_code="XK00129000", standard=standard
    )
    steps = [
        {
            "key": "accept",
            "name": "受理",
            "kind": "accept",
            "role": "window_clerk",
            "limit_days": 1,
        },
        {
            "key": "decide",
            "name": "决定",
            "kind": "decide",
            "role": "window_clerk",
            "limit_days": 3,
        },
    ]
    legal = _staff(make_user, "legal_other", Role.LEGAL_REVIEWER, world.other)
    version = catalogue.item_create(
        actor=world.outsider,
        basic_item=basic_item,
        department=world.other,
        content=item_content(
            name="户外广告备案",
            materials=standard["materials"],
            steps=steps,
            form={"fields": []},
        ),
    )
    version = catalogue.version_update(
        actor=world.outsider,
        version=version,
        content=version.content,
        change_note="首次发布",
    )
    version = catalogue.version_submit(actor=world.outsider, version=version)
    version = catalogue.version_approve(actor=legal, version=version)
    published = catalogue.version_publish_urgent(
        actor=world.admin, version=version, reason="测试发布"
    )
    return type(published.item).objects.get(pk=published.item_id)
