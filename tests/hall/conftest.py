"""The hall's small world: the catalogue's city with a government service centre, a hall run by
it, windows of the market department serving a published item, and a clock held at a chosen
moment (a Wednesday morning before the hall opens) that tests move on."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.catalogue import services as catalogue
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.regions import department_create
from onewindow.core.workdays import SHANGHAI
from onewindow.hall import clock, services
from tests.catalogue.conftest import STANDARD, basic, item_content, publish, world  # noqa: F401

# Wednesday 9 December 2026, 08:00 in Beijing: Thursday 10th and Friday 11th are working days,
# the 12th and 13th a weekend; with five working days ahead the last bookable day is the 16th.
WEDNESDAY = dt.date(2026, 12, 9)
THURSDAY = dt.date(2026, 12, 10)
SATURDAY = dt.date(2026, 12, 12)
LAST_BOOKABLE = dt.date(2026, 12, 16)
NINE = dt.time(9, 0)


class Clock:
    """The hall's clock, set by the test: `clock.set(day, "09:10")`, `clock.advance(minutes=5)`."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def set(self, day: dt.date, hhmm: str) -> dt.datetime:
        hours, minutes = (int(part) for part in hhmm.split(":"))
        self.moment = dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=SHANGHAI)
        return self.moment

    def advance(self, **delta: float) -> dt.datetime:
        self.moment += dt.timedelta(**delta)
        return self.moment


@pytest.fixture(autouse=True)
def hall_clock(monkeypatch):
    held = Clock(dt.datetime.combine(WEDNESDAY, dt.time(8, 0), tzinfo=SHANGHAI))
    monkeypatch.setattr(clock, "now", held)
    return held


@pytest.fixture
def item(world, basic, publish):
    """户外广告设置许可 of the city's 综合行政执法局 (world.market), published."""
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content())
    return type(publish(version).item).objects.get(pk=version.item_id)


@pytest.fixture
def other_item(world, publish):
    """A second published item of the same department."""
    standard = {**STANDARD, "name": "城市建筑垃圾处置核准"}
    basic_item = catalogue.basic_item_create(actor=world.admin, basic_code="XK00128000", standard=standard)
    version = catalogue.item_create(actor=world.editor, basic_item=basic_item, department=world.market,
                                    content=item_content(name="城市建筑垃圾处置核准"))
    return type(publish(version).item).objects.get(pk=version.item_id)


@pytest.fixture
def centre(world):
    return department_create(actor=None, name="遵义市政务服务中心", short_name="", parent=None, region=world.city,
                             uscc=make_uscc("1", "1", world.city.code, "DM520302"))


@pytest.fixture
def hall(world, centre):
    return services.hall_save(actor=world.admin, code="zunyi-city", name="遵义市政务服务中心", department=centre,
                              address="汇川区厦门路")


@pytest.fixture
def window(world, hall, item):
    """Window 11 of the market department (all its items), taking appointments: 30-minute
    slots, two places each."""
    created = services.window_save(actor=world.admin, hall=hall, department=world.market, number="11",
                                   name="综合执法窗口", queue_letter="A")
    services.schedule_save(actor=world.admin, window=created, slot_minutes=30, capacity=2)
    return created


@pytest.fixture
def window2(world, hall, item):
    """Window 12 of the market department, no appointments."""
    return services.window_save(actor=world.admin, hall=hall, department=world.market, number="12",
                                name="综合执法窗口", queue_letter="A")


def _staff(make_user, username, role, department):
    user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
    RoleAssignment.objects.create(user=user, role=role, department=department)
    return user


@pytest.fixture
def people(world, make_user):
    """clerk/clerk2: window clerks of the market department; other_clerk: of 民政局 (no window in
    the hall); citizen/citizen2: applicants."""
    return SimpleNamespace(
        citizen=world.citizen,
        citizen2=make_user("citizen2", kind=AccountKind.CITIZEN, real_name="王芳"),
        clerk=world.clerk,
        clerk2=_staff(make_user, "clerk2", Role.WINDOW_CLERK, world.market),
        other_clerk=_staff(make_user, "otherclerk", Role.WINDOW_CLERK, world.other),
    )


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def submitted_case(world, item):
    """A submitted application for `item` by world.citizen (through the cases services)."""
    from onewindow.cases import services as cases

    def photo():
        return SimpleUploadedFile("现场照片.png", PNG, content_type="image/png")

    case = cases.case_start(actor=world.citizen, item=item)
    cases.case_save_form(actor=world.citizen, case=case, data={"location": "红花岗区中华南路88号"})
    cases.case_attach(actor=world.citizen, case=case, material_key="application", uploaded_file=photo())
    cases.case_attach(actor=world.citizen, case=case, material_key="site_photos", uploaded_file=photo())
    return cases.case_submit(actor=world.citizen, case=case, idempotency_key="hall-visit-0001")
