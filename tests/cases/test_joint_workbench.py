"""The lead department's workbench for 一件事: the queue, one acceptance, every member live, a
joint meeting, the results delivered together; other staff cannot act."""

import pytest
from django.urls import reverse

from onewindow.cases import services
from onewindow.cases.choices import CaseStatus, Decision, JointStatus
from onewindow.cases.models import Case, JointCase
from tests.cases.test_joint import decide, deciders, filled, offered  # noqa: F401  (fixtures and helpers)
from tests.catalogue.test_composite import make_item, members  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_the_lead_window_accepts_follows_and_delivers_everything_together(world, offered, deciders, client_as):
    joint = services.joint_submit(actor=world.citizen, joint=filled(world, offered()), idempotency_key="wb-joint-0001")
    clerk = client_as(world.clerk)

    queue = clerk.get(reverse("cases_workbench:joint_queue")).content.decode()
    assert joint.number in queue and queue.count("data-joint>") == 1
    page = clerk.get(reverse("cases_workbench:joint", args=[joint.pk])).content.decode()
    assert "data-joint-accept" in page and page.count("data-member") == 2

    accepted = clerk.post(reverse("cases_workbench:joint_action", args=[joint.pk, "accept"]))
    assert accepted.status_code == 302
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.IN_PROGRESS
    met = clerk.post(reverse("cases_workbench:joint_action", args=[joint.pk, "meeting"]), {
        "held_on": "2026-01-05", "department": [world.market.pk, world.other.pk], "conclusion": "同意并联办理。"})
    assert met.status_code == 302 and joint.meetings.count() == 1

    for case in Case.objects.filter(joint=joint):
        decide(case, deciders, Decision.APPROVED)
    delivered = clerk.post(reverse("cases_workbench:joint_action", args=[joint.pk, "deliver"]), {"method": "window"})
    assert delivered.status_code == 302
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.DELIVERED
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.DELIVERED}


def test_staff_of_other_departments_cannot_accept_or_see(world, offered, client_as, make_user):
    from onewindow.accounts.choices import AccountKind, Role
    from onewindow.accounts.models import RoleAssignment

    joint = services.joint_submit(actor=world.citizen, joint=filled(world, offered()), idempotency_key="wb-joint-0002")
    outsider = make_user("districtclerk", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=outsider, role=Role.WINDOW_CLERK, department=world.district)
    client = client_as(outsider)

    assert client.get(reverse("cases_workbench:joint", args=[joint.pk])).status_code == 404
    assert client.post(reverse("cases_workbench:joint_action", args=[joint.pk, "accept"])).status_code == 404
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.SUBMITTED
