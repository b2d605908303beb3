"""一件事联办: one application for several departments' items, one acceptance by the lead
department, member cases in parallel under their own clocks, one outcome, results delivered
together."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation, RoleAssignment
from onewindow.cases import services
from onewindow.cases.choices import CaseStatus, Decision, JointStatus
from onewindow.cases.models import Case, JointCase
from onewindow.catalogue import services as catalogue
from onewindow.catalogue.choices import MemberDenialRule
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from tests.cases.conftest import make_png
from tests.catalogue.test_composite import make_item, members  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def deciders(world, make_user):
    """A reviewer and an authorised chief representative in each member department."""
    today = dt.date.today()
    staff = {}
    for department in (world.market, world.other):
        reviewer = make_user(f"rev{department.pk}", kind=AccountKind.STAFF, otp=True)
        approver = make_user(f"app{department.pk}", kind=AccountKind.STAFF, otp=True)
        RoleAssignment.objects.create(user=reviewer, role=Role.REVIEWER, department=department)
        RoleAssignment.objects.create(user=approver, role=Role.APPROVER, department=department)
        ChiefRepresentativeAuthorisation.objects.create(
            representative=approver, department=department, scope_text="全部事项", all_items=True,
            document_number=f"授〔2026〕{department.pk}号", signatory="局长", signed_on=today - dt.timedelta(days=9),
            valid_from=today - dt.timedelta(days=9), valid_until=today + dt.timedelta(days=365))
        staff[department.pk] = (reviewer, approver)
    return staff


@pytest.fixture
def offered(world, members):
    """publish(denial_rule) → the 开办企业 composite, published."""

    def publish(denial_rule=MemberDenialRule.PARTIAL):
        saved = catalogue.composite_save(actor=world.editor, composite_service=None, code="YJS-KBQY",
                                         name="开办企业一件事", lead_department=world.market, items=list(members),
                                         joint_limit_days=3, denial_rule=denial_rule)
        return catalogue.composite_publish(actor=world.admin, composite_service=saved)

    return publish


def upload(seed):
    return SimpleUploadedFile("材料.png", make_png(seed), content_type="image/png")


def filled(world, composite):
    joint = services.joint_start(actor=world.citizen, composite_service=composite)
    services.joint_save_form(actor=world.citizen, joint=joint,
                             data={"company_name": "遵义市红花岗区某某科技有限公司", "capital": 100, "seal_count": 3})
    services.joint_attach(actor=world.citizen, joint=joint, material_key="charter", uploaded_file=upload(1))
    services.joint_attach(actor=world.citizen, joint=joint, material_key="id_copy", uploaded_file=upload(2))
    return joint


def decide(case, deciders, decision):
    reviewer, approver = deciders[case.department_id]
    services.step_claim(actor=reviewer, case=case)
    services.step_pass(actor=reviewer, case=case, opinion="材料齐全。")
    if decision == Decision.APPROVED:
        return services.case_decide(actor=approver, case=case, decision=decision, opinion="准予。")
    return services.case_decide(actor=approver, case=case, decision=decision, reasons="名称与在先登记重复。",
                                basis="《企业名称登记管理规定》第十七条")


def test_one_application_one_acceptance_parallel_members_results_together(world, members, offered, deciders):
    registration, seal = members
    joint = filled(world, offered())
    cases = {case.item_id: case for case in joint.members.all()}
    assert cases[registration.pk].form_data == {"company_name": "遵义市红花岗区某某科技有限公司", "capital": 100}
    assert cases[seal.pk].form_data == {"company_name": "遵义市红花岗区某某科技有限公司", "seal_count": 3}
    # The identity document was handed in once and went to both members, under each one's key.
    assert list(cases[seal.pk].materials.values_list("material_key", flat=True)) == ["legal_rep_id"]

    joint = services.joint_submit(actor=world.citizen, joint=joint, idempotency_key="joint-submit-0001")
    assert joint.status == JointStatus.SUBMITTED and joint.number.startswith("YJS-KBQY")
    assert services.joint_submit(actor=world.citizen, joint=joint, idempotency_key="joint-submit-0001").pk == joint.pk
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.SUBMITTED}

    joint = services.joint_accept(actor=world.clerk, joint=joint)
    accepted = list(Case.objects.filter(joint=joint).order_by("pk"))
    assert joint.status == JointStatus.IN_PROGRESS and joint.joint_due
    assert [case.department_id for case in accepted] == [world.market.pk, world.other.pk]
    assert all(case.status == CaseStatus.IN_REVIEW and case.promised_due <= joint.joint_due for case in accepted)

    decide(accepted[1], deciders, Decision.APPROVED)
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.IN_PROGRESS
    decide(accepted[0], deciders, Decision.APPROVED)
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.COMPLETED

    joint = services.joint_deliver(actor=world.clerk, joint=joint, method="window")
    assert joint.status == JointStatus.DELIVERED
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.DELIVERED}


def test_a_denied_member_leaves_the_rest_to_be_delivered_where_the_composite_allows(world, offered, deciders):
    joint = services.joint_accept(actor=world.clerk, joint=services.joint_submit(
        actor=world.citizen, joint=filled(world, offered()), idempotency_key="joint-partial-01"))
    first, second = Case.objects.filter(joint=joint).order_by("pk")
    decide(first, deciders, Decision.DENIED)
    decide(second, deciders, Decision.APPROVED)

    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.PARTIAL
    services.joint_deliver(actor=world.clerk, joint=joint, method="window")
    assert [case.status for case in Case.objects.filter(joint=joint).order_by("pk")] == [
        CaseStatus.DECIDED, CaseStatus.DELIVERED]


def test_where_one_denial_denies_all_nothing_is_delivered(world, offered, deciders):
    joint = services.joint_accept(actor=world.clerk, joint=services.joint_submit(
        actor=world.citizen, joint=filled(world, offered(MemberDenialRule.DENY_ALL)), idempotency_key="joint-deny-001"))
    first, second = Case.objects.filter(joint=joint).order_by("pk")
    decide(first, deciders, Decision.APPROVED)
    decide(second, deciders, Decision.DENIED)

    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.DENIED
    with pytest.raises(DomainError, match="整体不予许可"):
        services.joint_deliver(actor=world.clerk, joint=joint, method="window")


def test_only_the_lead_departments_window_accepts(world, offered, make_user):
    joint = services.joint_submit(actor=world.citizen, joint=filled(world, offered()), idempotency_key="joint-lead-0001")
    other_clerk = make_user("otherclerk", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=other_clerk, role=Role.WINDOW_CLERK, department=world.other)

    with pytest.raises(PermissionDenied):
        services.joint_accept(actor=other_clerk, joint=joint)
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.SUBMITTED}


def test_bad_input_is_refused_and_changes_nothing(world, members, offered, make_user):
    composite = offered()
    joint = services.joint_start(actor=world.citizen, composite_service=composite)
    with pytest.raises(InvalidInput, match="nickname"):
        services.joint_save_form(actor=world.citizen, joint=joint, data={"nickname": "x"})
    with pytest.raises(InvalidInput, match="材料清单"):
        services.joint_attach(actor=world.citizen, joint=joint, material_key="nothing", uploaded_file=upload(3))
    stranger = make_user("stranger", kind=AccountKind.CITIZEN)
    with pytest.raises(NotFound):
        services.joint_save_form(actor=stranger, joint=joint, data={})
    # A required material is missing: no member is submitted.
    services.joint_save_form(actor=world.citizen, joint=joint, data={"company_name": "某某有限公司", "seal_count": 1})
    with pytest.raises(InvalidInput, match="还缺少"):
        services.joint_submit(actor=world.citizen, joint=joint, idempotency_key="joint-missing-01")
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.DRAFT
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.DRAFT}


def test_one_supplement_notice_covers_every_member_and_one_supply_answers_it(world, members, offered):
    registration, seal = members
    joint = services.joint_submit(actor=world.citizen, joint=filled(world, offered()), idempotency_key="joint-supp-0001")

    notices = services.joint_request_supplement(actor=world.clerk, joint=joint, missing=[
        {"material_key": "id_copy", "reason": "身份证明复印件不清晰"}, {"material_key": "", "reason": "请补充经营范围说明"}])

    by_case = {notice.case.item_id: notice for notice in notices}
    assert [entry["material_key"] for entry in by_case[registration.pk].missing] == ["id_copy", ""]
    assert [entry["material_key"] for entry in by_case[seal.pk].missing] == ["legal_rep_id", ""]
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.SUPPLEMENT}
    with pytest.raises(DomainError):  # nobody accepts a joint case waiting for supplements
        services.joint_accept(actor=world.clerk, joint=joint)

    services.joint_attach(actor=world.citizen, joint=joint, material_key="id_copy", uploaded_file=upload(9))
    services.joint_supply(actor=world.citizen, joint=joint)
    assert set(Case.objects.filter(joint=joint).values_list("status", flat=True)) == {CaseStatus.SUBMITTED}
    assert services.joint_accept(actor=world.clerk, joint=joint).status == JointStatus.IN_PROGRESS


def test_the_lead_department_records_a_joint_meeting(world, offered):
    joint = services.joint_accept(actor=world.clerk, joint=services.joint_submit(
        actor=world.citizen, joint=filled(world, offered()), idempotency_key="joint-meet-0001"))
    today = dt.date.today()

    meeting = services.joint_record_meeting(actor=world.clerk, joint=joint, held_on=today,
                                            departments=[world.market, world.other], conclusion="名称与经营范围一致，同意并联办理。")
    assert set(meeting.departments.all()) == {world.market, world.other}
    with pytest.raises(InvalidInput, match="至少两个"):
        services.joint_record_meeting(actor=world.clerk, joint=joint, held_on=today, departments=[world.market],
                                      conclusion="x")
    with pytest.raises(InvalidInput, match="晚于今天"):
        services.joint_record_meeting(actor=world.clerk, joint=joint, held_on=today + dt.timedelta(days=1),
                                      departments=[world.market, world.other], conclusion="x")
    with pytest.raises(PermissionDenied):
        services.joint_record_meeting(actor=world.outsider, joint=joint, held_on=today,
                                      departments=[world.market, world.other], conclusion="x")
    assert joint.meetings.count() == 1


def test_the_joint_api_from_application_to_acceptance_scoped_like_the_web(world, offered, make_user):
    from django.test import Client

    from onewindow.accounts.services import api_token_create

    def client(user):
        return Client(headers={"Authorization": f"Bearer {api_token_create(actor=user, name='联办')[1]}"})

    offered()
    citizen, clerk = client(world.citizen), client(world.clerk)
    started = citizen.post("/api/joint-cases/", {"composite_code": "yjs-kbqy"}, content_type="application/json")
    assert started.status_code == 201, started.content
    body = started.json()
    joint_id = body["id"]
    assert [m["key"] for m in body["materials"]] == ["charter", "id_copy", "seal_sample"]
    assert [f["key"] for f in body["fields"]] == ["company_name", "capital", "seal_count"]

    saved = citizen.put(f"/api/joint-cases/{joint_id}/form", {"form_data": {"company_name": "某某有限公司", "seal_count": 2}},
                        content_type="application/json")
    assert saved.status_code == 200, saved.content
    for key, seed in (("charter", 21), ("id_copy", 22)):
        attached = citizen.post(f"/api/joint-cases/{joint_id}/materials", {"material_key": key, "file": upload(seed)})
        assert attached.status_code == 200, attached.content
    submitted = citizen.post(f"/api/joint-cases/{joint_id}/submit", headers={"Idempotency-Key": "joint-api-00001"})
    assert submitted.status_code == 200 and submitted.json()["status"] == JointStatus.SUBMITTED

    stranger = client(make_user("stranger2"))
    assert stranger.get(f"/api/joint-cases/{joint_id}").status_code == 404
    refused = citizen.post(f"/api/joint-cases/{joint_id}/accept")
    assert refused.status_code == 403
    accepted = clerk.post(f"/api/joint-cases/{joint_id}/accept")
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["status"] == JointStatus.IN_PROGRESS and body["joint_due"]
    assert {m["status"] for m in body["members"]} == {CaseStatus.IN_REVIEW}
    again = clerk.post(f"/api/joint-cases/{joint_id}/accept")
    assert again.status_code == 409


def test_a_member_refused_on_its_own_leaves_the_rest_to_be_accepted_and_counts_as_not_granted(
        world, offered, deciders):
    joint = services.joint_submit(actor=world.citizen, joint=filled(world, offered()), idempotency_key="joint-refuse-01")
    first, second = Case.objects.filter(joint=joint).order_by("pk")
    services.case_refuse(actor=world.clerk, case=second, reasons="不属于本机关职权", basis="行政许可法第三十二条")

    joint = services.joint_accept(actor=world.clerk, joint=joint)
    assert [case.status for case in Case.objects.filter(joint=joint).order_by("pk")] == [
        CaseStatus.IN_REVIEW, CaseStatus.NOT_ACCEPTED]
    decide(first, deciders, Decision.APPROVED)
    assert JointCase.objects.get(pk=joint.pk).status == JointStatus.PARTIAL
