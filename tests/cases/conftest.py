"""Cases are filed against published catalogue items: the catalogue's small world is reused."""

import pytest

from onewindow.accounts.choices import Role
from onewindow.accounts.models import RoleAssignment
from onewindow.catalogue import services as catalogue
from tests.catalogue.conftest import STANDARD, basic, item_content, publish, world  # noqa: F401


@pytest.fixture
def item(world, basic, publish):
    """户外广告设置许可 of the city department, published: promise 8 working days, statutory 20."""
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content())
    published = publish(version)
    return type(published.item).objects.get(pk=published.item_id)


@pytest.fixture
def clerk(world):
    return world.clerk


@pytest.fixture
def other_clerk(world, make_user):
    from onewindow.accounts.choices import AccountKind

    user = make_user("otherclerk", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=user, role=Role.WINDOW_CLERK, department=world.other)
    return user


def _staff(world, make_user, username, role, department):
    from onewindow.accounts.choices import AccountKind

    user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
    RoleAssignment.objects.create(user=user, role=role, department=department)
    return user


@pytest.fixture
def reviewer(world, make_user):
    """审核员 of the item's department."""
    return _staff(world, make_user, "reviewer", Role.REVIEWER, world.market)


@pytest.fixture
def approver(world, make_user):
    """首席代表 of the item's department, with a written authorisation in force for all its items."""
    import datetime as dt

    from onewindow.accounts.models import ChiefRepresentativeAuthorisation

    user = _staff(world, make_user, "approver", Role.APPROVER, world.market)
    today = dt.date.today()
    ChiefRepresentativeAuthorisation.objects.create(
        representative=user, department=world.market, scope_text="本部门全部行政许可事项", all_items=True,
        document_number="遵执法授〔2026〕1号", signatory="局长", signed_on=today - dt.timedelta(days=30),
        valid_from=today - dt.timedelta(days=30), valid_until=today + dt.timedelta(days=365),
    )
    return user
