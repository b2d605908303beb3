"""多证合一: the granted members of a joint case whose composite merges its results get one
licence between them, issued by the first member's department, filled from every member's form."""

import pytest

from onewindow.cases import services as cases
from onewindow.cases.choices import Decision, JointStatus
from onewindow.cases.models import Case, JointCase
from onewindow.catalogue import services as catalogue
from onewindow.catalogue.choices import MemberDenialRule
from onewindow.core.models import AuditEntry
from onewindow.licences import services
from onewindow.licences.models import Licence
from tests.cases.test_joint import decide, deciders, filled  # noqa: F401  (fixtures and helpers)
from tests.catalogue.test_composite import make_item, members  # noqa: F401  (fixtures)
from tests.licences.conftest import HOLDER_ID

pytestmark = pytest.mark.django_db


@pytest.fixture
def business_licence(world, members):  # noqa: F811
    """营业执照 of the registration (market department), naming the results it integrates."""
    registration, _seal = members
    return services.licence_type_save(
        actor=world.editor, code="business_licence", name="营业执照", department=world.market,
        holder_kind="person", validity_years=None, issued_for_items=[registration.impl_code],
        fields=[{"key": "company_name", "label": "企业名称", "type": "text", "required": True},
                {"key": "seal_count", "label": "刻制印章枚数", "type": "integer"},
                {"key": "integrated_results", "label": "多证合一", "type": "text"}])


@pytest.fixture
def joint_in_progress(world, members, business_licence):  # noqa: F811
    """accept(merge_results=…) → a 开办企业 joint case accepted by the lead window."""
    world.citizen.id_number, world.citizen.real_name = HOLDER_ID, "张三"
    world.citizen.save(update_fields=["id_number", "real_name"])

    def accept(*, merge_results=True):
        composite = catalogue.composite_publish(actor=world.admin, composite_service=catalogue.composite_save(
            actor=world.editor, composite_service=None, code="YJS-KBQY", name="开办企业一件事",
            lead_department=world.market, items=list(members), joint_limit_days=3,
            denial_rule=MemberDenialRule.PARTIAL, merge_results=merge_results))
        joint = cases.joint_submit(actor=world.citizen, joint=filled(world, composite), idempotency_key="merge-0001")
        return cases.joint_accept(actor=world.clerk, joint=joint)

    return accept


def test_the_granted_members_get_one_licence_filled_from_every_form(world, joint_in_progress, deciders):  # noqa: F811
    joint = joint_in_progress()
    seal_case, registration_case = (Case.objects.get(joint=joint, department=department)
                                    for department in (world.other, world.market))
    decide(seal_case, deciders, Decision.APPROVED)
    assert not Licence.objects.exists()  # nothing is issued before the joint case concludes
    decide(registration_case, deciders, Decision.APPROVED)

    joint = JointCase.objects.get(pk=joint.pk)
    licence = Licence.objects.get()
    assert joint.status == JointStatus.COMPLETED
    assert (licence.licence_type.code, licence.department_id, licence.case_number, licence.holder_id) == (
        "business_licence", world.market.pk, joint.number, HOLDER_ID)
    assert licence.fields == {"company_name": "遵义市红花岗区某某科技有限公司", "seal_count": 3,
                              "integrated_results": "企业设立登记、公章刻制备案"}
    assert set(Case.objects.filter(joint=joint).values_list("result_number", flat=True)) == {licence.number}
    conclusion = AuditEntry.objects.get(action="cases.joint.conclude")
    assert licence.number in conclusion.changes


def test_a_denied_member_is_left_out_of_the_merged_licence(world, joint_in_progress, deciders):  # noqa: F811
    joint = joint_in_progress()
    seal_case = Case.objects.get(joint=joint, department=world.other)
    decide(seal_case, deciders, Decision.DENIED)
    decide(Case.objects.get(joint=joint, department=world.market), deciders, Decision.APPROVED)

    licence = Licence.objects.get()
    assert licence.fields["integrated_results"] == "企业设立登记"
    assert Case.objects.get(pk=seal_case.pk).result_number == ""


def test_without_merging_each_member_issues_its_own_result(world, joint_in_progress, deciders):  # noqa: F811
    joint = joint_in_progress(merge_results=False)
    registration_case = Case.objects.get(joint=joint, department=world.market)
    decided = decide(registration_case, deciders, Decision.APPROVED)

    licence = Licence.objects.get()
    assert (licence.case_number, decided.result_number) == (registration_case.number, licence.number)
    assert "integrated_results" not in licence.fields
