"""Issuing licences: from an approved case through the case handling's hook, by a department,
with versions for change, renewal and cancellation, and status changes that the status list
and the verification see."""

import datetime as dt

import pytest

from onewindow.cases import hooks
from onewindow.cases import services as cases
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.models import AuditEntry
from onewindow.licences import document, selectors, services
from onewindow.licences.choices import LicenceStatus, VersionKind
from onewindow.licences.models import Licence, SigningKey, StatusList
from tests.licences.conftest import HOLDER_ID


def test_an_approved_case_yields_a_signed_licence_in_the_holders_directory(
    world, licence_type, holder, delivered_case
):
    case = delivered_case()
    licence = Licence.objects.get(case_number=case.number)
    assert case.result_number == licence.number
    assert case.result_valid_until == licence.valid_until == dt.date(2028, 12, 8)
    assert (licence.holder_id, licence.holder_name, licence.fields) == (
        HOLDER_ID,
        "张三",
        {"location": "红花岗区中华南路88号"},
    )
    assert list(selectors.my_licences(holder)) == [licence]
    report = selectors.verify_licence(licence)
    assert report.valid, report.as_dict()
    assert report.facts["caseNumber"] == case.number
    assert (
        AuditEntry.objects.filter(
            action="licences.licence.issue_for_case", object_id=str(licence.pk)
        ).count()
        == 1
    )


def test_an_item_without_a_licence_type_issues_no_licence(
    world, holder, delivered_case
):
    case = delivered_case()
    assert not Licence.objects.exists()
    assert case.result_number  # the approval document's number


def test_an_applicant_without_a_verified_identity_refuses_the_decision_with_the_reason(
    world, licence_type, filed_case, reviewer, approver
):
    case = cases.case_accept(actor=world.clerk, case=filed_case())
    cases.step_claim(actor=reviewer, case=case)
    cases.step_pass(actor=reviewer, case=case, opinion="同意")
    with pytest.raises(DomainError, match="身份证件号码"):
        cases.case_decide(
            actor=approver, case=case, decision="approved", opinion="同意"
        )
    case.refresh_from_db()
    assert case.decision == "" and not Licence.objects.exists()


def test_a_department_issues_a_legacy_licence(world, issue):
    licence = issue(
        legacy_number="遵执广字〔2019〕第12号",
        valid_from="2025-01-01",
        issued_on="2025-01-01",
    )
    assert services.NUMBER_RE.fullmatch(licence.number)
    assert licence.valid_until == dt.date(2026, 12, 31)
    assert licence.current_version.kind == VersionKind.ISSUE
    assert licence.legacy_number == "遵执广字〔2019〕第12号"
    assert selectors.verify_licence(licence).valid


def test_numbers_are_not_sequential(issue):
    numbers = [issue().number for _ in range(5)]
    suffixes = [number.rsplit("-", 1)[1] for number in numbers]
    assert len(set(suffixes)) == 5
    assert all(services.NUMBER_RE.fullmatch(number) for number in numbers)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"holder_id": "520302198803141234"}, "holder_id", "校验位"),
        ({"holder_name": " "}, "holder_name", "持证主体名称"),
        ({"fields": {}}, "fields.location", "设置地点"),
        ({"fields": {"location": "x", "colour": "红"}}, "fields", "colour"),
        ({"fields": {"location": "x", "area": "十二"}}, "fields.area", "整数"),
        (
            {"valid_from": "2026-12-01", "valid_until": "2026-11-30"},
            "valid_until",
            "早于",
        ),
        ({"issued_on": "2027-01-01"}, "issued_on", "晚于今天"),
        ({"valid_from": "9999-12-31"}, "valid_from", "之间"),
    ],
)
def test_bad_licence_data_is_refused_and_nothing_is_written(
    issue, changes, field, message
):
    with pytest.raises(InvalidInput, match=message) as refused:
        issue(**changes)
    assert refused.value.field == field
    assert not Licence.objects.exists()


def test_only_the_issuing_departments_authority_issues(world, licence_type, people):
    for outsider in (people.other_admin, world.clerk, people.holder):
        with pytest.raises(PermissionDenied):
            services.licence_issue(
                actor=outsider,
                licence_type=licence_type,
                holder_id=HOLDER_ID,
                holder_name="张三",
                fields={"location": "x"},
            )
    assert not Licence.objects.exists()


def test_a_change_signs_a_new_version_and_the_old_file_stops_verifying(world, issue):
    licence = issue()
    old_file = licence.current_version.document
    changed = services.licence_change(
        actor=world.editor,
        licence=licence,
        fields={"location": "汇川区上海路1号"},
        case_number="CASE-2",
        note="设置地点变更",
    )
    assert changed.version == 2 and changed.current_version.kind == VersionKind.CHANGE
    assert changed.current_version.case_number == "CASE-2"
    assert selectors.verify_licence(changed).valid
    report = selectors.verify_file(old_file.encode())
    assert report.failed == ["status"]
    assert "第 2 版" in report.checks[1].message


def test_renewal_extends_validity_by_the_types_period(world, issue):
    licence = issue()
    renewed = services.licence_renew(
        actor=world.editor, licence=licence, case_number="CASE-3"
    )
    assert renewed.valid_until == dt.date(2030, 12, 8)
    assert [v.kind for v in renewed.versions.order_by("number")] == [
        VersionKind.ISSUE,
        VersionKind.RENEW,
    ]
    with pytest.raises(InvalidInput):
        services.licence_renew(
            actor=world.editor, licence=renewed, valid_until="2029-01-01"
        )


