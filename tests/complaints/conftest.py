"""The complaints' small world: the catalogue's city with its departments, a 12345 centre of the
city and its operator, categories, and a seeded working-day calendar."""

import datetime as dt
from types import SimpleNamespace

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.complaints import services
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.calendar import calendar_seed_from_package
from onewindow.core.services.regions import department_create
from tests.catalogue.conftest import world  # noqa: F401


@pytest.fixture(autouse=True)
def calendar(db):
    calendar_seed_from_package(actor=None)


def _staff(make_user, username, role, department):
    user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
    RoleAssignment.objects.create(user=user, role=role, department=department)
    return user


@pytest.fixture
def hotline(world, make_user):
    """centre: the city's 12345 centre; operator: its operator; market_staff/other_staff: staff
    of the departments; roads/noise: categories (noise goes to 民政局 by default, roads to nobody)."""
    centre_department = department_create(
        actor=None,
        name="遵义市12345政务服务便民热线",
        short_name="",
        parent=None,
        region=world.city,
        uscc=make_uscc("1", "1", world.city.code, "DM512345"),
    )
    centre = services.centre_save(
        actor=None, department=centre_department, region=world.city
    )
    noise = services.topic_save(
        actor=None,
        code="noise",
        name="噪音扰民",
        department=world.other,
        promised_days=5,
        group="城市管理",
        keywords="噪音,施工",
    )
    roads = services.topic_save(
        actor=None,
        code="roads",
        name="道路破损",
        promised_days=10,
        group="城市管理",
        attributes=[
            {
                "code": "size",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "破损面积",
                "values": [{"key": "s", "name": "小"}, {"key": "l", "name": "大"}],
            }
        ],
    )
    citizen = world.citizen
    citizen.real_name = "张三"
    citizen.phone = "13800138000"
    citizen.save()
    people = SimpleNamespace(
        centre=centre,
        noise=noise,
        roads=roads,
        citizen=citizen,
        operator=_staff(make_user, "operator", Role.WINDOW_CLERK, centre_department),
        market_staff=world.clerk,
        other_staff=_staff(make_user, "civil", Role.REVIEWER, world.other),
        stranger=make_user("stranger", kind=AccountKind.CITIZEN, real_name="李娜"),
    )
    # Roles in force since long ago, so tests may hold the clock at a past date (a holiday).
    RoleAssignment.objects.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    return people


@pytest.fixture
def submit(hotline, world):
    """submit(**fields) → a complaint filed by the citizen on the portal."""

    def make(*, actor=None, **fields):
        values = {
            "kind": "complaint",
            "title": "夜间施工噪音",
            "content": "工地每晚十一点后仍在施工。",
            "topic": hotline.noise,
            "region": world.county,
            **fields,
        }
        return services.complaint_submit(actor=actor or hotline.citizen, **values)

    return make
