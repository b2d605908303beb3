"""Supervision of 一件事 joint cases: the lead department sees one signal for the whole joint
case, coloured by its most urgent member case or by its own joint date."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from onewindow.cases import services as cases
from onewindow.cases.models import Case, JointCase
from onewindow.core.models import Notification
from onewindow.supervision import selectors, services
from onewindow.supervision.choices import Colour, RuleCode, SignalKind, WarningType
from onewindow.supervision.models import Signal, SupervisionEvent
from tests.cases.test_joint import deciders, decide, filled, offered  # noqa: F401  (fixtures and helpers)
from tests.catalogue.test_composite import make_item, members  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def joint_in_progress(world, offered):  # noqa: F811
    def accept():
        joint = cases.joint_submit(actor=world.citizen, joint=filled(world, offered()),
                                   idempotency_key="joint-supervision-1")
        return cases.joint_accept(actor=world.clerk, joint=joint)

    return accept


def _joint_signal(joint):
    return Signal.objects.get(kind=SignalKind.JOINT, joint=joint)


def test_an_overdue_member_makes_the_joint_case_red_for_the_lead_department(world, people, joint_in_progress):
    joint = joint_in_progress()
    services.warnings_refresh()
    assert _joint_signal(joint).colour == Colour.GREEN
    late = Case.objects.filter(joint=joint, department=world.other).get()
    Case.objects.filter(pk=late.pk).update(promised_due=timezone.localdate() - dt.timedelta(days=1))

    services.warnings_refresh()

    signal = _joint_signal(joint)
    assert (signal.colour, signal.case_id, signal.department_id, signal.due) == (
        Colour.RED, late.pk, world.market.pk, joint.joint_due)
    event = SupervisionEvent.objects.get(department=world.market, warning_type=WarningType.RED)
    assert event.rule.code == RuleCode.CASE_RED and joint.number in event.description
    # The lead department's head is told of the joint case; the member's own signal is its department's.
    assert Notification.objects.filter(recipient=people.head, body__contains=joint.number).exists()
    assert Signal.objects.get(kind=SignalKind.CASE, case=late).department_id == world.other.pk
    # The supervisor finds it on the red list of the lead department, and in the API's words.
    listed = selectors.warning_list(people.supervisor, department=world.market, kind=SignalKind.JOINT)
    assert [s.joint_id for s in listed] == [joint.pk]
    assert services.warnings_refresh() == 0  # nothing changed, nothing recorded twice


def test_the_joint_date_itself_turns_the_joint_case_yellow(joint_in_progress):
    joint = joint_in_progress()
    JointCase.objects.filter(pk=joint.pk).update(joint_due=timezone.localdate())

    services.warnings_refresh()

    assert _joint_signal(joint).colour == Colour.YELLOW


def test_the_signal_goes_when_the_joint_case_is_no_longer_in_progress(world, joint_in_progress, deciders):  # noqa: F811
    joint = joint_in_progress()
    services.warnings_refresh()
    for member in Case.objects.filter(joint=joint):
        decide(member, deciders, "approved")

    services.warnings_refresh()

    assert not Signal.objects.filter(joint=joint).exists()


def test_supervisors_see_the_joint_case_and_its_members_outsiders_do_not(
        world, people, client_as, joint_in_progress):
    joint = joint_in_progress()
    late = Case.objects.filter(joint=joint, department=world.other).get()
    Case.objects.filter(pk=late.pk).update(promised_due=timezone.localdate() - dt.timedelta(days=1))
    services.warnings_refresh()
    supervisor = client_as(people.supervisor)

    page = supervisor.get(reverse("supervision:joint", args=[joint.pk])).content.decode()

    assert joint.number in page and late.number in page and "sv-row--red" in page
    case_page = supervisor.get(reverse("supervision:case", args=[late.pk])).content.decode()
    assert reverse("supervision:joint", args=[joint.pk]) in case_page
    board = supervisor.get(reverse("supervision:warnings"), {"department": world.market.pk}).content.decode()
    assert reverse("supervision:joint", args=[joint.pk]) in board
    assert client_as(people.outsider).get(reverse("supervision:joint", args=[joint.pk])).status_code == 404
