"""Supervision watches the cases of the catalogue's small world: a city (遵义市) with two city
departments and a district department, its supervisor, one in another city who must see
nothing, and a way to move supervision's clock to another day."""

import datetime as dt
from types import SimpleNamespace

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.core import workdays
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.regions import department_create, region_create
from onewindow.supervision import clock
from tests.cases.conftest import (  # noqa: F401
    approver,
    clerk,
    delivered_case,
    filed_case,
    item,
    other_clerk,
    reviewer,
)
from tests.cases.test_lifecycle import special_item  # noqa: F401
from tests.catalogue.conftest import STANDARD, basic, item_content, publish, world  # noqa: F401


@pytest.fixture
def people(world, make_user):
    """The city's supervisor; a supervisor of another city (an outsider here); the market
    department's head is the world's editor (部门管理员)."""
    other_city = region_create(
        actor=None, code="520400", name="安顺市", parent=world.city.parent
    )
    elsewhere = department_create(
        actor=None,
        name="安顺市市场监督管理局",
        short_name="",
        uscc=make_uscc("1", "1", other_city.code, "DM520401"),
        region=other_city,
        parent=None,
    )

    def staff(username, role, **scope):
        user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
        RoleAssignment.objects.create(user=user, role=role, **scope)
        return user

    return SimpleNamespace(
        supervisor=staff("city_supervisor", Role.SUPERVISOR, region=world.city),
        outsider=staff("far_supervisor", Role.SUPERVISOR, region=other_city),
        province_supervisor=staff(
            "province_supervisor", Role.SUPERVISOR, region=world.city.parent
        ),
        head=world.editor,
        elsewhere=elsewhere,
    )


@pytest.fixture
def move_to(monkeypatch):
    """move_to(day): supervision's clock reads noon of that Beijing day from now on."""

    def move(day: dt.date) -> None:
        moment = dt.datetime.combine(day, dt.time(12, 0), tzinfo=workdays.SHANGHAI)
        monkeypatch.setattr(clock, "now", lambda: moment)

    return move


@pytest.fixture
def accepted_case(world, filed_case):
    """accepted_case() → a case accepted by the window today: promise 8 working days, the
    review step (5 working days) waiting in the pool."""
    from onewindow.cases import services

    return lambda: services.case_accept(actor=world.clerk, case=filed_case())


@pytest.fixture(autouse=True)
def settled_feed(monkeypatch):
    """The sweeps read timeline events at once (in production they wait FEED_SETTLE for late
    commits; `test_young_events_wait_for_late_commits` covers that)."""
    from onewindow.analytics import services as analytics
    from onewindow.supervision import services

    monkeypatch.setattr(services, "FEED_SETTLE", dt.timedelta(0))
    monkeypatch.setattr(analytics, "FEED_SETTLE", dt.timedelta(0))
