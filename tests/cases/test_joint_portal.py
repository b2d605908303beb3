"""一件事 in the applicant portal, driven as a browser would: the composites on offer, one
application with the combined form and materials, submission, progress per department."""

import re

import pytest
from django.urls import reverse

from onewindow.cases.choices import CaseStatus, JointStatus
from onewindow.cases.models import Case, JointCase
from tests.cases.conftest import make_png
from tests.cases.test_joint import offered  # noqa: F401  (fixture)
from tests.catalogue.test_composite import make_item, members  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def png(seed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("材料.png", make_png(seed), content_type="image/png")


def test_apply_once_fill_in_once_submit_once_and_follow_every_department(world, offered, client_as):
    offered()
    client = client_as(world.citizen)
    listing = client.get(reverse("cases:joint_offered"))
    assert listing.status_code == 200 and "开办企业一件事" in listing.content.decode()

    guide = client.get(reverse("cases:joint_apply", args=["YJS-KBQY"]))
    page = guide.content.decode()
    assert guide.status_code == 200 and "企业设立登记" in page and "公章刻制备案" in page
    assert page.count("法定代表人身份证明") == 1  # one material for both members

    started = client.post(reverse("cases:joint_apply", args=["YJS-KBQY"]))
    joint = JointCase.objects.get(applicant=world.citizen)
    assert started.status_code == 302 and started["Location"] == reverse("cases:joint", args=[joint.pk])
    # The member drafts are written through the joint application, not listed on their own.
    assert "企业设立登记" not in client.get(reverse("cases:mine")).content.decode().split("已提交的办件")[0].split(
        "一件事联办")[0]

    url = reverse("cases:joint", args=[joint.pk])
    form = {"f-company_name": "某某科技有限公司", "f-capital": "100", "f-seal_count": "2"}
    refused = client.post(url, {**form, "action": "submit", "idempotency_key": "portal-joint-0001"})
    assert refused.status_code == 400, refused.status_code
    problem = re.search(r"id=\"case-problem\"><p>(.*?)</p>", refused.content.decode()).group(1)
    assert "还缺少" in problem, problem
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.DRAFT

    saved = client.post(url, {**form, "action": "save", "joint-material-charter": png(31), "joint-material-id_copy": png(32)})
    assert saved.status_code == 302
    submitted = client.post(url, {**form, "action": "submit", "idempotency_key": "portal-joint-0002"})
    assert submitted.status_code == 302
    joint.refresh_from_db()
    assert joint.status == JointStatus.SUBMITTED
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.SUBMITTED}
    progress = client.get(url).content.decode()
    assert joint.number in progress and "遵义市民政局" in progress and progress.count("data-member") == 2


def test_a_member_is_never_submitted_on_its_own_and_strangers_see_nothing(world, offered, client_as, make_user):
    offered()
    client = client_as(world.citizen)
    client.post(reverse("cases:joint_apply", args=["YJS-KBQY"]))
    joint = JointCase.objects.get(applicant=world.citizen)
    member = Case.objects.filter(joint=joint).first()

    alone = client.post(reverse("cases:draft", args=[member.pk]), {"action": "submit",
                                                                  "idempotency_key": "member-alone-001"})
    assert alone.status_code in (400, 409) and "联办件" in alone.content.decode()
    assert Case.objects.get(pk=member.pk).status == CaseStatus.DRAFT
    stranger = client_as(make_user("stranger3"))
    assert stranger.get(reverse("cases:joint", args=[joint.pk])).status_code == 404