def test_revocation_is_seen_through_the_status_list(world, issue):
    licence = issue()
    services.licence_revoke(
        actor=world.editor, licence=licence, reason="擅自改变设置内容"
    )
    licence.refresh_from_db()
    report = selectors.verify_licence(licence)
    assert report.failed == ["status"]
    assert (
        "已吊销" in report.checks[1].message
        and "擅自改变设置内容" in report.checks[1].message
    )
    listed = selectors.listed_status(world.market.uscc, licence.status_index)
    assert listed.revoked and not listed.suspended
    with pytest.raises(DomainError, match="已吊销"):
        services.licence_reinstate(actor=world.editor, licence=licence, reason="x")


def test_the_status_list_grows_and_keeps_its_bits(world, issue, monkeypatch):
    # Eight positions before the lists grow.
    monkeypatch.setattr(services, "STATUS_LIST_BYTES", 1)
    first = issue()
    services.licence_revoke(actor=world.editor, licence=first, reason="违法设置")
    later = [issue() for _ in range(9)]
    listing = StatusList.objects.get(department=world.market)
    assert listing.next_index == 10 and len(listing.revoked_bits) == 2
    assert len(listing.suspended_bits) == 2
    services.licence_suspend(actor=world.editor, licence=later[-1], reason="整改")
    assert selectors.verify_licence(first).failed == ["status"]
    assert selectors.verify_licence(Licence.objects.get(pk=later[-1].pk)).failed == [
        "status"
    ]
    assert all(selectors.verify_licence(licence).valid for licence in later[:-1])


def test_suspension_and_reinstatement(world, issue):
    licence = issue()
    other = issue()
    services.licence_suspend(actor=world.editor, licence=licence, reason="整改期间暂停")
    assert selectors.verify_licence(Licence.objects.get(pk=licence.pk)).failed == [
        "status"
    ]
    assert selectors.verify_licence(
        Licence.objects.get(pk=other.pk)
    ).valid  # its neighbour bit is untouched
    services.licence_reinstate(actor=world.editor, licence=licence, reason="整改完成")
    assert selectors.verify_licence(Licence.objects.get(pk=licence.pk)).valid


def test_cancellation_is_a_version_with_its_case(world, issue):
    licence = issue()
    services.licence_cancel(
        actor=world.editor,
        licence=licence,
        reason="申请人申请注销",
        case_number="CASE-9",
    )
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.CANCELLED
    last = licence.versions.order_by("-number").first()
    assert (last.kind, last.case_number, last.document) == (
        VersionKind.CANCEL,
        "CASE-9",
        "",
    )
    assert selectors.verify_licence(licence).failed == ["status"]


def test_staff_of_another_department_cannot_change_a_licence(issue, people):
    licence = issue()
    with pytest.raises(PermissionDenied):
        services.licence_revoke(actor=people.other_admin, licence=licence, reason="x")


def test_key_rotation_keeps_old_signatures_verifiable(world, issue):
    first = issue()
    old_key = first.current_version.key
    new_key = services.signing_key_rotate(actor=world.editor, department=world.market)
    second = issue()
    assert second.current_version.key == new_key != old_key
    assert selectors.verify_licence(Licence.objects.get(pk=first.pk)).valid
    assert selectors.verify_licence(second).valid
    assert SigningKey.objects.get(pk=old_key.pk).status == "retired"


def test_a_revoked_key_makes_what_it_signed_untrusted(world, issue):
    licence = issue()
    services.signing_key_revoke(
        actor=world.editor, key=licence.current_version.key, reason="密钥泄露"
    )
    report = selectors.verify_licence(Licence.objects.get(pk=licence.pk))
    assert report.failed == ["issuer"]
    renewed = services.licence_change(
        actor=world.editor, licence=licence, fields={"area": 13}
    )
    assert selectors.verify_licence(renewed).valid  # re-signed with a fresh key


def test_sm2_licences_sign_and_verify(world, issue, sm2_type):
    licence = issue(of_type=sm2_type, fields={"location": "遵义市"})
    assert licence.current_version.key.algorithm == "sm2"
    assert selectors.verify_licence(licence).valid
    parsed = document.parse(licence.current_version.document)
    assert parsed.signature.algorithm == "sm2" and len(parsed.signature.value) == 128


def test_the_library_offers_valid_licences_to_case_handling(world, issue, licence_type):
    licence = issue()
    expired = issue(
        valid_from="2024-01-01", issued_on="2024-01-01", valid_until="2025-12-31"
    )
    revoked = issue()
    services.licence_revoke(actor=world.editor, licence=revoked, reason="x")
    offered = hooks.licence_sources[0].valid_licences(
        holder_ids=[HOLDER_ID], licence_type="outdoor_ad_permit"
    )
    assert [record.number for record in offered] == [licence.number]
    assert expired.number not in [record.number for record in offered]


def test_a_missing_licence_type_is_not_found(world, licence_type):
    licence_type.is_active = False
    licence_type.save()
    with pytest.raises(NotFound):
        services.licence_issue(
            actor=world.editor,
            licence_type=licence_type,
            holder_id=HOLDER_ID,
            holder_name="张三",
            fields={"location": "x"},
        )
