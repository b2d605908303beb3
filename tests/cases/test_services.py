"""The first stretch of a case: application, submission, acceptance, refusal, one-time notice."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from onewindow.cases import numbering, selectors, services
from onewindow.cases.choices import CaseStatus
from onewindow.cases.models import Case, CaseEvent
from onewindow.core import workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.models import AuditEntry
from onewindow.core.testing.concurrency import at_once

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("现场照片.png", PNG, content_type="image/png")


def _ready(citizen, item):
    """A draft with its form filled in and every required material attached."""
    case = services.case_start(actor=citizen, item=item)
    services.case_save_form(actor=citizen, case=case, data={"location": "红花岗区中华南路88号"})
    services.case_attach(actor=citizen, case=case, material_key="application", uploaded_file=_photo())
    services.case_attach(actor=citizen, case=case, material_key="site_photos", uploaded_file=_photo())
    services.case_attach(actor=citizen, case=case, material_key="site_photos", uploaded_file=_photo())
    return case


@pytest.fixture
def submitted(world, item):
    return services.case_submit(actor=world.citizen, case=_ready(world.citizen, item), idempotency_key="key-0001-abc")


def test_submission_numbers_the_case_and_sets_the_acceptance_deadline(world, item, submitted):
    today = timezone.localdate()
    assert submitted.status == CaseStatus.SUBMITTED
    assert submitted.number == f"{item.impl_code}{today:%Y%m%d}0001"
    assert len(submitted.query_code) == 6
    assert submitted.acceptance_due == workdays.add_working_days(today, 5).date
    assert submitted.version_id == item.current_version_id
    assert submitted.materials.filter(material_key="site_photos").count() == 2
    second = services.case_submit(actor=world.citizen, case=_ready(world.citizen, item), idempotency_key="key-0002-abc")
    assert second.number.endswith("0002")


def test_a_retried_submission_returns_the_same_case(world, item, submitted):
    events = CaseEvent.objects.count()
    again = services.case_submit(actor=world.citizen, case=submitted, idempotency_key="key-0001-abc")
    assert (again.pk, again.number) == (submitted.pk, submitted.number)
    assert CaseEvent.objects.count() == events
    other = _ready(world.citizen, item)
    events = CaseEvent.objects.count()
    with pytest.raises(DomainError, match="另一件申请"):
        services.case_submit(actor=world.citizen, case=other, idempotency_key="key-0001-abc")
    other.refresh_from_db()
    assert (other.status, other.number, other.idempotency_key) == (CaseStatus.DRAFT, None, None)
    assert CaseEvent.objects.count() == events


def test_incomplete_applications_are_refused_and_nothing_changes(world, item):
    case = services.case_start(actor=world.citizen, item=item)
    services.case_attach(actor=world.citizen, case=case, material_key="application", uploaded_file=_photo())
    with pytest.raises(InvalidInput, match="申请表"):
        services.case_submit(actor=world.citizen, case=case, idempotency_key="key-0003-abc")
    services.case_save_form(actor=world.citizen, case=case, data={"location": "遵义市"})
    with pytest.raises(InvalidInput, match="设置地点现状照片"):
        services.case_submit(actor=world.citizen, case=case, idempotency_key="key-0003-abc")
    case.refresh_from_db()
    assert (case.status, case.number, case.idempotency_key) == (CaseStatus.DRAFT, None, None)
    with pytest.raises(InvalidInput, match="没有这些字段"):
        services.case_save_form(actor=world.citizen, case=case, data={"salary": "100"})
    with pytest.raises(InvalidInput, match="没有这项材料"):
        services.case_attach(actor=world.citizen, case=case, material_key="passport", uploaded_file=_photo())
    with pytest.raises(InvalidInput, match="不能用电子证照替代"):
        services.case_attach(actor=world.citizen, case=case, material_key="application", licence_number="L1")


def test_acceptance_starts_the_clock_in_working_days(world, item, submitted):
    case = services.case_accept(actor=world.clerk, case=submitted)
    today = timezone.localdate()
    assert case.status == CaseStatus.IN_REVIEW and case.accepted_by == world.clerk
    assert case.promised_due == workdays.add_working_days(today, 8).date
    assert case.legal_due == workdays.add_working_days(today, 20).date
    with pytest.raises(DomainError, match="审查中"):
        services.case_accept(actor=world.clerk, case=case)


def test_only_the_departments_window_acts_and_outsiders_see_nothing(world, item, submitted, other_clerk):
    for actor in (other_clerk, world.citizen, world.editor):
        with pytest.raises(PermissionDenied):
            services.case_accept(actor=actor, case=submitted)
    with pytest.raises(NotFound):
        selectors.case_for(other_clerk, submitted.pk)
    assert selectors.case_for(world.clerk, submitted.pk) == submitted
    assert list(selectors.acceptance_queue(world.clerk)) == [submitted]
    assert list(selectors.acceptance_queue(other_clerk)) == []
    stranger = type(world.citizen).objects.create_user(username="stranger", kind="citizen")
    with pytest.raises(NotFound):
        selectors.case_for(stranger, submitted.pk)


def test_refusal_needs_reasons_and_basis(world, submitted):
    with pytest.raises(InvalidInput, match="依据"):
        services.case_refuse(actor=world.clerk, case=submitted, reasons="不属于本机关职权范围", basis="")
    case = services.case_refuse(actor=world.clerk, case=submitted, reasons="不属于本机关职权范围",
                                basis="《中华人民共和国行政许可法》第三十二条第一款第（二）项")
    assert case.status == CaseStatus.NOT_ACCEPTED
    with pytest.raises(DomainError):
        services.case_withdraw(actor=world.citizen, case=case, reason="不办了")


def test_one_time_notice_then_supply_then_acceptance_and_a_second_notice_is_flagged(world, submitted):
    notice = services.case_request_supplement(
        actor=world.clerk, case=submitted,
        missing=[{"material_key": "site_photos", "reason": "照片须显示设置地点全貌"},
                 {"material_key": "", "reason": "申请表设置地点须写明门牌号"}],
    )
    assert not notice.repeated and [m["name"] for m in notice.missing] == ["设置地点现状照片", ""]
    case = Case.objects.get(pk=submitted.pk)
    assert case.status == CaseStatus.SUPPLEMENT
    services.case_attach(actor=world.citizen, case=case, material_key="site_photos", uploaded_file=_photo())
    case = services.case_supply(actor=world.citizen, case=case)
    assert case.status == CaseStatus.SUBMITTED and case.supplement_notices.get().answered_at is not None
    again = services.case_request_supplement(actor=world.clerk, case=case,
                                             missing=[{"material_key": "application", "reason": "漏签字"}])
    assert again.repeated
    assert AuditEntry.objects.filter(action="cases.request_supplement").count() == 2
    # Each notice has its own number; the receipt, which a case gets once, is the first of its kind.
    assert sorted(case.documents.values_list("number", flat=True)) == [
        f"{case.number}-BZ01", f"{case.number}-BZ02", f"{case.number}-SJ01"]


def test_silence_for_five_working_days_counts_as_acceptance_on_receipt(world, submitted):
    assert services.accept_on_receipt_sweep() == 0
    Case.objects.filter(pk=submitted.pk).update(acceptance_due=timezone.localdate() - dt.timedelta(days=1))
    assert services.accept_on_receipt_sweep() == 1
    case = Case.objects.get(pk=submitted.pk)
    assert case.status == CaseStatus.IN_REVIEW and case.accepted_on_receipt
    assert case.promised_due == workdays.add_working_days(timezone.localdate(case.submitted_at), 8).date


def test_withdrawal_by_the_applicant_only_with_a_reason(world, submitted):
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=world.clerk, case=submitted, reason="代撤")
    with pytest.raises(InvalidInput):
        services.case_withdraw(actor=world.citizen, case=submitted, reason=" ")
    assert services.case_withdraw(actor=world.citizen, case=submitted, reason="暂不设置").status == CaseStatus.WITHDRAWN


@pytest.mark.django_db(transaction=True)
def test_two_clerks_at_once_exactly_one_succeeds(world, item, make_user):
    from onewindow.accounts.choices import AccountKind, Role
    from onewindow.accounts.models import RoleAssignment

    second = make_user("clerk2", kind=AccountKind.STAFF)
    RoleAssignment.objects.create(user=second, role=Role.WINDOW_CLERK, department=world.market)
    case = services.case_submit(actor=world.citizen, case=_ready(world.citizen, item), idempotency_key="key-race-01")
    outcomes = at_once([
        lambda: services.case_accept(actor=world.clerk, case=case),
        lambda: services.case_refuse(actor=second, case=case, reasons="材料虚假", basis="行政许可法第三十二条"),
    ])
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Case", "DomainError"]
    assert CaseEvent.objects.filter(case=case, action__in=["accept", "refuse"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_consecutive_numbers(world, item):
    drafts = [_ready(world.citizen, item) for _ in range(4)]
    submitted = at_once([
        lambda index=index, draft=draft: services.case_submit(actor=world.citizen, case=draft,
                                                              idempotency_key=f"key-par-{index:04d}")
        for index, draft in enumerate(drafts)
    ])
    numbers = [case.number for case in submitted]
    assert sorted(n[-4:] for n in numbers) == ["0001", "0002", "0003", "0004"]


def _remove_a_material(citizen, case):
    services.case_detach(actor=citizen, case=case, material=case.materials.get(material_key="application"))


def _attach_it_again(citizen, case):
    services.case_attach(actor=citizen, case=case, material_key="application", uploaded_file=_photo())


def _clear_the_form(citizen, case):
    services.case_save_form(actor=citizen, case=case, data={})


def _fill_it_in_again(citizen, case):
    services.case_save_form(actor=citizen, case=case, data={"location": "红花岗区中华南路88号"})


@pytest.mark.parametrize(("change", "undo", "refusal"), [
    (_remove_a_material, _attach_it_again, "还缺少这些材料"),
    (_clear_the_form, _fill_it_in_again, "申请表有 1 处需要修改"),
])
def test_the_checks_made_before_the_number_is_taken_are_made_again_when_the_case_changed(
        world, item, monkeypatch, change, undo, refusal):
    first = services.case_submit(actor=world.citizen, case=_ready(world.citizen, item), idempotency_key="key-seq-0001")
    case = _ready(world.citizen, item)
    take_number = numbering.case_number

    def number_while_the_applicant_changes_the_case(impl_code, day):
        change(world.citizen, case)
        return take_number(impl_code, day)

    monkeypatch.setattr(numbering, "case_number", number_while_the_applicant_changes_the_case)
    with pytest.raises(InvalidInput, match=refusal):
        services.case_submit(actor=world.citizen, case=case, idempotency_key="key-seq-0002")

    assert Case.objects.get(pk=case.pk).status == CaseStatus.DRAFT
    monkeypatch.undo()
    undo(world.citizen, case)
    again = services.case_submit(actor=world.citizen, case=case, idempotency_key="key-seq-0003")
    # The refused submission had taken the serial after the first one's: it stays unused.
    assert (int(first.number[-4:]), int(again.number[-4:])) == (1, 3)


def test_a_case_locked_after_it_was_read_is_the_row_under_the_lock(world, item):
    case = _ready(world.citizen, item)
    read = services._read(case)
    Case.objects.filter(pk=case.pk).update(department=world.other, form_data={"location": "汇川区"})

    with transaction.atomic():
        locked = services._relock(read)

    assert (locked.department, locked.form_data) == (world.other, {"location": "汇川区"})
    assert (locked.item, locked.applicant, locked.version) == (read.item, read.applicant, read.version)


def test_every_statement_of_a_case_action_is_one_the_driver_converts_once(world, filed_case):
    """psycopg keeps a statement's conversion (%s to $n) only within its size limits, which the
    core app widens for the case read with its relations and the case row's UPDATE: every case
    action runs both."""
    from django.db import connection
    from psycopg import _queries

    case = filed_case()
    statements: list[tuple[str, int]] = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, len(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        services.case_accept(actor=world.clerk, case=case)

    assert max(len(sql) for sql, _ in statements) > 4096  # the case read with its relations
    assert max(count for _, count in statements) > 50  # the case row's UPDATE
    assert all(len(sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
               and count <= _queries.MAX_CACHED_STATEMENT_PARAMS for sql, count in statements)
