"""Who may see what of supervision and analytics: the access matrix of the pages. A supervisor
of another city gets 404 for anything of this one (never the data); staff without a supervisor
role get 403 on the supervision screens; the staff of a department read the notices addressed
to it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from onewindow.core.testing.access_matrix import AccessCase, assert_access_matrix
from onewindow.supervision import services

pytestmark = pytest.mark.django_db


def url(name, *keys):
    return lambda objects: reverse(name, args=[objects[key] for key in keys])


@pytest.fixture
def objects(world, people, accepted_case):
    case = accepted_case()
    services.warnings_refresh()
    item = services.item_open(
        actor=people.supervisor,
        department=world.market,
        subject="问题",
        description="描述",
        case=case,
    )
    notice = services.notice_issue(
        actor=people.supervisor,
        department=world.market,
        content="请整改。",
        deadline=timezone.localdate() + dt.timedelta(days=3),
        item=item,
    )
    return {
        "case": case.pk,
        "department": world.market.pk,
        "item": item.pk,
        "notice": notice.pk,
    }


READS = [
    ("supervision:warnings", ()),
    ("supervision:department", ("department",)),
    ("supervision:case", ("case",)),
    ("supervision:items", ()),
    ("supervision:item", ("item",)),
    ("supervision:notices", ()),
    ("supervision:notice", ("notice",)),
    ("supervision:denials", ()),
    ("supervision:spot_checks", ()),
    ("supervision:performance", ()),
    ("supervision:rules", ()),
    ("supervision:thresholds", ()),
    ("analytics:dashboard", ()),
]
ACTORS = ["anonymous", "citizen", "clerk", "head", "supervisor", "outsider"]
EXPECTED = {
    #                           anonymous, citizen, clerk, head, supervisor, outsider
    "supervision:warnings": ("login", 403, 403, 403, "allowed", "allowed"),
    "supervision:department": ("login", 403, 403, 403, "allowed", 404),
    "supervision:case": ("login", 403, 403, 403, "allowed", 404),
    "supervision:items": ("login", 403, 403, 403, "allowed", "allowed"),
    "supervision:item": ("login", 403, 403, 403, "allowed", 404),
    "supervision:notices": ("login", 403, "allowed", "allowed", "allowed", "allowed"),
    "supervision:notice": ("login", 403, "allowed", "allowed", "allowed", 404),
    "supervision:denials": ("login", 403, 403, 403, "allowed", "allowed"),
    "supervision:spot_checks": ("login", 403, 403, 403, "allowed", "allowed"),
    "supervision:performance": ("login", 403, 403, 403, "allowed", "allowed"),
    "supervision:rules": ("login", 403, 403, 403, "allowed", "allowed"),
    "supervision:thresholds": ("login", 403, 403, "allowed", "allowed", "allowed"),
    "analytics:dashboard": ("login", 403, 403, "allowed", "allowed", "allowed"),
}


def test_pages_access_matrix(client, objects, world, people):
    cases = [
        AccessCase(
            actor=actor, url=url(name, *keys), obj=name, expect=EXPECTED[name][index]
        )
        for name, keys in READS
        for index, actor in enumerate(ACTORS)
    ]
    actors = {
        "anonymous": None,
        "citizen": world.citizen,
        "clerk": world.clerk,
        "head": people.head,
        "supervisor": people.supervisor,
        "outsider": people.outsider,
    }
    assert_access_matrix(client, cases, actors, objects)
