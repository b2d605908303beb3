"""Evaluations rate the cases of the cases' small world and visits to a hall of the same city:
the market department's delivered case, a window of that department and a finished ticket."""

from types import SimpleNamespace

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.calendar import calendar_seed_from_package
from onewindow.core.services.regions import department_create
from onewindow.hall import services as hall
from tests.cases.conftest import (  # noqa: F401
    approver,
    delivered_case,
    filed_case,
    item,
    reviewer,
)
from tests.catalogue.conftest import basic, publish, world  # noqa: F401


@pytest.fixture(autouse=True)
def calendar(db):
    calendar_seed_from_package(actor=None)


@pytest.fixture
def people(world, make_user):
    """rater: the applicant with a verified real name; stranger: another citizen; supervisor: of
    the city; other_supervisor: of another province; handler: a reviewer of the department."""
    from onewindow.core.services.regions import region_create

    def staff(username, role, **scope):
        user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
        RoleAssignment.objects.create(user=user, role=role, **scope)
        return user

    world.citizen.real_name = "张三"
    world.citizen.real_name_verified = True
    world.citizen.phone = "13800138000"
    world.citizen.save()
    sichuan = region_create(actor=None, code="510000", name="四川省", parent=None)
    return SimpleNamespace(
        rater=world.citizen,
        stranger=make_user("stranger", kind=AccountKind.CITIZEN, real_name="李娜"),
        supervisor=staff("supervisor", Role.SUPERVISOR, region=world.city),
        other_supervisor=staff("far_supervisor", Role.SUPERVISOR, region=sichuan),
        manager=world.editor,
        outsider=world.outsider,
    )


@pytest.fixture
def visit(world, item):
    """visit(clerk=world.clerk) → a finished ticket at window 11 of the market department."""

    def make(*, clerk=None):
        clerk = clerk or world.clerk
        centre = department_create(
            actor=None,
            name="遵义市政务服务中心",
            short_name="",
            parent=None,
            region=world.city,
            uscc=make_uscc("1", "1", world.city.code, "DM520302"),
        )
        hall_ = hall.hall_save(
            actor=world.admin,
            code="zunyi-city",
            name="遵义市政务服务中心",
            department=centre,
        )
        window = hall.window_save(
            actor=world.admin,
            hall=hall_,
            department=world.market,
            number="11",
            name="综合执法窗口",
            queue_letter="A",
        )
        ticket = hall.ticket_issue(actor=clerk, hall=hall_, item=item)
        ticket = hall.ticket_call_next(actor=clerk, window=window)
        ticket = hall.ticket_start(actor=clerk, ticket=ticket)
        return hall.ticket_finish(actor=clerk, ticket=ticket)

    return make
