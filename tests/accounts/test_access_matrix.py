"""Who may open which account page: role × object × action, outsiders get 404, not the data."""

import pytest
from django.db import transaction
from django.urls import reverse

from onewindow.accounts import services
from onewindow.accounts.choices import Role
from onewindow.core import notifications
from onewindow.core.testing.access_matrix import AccessCase, assert_access_matrix
from tests.accounts.conftest import USCC


@pytest.fixture
def actors(make_staff, make_citizen, places, root):
    return {
        "anonymous": None,
        "owner": make_citizen("owner", real_name="张伟"),
        "citizen": make_citizen("stranger", real_name="李四"),
        "clerk": make_staff("clerk", places.market, Role.WINDOW_CLERK),
        "market_admin": make_staff("marketadmin", places.market, Role.DEPARTMENT_ADMIN),
        "guiyang_admin": make_staff("gyadmin", places.guiyang, Role.DEPARTMENT_ADMIN),
        "platform_admin": make_staff("platform", places.market, Role.PLATFORM_ADMIN),
    }


@pytest.fixture
def objects(actors, places):
    owner = actors["owner"]
    enterprise = services.enterprise_register(
        actor=owner, name="遵义黔北茶业有限公司", uscc=USCC, legal_rep_name="张伟",
        legal_rep_id_number=owner.id_number, registered_address="遵义市红花岗区",
    )
    with transaction.atomic():
        message = notifications.notify(recipient=owner, subject="办件通知", body="您的办件已受理。")
    return {"enterprise": enterprise, "clerk": actors["clerk"], "message": message}


def enterprise_url(objects):
    return reverse("accounts:enterprise", args=[objects["enterprise"].pk])


def staff_url(objects):
    return reverse("accounts:staff_detail", args=[objects["clerk"].pk])


def mark_read_url(objects):
    return reverse("core:inbox_mark_read", args=[objects["message"].pk])


CASES = [
    # The enterprise's page: its legal representative, and nobody else's business.
    AccessCase(actor="anonymous", obj="enterprise", action="view", url=enterprise_url, expect="login"),
    AccessCase(actor="owner", obj="enterprise", action="view", url=enterprise_url, expect="allowed"),
    AccessCase(actor="citizen", obj="enterprise", action="view", url=enterprise_url, expect=404),
    AccessCase(actor="clerk", obj="enterprise", action="view", url=enterprise_url, expect=404),
    # A staff member's page: their department's admin and the platform admin only.
    AccessCase(actor="anonymous", obj="clerk", action="view", url=staff_url, expect="login"),
    AccessCase(actor="citizen", obj="clerk", action="view", url=staff_url, expect=403),
    AccessCase(actor="clerk", obj="clerk", action="view", url=staff_url, expect=403),
    AccessCase(actor="market_admin", obj="clerk", action="view", url=staff_url, expect="allowed"),
    AccessCase(actor="guiyang_admin", obj="clerk", action="view", url=staff_url, expect=404),
    AccessCase(actor="platform_admin", obj="clerk", action="view", url=staff_url, expect="allowed"),
    # Somebody's inbox message: only its recipient may mark it read.
    AccessCase(actor="anonymous", obj="message", action="mark read", method="post", url=mark_read_url, expect="login"),
    AccessCase(actor="owner", obj="message", action="mark read", method="post", url=mark_read_url, expect="allowed"),
    AccessCase(actor="citizen", obj="message", action="mark read", method="post", url=mark_read_url, expect=404),
    AccessCase(actor="market_admin", obj="message", action="mark read", method="post", url=mark_read_url, expect=404),
]


@pytest.mark.django_db
def test_account_pages_access_matrix(client, actors, objects):
    assert_access_matrix(client, CASES, actors, objects)
