"""The whole case lifecycle through the services: review steps, special procedures, the clock,
decisions, 容缺, window intake and agents, delivery and archive; every illegal action refused."""

import datetime as dt

import pytest
from django.utils import timezone

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.cases import clock, hooks, selectors, services
from onewindow.cases.choices import CaseStatus, Decision, DocumentKind, StepStatus, Urgency
from onewindow.cases.models import Case, CaseEvent, CaseStep, DeferredMaterial, DenialFiling
from onewindow.catalogue import services as catalogue
from onewindow.core import workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.identifiers import make_id_number
from onewindow.core.models import AuditEntry, Notification
from onewindow.core.services.calendar import calendar_seed_from_package
from onewindow.core.testing.concurrency import at_once
from tests.cases.conftest import STANDARD, item_content
from tests.cases.test_services import _photo, _ready

SPECIALS = [
    {"kind": "2", "name": "现场勘察", "max_days": 5, "basis": "《遵义市户外广告设置管理办法》第十条"},
    {"kind": "1", "name": "延长审批", "max_days": 10, "basis": "《中华人民共和国行政许可法》第四十二条"},
]


@pytest.fixture
def special_item(world, basic, publish):
    """The advertising item with a site inspection and an extension in its guide."""
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content(special_procedures=SPECIALS, result_name="户外广告设置许可证"))
    published = publish(version)
    return type(published.item).objects.get(pk=published.item_id)


def _submit(world, item, key="key-life-0001", **kwargs):
    return services.case_submit(actor=world.citizen, case=_ready(world.citizen, item), idempotency_key=key, **kwargs)


def _in_review(world, item, key="key-life-0001"):
    return services.case_accept(actor=world.clerk, case=_submit(world, item, key))


def _at_decision(world, item, reviewer, key="key-life-0001"):
    case = _in_review(world, item, key)
    services.step_claim(actor=reviewer, case=case)
    services.step_pass(actor=reviewer, case=case, opinion="材料齐全，符合设置规划。")
    return Case.objects.get(pk=case.pk)


def _fresh(case):
    return Case.objects.get(pk=case.pk)


def _working_days_ago(n):
    """The day from which exactly `n` working days have passed by today, on any day of the week."""
    last_working_day = workdays.add_working_days(timezone.localdate() + dt.timedelta(days=1), -1).date
    return workdays.add_working_days(last_working_day, -n).date


def test_a_case_runs_from_submission_to_archive(world, special_item, reviewer, approver):
    case = _in_review(world, special_item)
    steps = list(case.steps.order_by("position"))
    assert [(s.key, s.status) for s in steps] == [("accept", StepStatus.DONE), ("review", StepStatus.WAITING)]
    assert steps[1].due == workdays.add_working_days(timezone.localdate(), 5).date
    assert list(selectors.step_queue(reviewer)) == [steps[1]]
    assert list(selectors.step_queue(approver)) == []

    services.step_claim(actor=reviewer, case=case)
    decide_step = services.step_pass(actor=reviewer, case=case, opinion="符合设置规划。")
    assert decide_step.kind == "decide" and list(selectors.step_queue(approver)) == [decide_step]
    case = services.case_decide(actor=approver, case=case, decision=Decision.APPROVED, opinion="准予设置。")
    assert (case.status, case.result_name) == (CaseStatus.DECIDED, "户外广告设置许可证")
    assert case.result_number == case.documents.get(kind=DocumentKind.APPROVAL).number
    case = services.case_complete(actor=world.clerk, case=case)
    with pytest.raises(InvalidInput, match="物流单号"):
        services.case_deliver(actor=world.clerk, case=case, method="post", address="遵义市汇川区上海路1号",
                              recipient="张三", carrier="中国邮政EMS")
    with pytest.raises(InvalidInput, match="不提供"):
        services.case_deliver(actor=world.clerk, case=case, method="electronic")
    case = services.case_deliver(actor=world.clerk, case=case, method="post", address="遵义市汇川区上海路1号",
                                 recipient="张三", carrier="中国邮政EMS", tracking_number="1180000000001")
    archive = services.case_archive(actor=world.clerk, case=case)
    case = _fresh(case)
    assert case.status == CaseStatus.ARCHIVED and case.tracking_number == "1180000000001"
    assert [d["kind"] for d in archive.manifest["documents"]] == ["receipt", "acceptance", "approval"]
    assert len(archive.manifest["materials"]) == 3 and all(m["sha256"] for m in archive.manifest["materials"])
    actions = ["submit", "accept", "claim", "pass_step", "decide", "complete", "deliver", "archive"]
    assert [e.action for e in case.events.filter(action__in=actions)] == actions
    for action in actions:
        assert AuditEntry.objects.filter(action=f"cases.{action}", object_id=str(case.pk)).count() == 1
    subjects = set(Notification.objects.filter(recipient=world.citizen).values_list("subject", flat=True))
    assert {"申请已提交", "申请已受理", "办件已作出决定", "办件已办结", "办理结果已送达"} <= subjects


def _states(world, item, reviewer, approver):
    """One case in every state, keyed by state."""
    keys = iter(f"key-state-{n:04d}" for n in range(100))
    cases = {CaseStatus.DRAFT: _ready(world.citizen, item)}
    cases[CaseStatus.SUBMITTED] = _submit(world, item, next(keys))
    supplement = _submit(world, item, next(keys))
    services.case_request_supplement(actor=world.clerk, case=supplement,
                                     missing=[{"material_key": "site_photos", "reason": "照片不清晰"}])
    cases[CaseStatus.SUPPLEMENT] = supplement
    cases[CaseStatus.NOT_ACCEPTED] = services.case_refuse(actor=world.clerk, case=_submit(world, item, next(keys)),
                                                          reasons="不属于本机关职权", basis="行政许可法第三十二条")
    cases[CaseStatus.IN_REVIEW] = _in_review(world, item, next(keys))
    special = _in_review(world, item, next(keys))
    services.step_claim(actor=reviewer, case=special)
    services.case_start_special(actor=reviewer, case=special, name="现场勘察", reason="需核实设置地点")
    cases[CaseStatus.SPECIAL] = special
    decided = _at_decision(world, item, reviewer, next(keys))
    cases[CaseStatus.DECIDED] = services.case_decide(actor=approver, case=decided, decision=Decision.APPROVED,
                                                     opinion="准予。")
    completed = services.case_decide(actor=approver, case=_at_decision(world, item, reviewer, next(keys)),
                                     decision=Decision.APPROVED, opinion="准予。")
    cases[CaseStatus.COMPLETED] = services.case_complete(actor=world.clerk, case=completed)
    delivered = services.case_complete(actor=world.clerk, case=services.case_decide(
        actor=approver, case=_at_decision(world, item, reviewer, next(keys)), decision=Decision.APPROVED,
        opinion="准予。"))
    cases[CaseStatus.DELIVERED] = services.case_deliver(actor=world.clerk, case=delivered, method="window")
    archived = services.case_deliver(actor=world.clerk, case=services.case_complete(
        actor=world.clerk, case=services.case_decide(actor=approver, case=_at_decision(world, item, reviewer, next(keys)),
                                                     decision=Decision.APPROVED, opinion="准予。")), method="window")
    services.case_archive(actor=world.clerk, case=archived)
    cases[CaseStatus.ARCHIVED] = archived
    cases[CaseStatus.WITHDRAWN] = services.case_withdraw(actor=world.citizen, case=_submit(world, item, next(keys)),
                                                         reason="暂不设置")
    terminated = _in_review(world, item, next(keys))
    cases[CaseStatus.TERMINATED] = services.case_terminate(case=terminated, reason="容缺材料逾期未补交。")
    return {state: _fresh(case) for state, case in cases.items()}


def test_every_illegal_action_is_refused_with_409_and_changes_nothing(world, special_item, reviewer, approver):
    cases = _states(world, special_item, reviewer, approver)
    assert {state: case.status for state, case in cases.items()} == {state: state for state in cases}
    citizen, clerk = world.citizen, world.clerk
    calls = {
        "edit": lambda c: services.case_save_form(actor=citizen, case=c, data={"location": "x"}),
        "submit": lambda c: services.case_submit(actor=citizen, case=c, idempotency_key=f"illegal-{c.pk:06d}"),
        "accept": lambda c: services.case_accept(actor=clerk, case=c),
        "refuse": lambda c: services.case_refuse(actor=clerk, case=c, reasons="r", basis="b"),
        "request_supplement": lambda c: services.case_request_supplement(
            actor=clerk, case=c, missing=[{"material_key": "", "reason": "r"}]),
        "supply": lambda c: services.case_supply(actor=citizen, case=c),
        "claim": lambda c: services.step_claim(actor=reviewer, case=c),
        "pass_step": lambda c: services.step_pass(actor=reviewer, case=c, opinion="o"),
        "return_step": lambda c: services.step_return(actor=approver, case=c, to_key="review", reason="r"),
        "start_special": lambda c: services.case_start_special(actor=reviewer, case=c, name="现场勘察", reason="r"),
        "end_special": lambda c: services.case_end_special(actor=reviewer, case=c, result="r"),
        "extend": lambda c: services.case_extend(actor=approver, case=c, days=1, reason="r"),
        "decide": lambda c: services.case_decide(actor=approver, case=c, decision=Decision.APPROVED, opinion="o"),
        "complete": lambda c: services.case_complete(actor=clerk, case=c),
        "deliver": lambda c: services.case_deliver(actor=clerk, case=c, method="window"),
        "archive": lambda c: services.case_archive(actor=clerk, case=c),
        "withdraw": lambda c: services.case_withdraw(actor=citizen, case=c, reason="r"),
        "terminate": lambda c: services.case_terminate(case=c, reason="r"),
    }
    refused = 0
    for action, call in calls.items():
        sources = services.CASE_LIFECYCLE.transition(action).sources
        for state, case in cases.items():
            if state in sources:
                continue
            entries = AuditEntry.objects.count()
            with pytest.raises(DomainError) as raised:
                call(case)
            assert raised.value.status_code == 409, (action, state, raised.value.message)
            assert _fresh(case).status == state and AuditEntry.objects.count() == entries
            refused += 1
    assert refused > 150


def test_review_steps_claim_transfer_return_and_stale_pages(world, special_item, reviewer, approver, make_user):
    colleague = make_user("reviewer2", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=colleague, role=Role.REVIEWER, department=world.market)
    case = _in_review(world, special_item)
    review = services.step_claim(actor=reviewer, case=case)
    with pytest.raises(DomainError, match="已被"):
        services.step_claim(actor=colleague, case=case)
    with pytest.raises(DomainError, match="已被"):
        services.step_pass(actor=colleague, case=case, opinion="同意")
    with pytest.raises(InvalidInput, match="权限"):
        services.step_transfer(actor=reviewer, case=case, to=world.clerk, reason="休假")
    services.step_transfer(actor=reviewer, case=case, to=colleague, reason="休假")
    decide = services.step_pass(actor=colleague, case=case, opinion="同意", step=review)
    with pytest.raises(DomainError, match="他人办理"):
        services.step_pass(actor=colleague, case=case, opinion="同意", step=review)
    with pytest.raises(InvalidInput, match="之前的审查环节"):
        services.step_return(actor=approver, case=case, to_key="accept", reason="重新受理")
    again = services.step_return(actor=approver, case=case, to_key="review", reason="现场照片与申请地点不符", step=decide)
    assert (again.key, again.status) == ("review", StepStatus.WAITING)
    assert list(case.steps.values_list("key", "outcome")) == [
        ("accept", "pass"), ("review", "pass"), ("decide", "return"), ("review", "")]
    with pytest.raises(PermissionDenied):
        services.step_claim(actor=world.citizen, case=case)


def test_denial_needs_reasons_and_basis_and_is_filed_for_supervision(world, special_item, reviewer, approver):
    case = _at_decision(world, special_item, reviewer)
    with pytest.raises(InvalidInput, match="法律依据"):
        services.case_decide(actor=approver, case=case, decision=Decision.DENIED, reasons="不符合设置规划")
    assert _fresh(case).status == CaseStatus.IN_REVIEW and not DenialFiling.objects.exists()
    case = services.case_decide(actor=approver, case=case, decision=Decision.DENIED, reasons="不符合设置规划",
                                basis="《城市市容和环境卫生管理条例》第十一条")
    filing = DenialFiling.objects.get(case=case)
    assert (filing.department, filing.filed_by, case.status) == (world.market, approver, CaseStatus.DECIDED)
    assert case.documents.filter(kind=DocumentKind.DENIAL).exists()


def test_only_an_authorised_chief_representative_decides(world, special_item, reviewer, make_user):
    case = _at_decision(world, special_item, reviewer)
    unauthorised = make_user("approver2", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=unauthorised, role=Role.APPROVER, department=world.market)
    for actor in (unauthorised, reviewer, world.clerk):
        with pytest.raises(PermissionDenied):
            services.case_decide(actor=actor, case=case, decision=Decision.APPROVED, opinion="准予")


def test_a_special_procedure_pauses_the_clock(world, special_item, reviewer):
    case = _in_review(world, special_item)
    promised, review_due = case.promised_due, case.steps.get(key="review").due
    services.step_claim(actor=reviewer, case=case)
    with pytest.raises(InvalidInput, match="未公布"):
        services.case_start_special(actor=reviewer, case=case, name="听证", reason="需听证")
    run = services.case_start_special(actor=reviewer, case=case, name="现场勘察", reason="核实设置地点")
    paused = _fresh(case)
    assert paused.status == CaseStatus.SPECIAL
    assert clock.case_urgency(paused, today=timezone.localdate()) == Urgency.PAUSED
    # The inspection began three working days ago.
    began = _working_days_ago(3)
    Case.objects.filter(pk=case.pk).update(paused_since=began)
    run = services.case_end_special(actor=reviewer, case=case, result="现场与申请一致")
    resumed = _fresh(case)
    used = workdays.working_days_between(began, timezone.localdate()).days
    assert run.days_used == used == 3
    assert resumed.paused_days == 3 and resumed.status == CaseStatus.IN_REVIEW
    assert resumed.promised_due == workdays.add_working_days(promised, 3).date
    assert resumed.steps.get(key="review", status=StepStatus.CLAIMED).due == workdays.add_working_days(review_due, 3).date


def test_a_special_procedure_longer_than_published_is_recorded_as_over(world, special_item, reviewer):
    case = _in_review(world, special_item)
    services.step_claim(actor=reviewer, case=case)
    services.case_start_special(actor=reviewer, case=case, name="现场勘察", reason="核实")
    Case.objects.filter(pk=case.pk).update(paused_since=_working_days_ago(7))
    run = services.case_end_special(actor=reviewer, case=case, result="完成")
    assert run.days_used == 7 > run.max_days
    entry = AuditEntry.objects.filter(action="cases.end_special").get()
    assert '"over_limit":true' in entry.changes


def test_extension_by_the_chief_representative_within_the_published_maximum(world, special_item, approver, reviewer,
                                                                            publish):
    case = _in_review(world, special_item)
    legal = case.legal_due
    with pytest.raises(PermissionDenied):
        services.case_extend(actor=reviewer, case=case, days=5, reason="情况复杂")
    with pytest.raises(InvalidInput, match="10"):
        services.case_extend(actor=approver, case=case, days=11, reason="情况复杂")
    services.case_extend(actor=approver, case=case, days=6, reason="需征求规划部门意见")
    with pytest.raises(InvalidInput, match="累计"):
        services.case_extend(actor=approver, case=case, days=5, reason="再延")
    extended = _fresh(case)
    assert extended.extension_days == 6 and extended.legal_due == workdays.add_working_days(legal, 6).date
    other_basic = catalogue.basic_item_create(actor=world.admin, basic_code="XK00127001", standard=STANDARD)
    version = catalogue.item_create(actor=world.editor, basic_item=other_basic, department=world.market,
                                    content=item_content())
    item = type(publish(version).item).objects.get(pk=version.item_id)
    plain = _in_review(world, item, "key-plain-0001")
    with pytest.raises(DomainError, match="没有延长审批"):
        services.case_extend(actor=approver, case=plain, days=1, reason="情况复杂")


def test_the_clock_counts_working_days_across_holidays(world, special_item):
    calendar_seed_from_package(actor=None, years=[2025])
    case = _in_review(world, special_item)
    case.clock_start = dt.date(2025, 9, 26)
    clock.set_due_dates(case)
    # 20 working days from Friday 26 September 2025 skip the National Day week and count the
    # make-up Saturday 11 October: 30 October.
    assert case.legal_due == dt.date(2025, 10, 30)
    assert case.promised_due == workdays.add_working_days(dt.date(2025, 9, 26), 8).date == dt.date(2025, 10, 14)
    case.paused_days = 2
    clock.set_due_dates(case)
    assert case.legal_due == dt.date(2025, 11, 3)
    today = dt.date(2025, 10, 29)
    assert clock.remaining_days(dt.date(2025, 10, 30), today=today) == 1
    assert clock.urgency(dt.date(2025, 10, 30), today=today) == Urgency.NEAR
    assert clock.urgency(dt.date(2025, 10, 28), today=today) == Urgency.OVERDUE
    assert clock.urgency(dt.date(2025, 11, 10), today=today) == Urgency.NORMAL


def test_deferral_accept_supply_and_complete(world, item, reviewer, approver):
    case = _ready(world.citizen, item)
    case.materials.filter(material_key="site_photos").delete()
    with pytest.raises(InvalidInput, match="签署承诺"):
        services.case_submit(actor=world.citizen, case=case, idempotency_key="key-defer-01", deferral=["site_photos"])
    with pytest.raises(InvalidInput, match="不是可容缺"):
        services.case_submit(actor=world.citizen, case=case, idempotency_key="key-defer-01",
                             deferral=["application"], commitment="本人承诺按期补交。")
    case = services.case_submit(actor=world.citizen, case=case, idempotency_key="key-defer-01",
                                deferral=["site_photos"], commitment="本人承诺在期限内补交现场照片，逾期愿承担终止办理的后果。")
    promised = workdays.add_working_days(timezone.localdate(), 8).date
    with pytest.raises(InvalidInput, match="不能晚于承诺办结日期"):
        services.case_accept(actor=world.clerk, case=case, deferred_due=promised + dt.timedelta(days=1))
    assert _fresh(case).status == CaseStatus.SUBMITTED
    case = services.case_accept(actor=world.clerk, case=case, deferred_due=promised)
    deferred = DeferredMaterial.objects.get(case=case)
    assert (deferred.material_key, deferred.due) == ("site_photos", promised)
    notice = case.documents.get(kind=DocumentKind.DEFERRAL)
    assert notice.facts["materials"] == ["设置地点现状照片"] and "终止" in notice.facts["consequence"]
    with pytest.raises(DomainError, match="容缺受理时列明"):
        services.case_attach(actor=world.citizen, case=case, material_key="application", uploaded_file=_photo())
    services.step_claim(actor=reviewer, case=case)
    services.step_pass(actor=reviewer, case=case, opinion="同意")
    services.case_decide(actor=approver, case=case, decision=Decision.APPROVED, opinion="准予")
    with pytest.raises(DomainError, match="容缺材料尚未补齐"):
        services.case_complete(actor=world.clerk, case=case)
    # The decided case is no longer in review: the material is handed in earlier in real life.
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.IN_REVIEW)
    services.case_attach(actor=world.citizen, case=case, material_key="site_photos", uploaded_file=_photo())
    assert DeferredMaterial.objects.get(case=case).supplied_at is not None


def test_deferral_reminder_then_termination_by_the_sweep(world, item):
    case = _ready(world.citizen, item)
    case.materials.filter(material_key="site_photos").delete()
    case = services.case_submit(actor=world.citizen, case=case, idempotency_key="key-defer-02",
                                deferral=["site_photos"], commitment="本人承诺按期补交。")
    case = services.case_accept(actor=world.clerk, case=case, deferred_due=timezone.localdate())
    assert services.deferral_sweep() == 1
    assert services.deferral_sweep() == 0  # reminded once
    assert Notification.objects.filter(recipient=world.citizen, subject="请按时补交容缺材料").count() == 1
    DeferredMaterial.objects.filter(case=case).update(due=timezone.localdate() - dt.timedelta(days=1))
    assert services.deferral_sweep() == 1
    ended = _fresh(case)
    assert ended.status == CaseStatus.TERMINATED and "设置地点现状照片" in ended.ended_reason
    assert ended.documents.filter(kind=DocumentKind.TERMINATION).exists()
    assert not ended.steps.exclude(status=StepStatus.DONE).exists()


def test_blacklisted_applicants_cannot_use_deferral(world, item, monkeypatch):
    monkeypatch.setattr(hooks, "credit_checks", [
        lambda user, enterprise: "列入严重失信主体名单" if user.pk == world.citizen.pk else None])
    case = _ready(world.citizen, item)
    case.materials.filter(material_key="site_photos").delete()
    with pytest.raises(InvalidInput, match="失信"):
        services.case_submit(actor=world.citizen, case=case, idempotency_key="key-black-01",
                             deferral=["site_photos"], commitment="承诺补交")
    services.case_attach(actor=world.citizen, case=case, material_key="site_photos", uploaded_file=_photo())
    assert services.case_submit(actor=world.citizen, case=case, idempotency_key="key-black-01").status \
        == CaseStatus.SUBMITTED


class _Library:
    """A licence source holding one valid licence of the citizen."""

    def __init__(self, holder_id: str) -> None:
        self.holder_id = holder_id

    def valid_licences(self, *, holder_ids, licence_type):
        if self.holder_id in holder_ids and licence_type == "business_licence":
            return [hooks.LicenceRecord(number="91520300MA6DLX1234", licence_type=licence_type, name="营业执照",
                                        holder_id=self.holder_id)]
        return []


def test_materials_held_as_licences_are_attached_by_reference(world, basic, publish, monkeypatch):
    materials = [{"key": "application", "name": "户外广告设置申请表", "required": True},
                 {"key": "licence", "name": "营业执照", "required": True, "licence_type": "business_licence"}]
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content(materials=materials,
                                                         differences={"materials": "本地可用电子营业执照替代"},
                                                         form={"fields": [{"key": "location", "label": "设置地点",
                                                                           "type": "text", "required": True}]}))
    item = type(publish(version).item).objects.get(pk=version.item_id)
    world.citizen.id_number = make_id_number("520302", dt.date(1980, 5, 1), 11)
    world.citizen.save(update_fields=["id_number"])
    monkeypatch.setattr(hooks, "licence_sources", [_Library(world.citizen.id_number)])
    case = services.case_start(actor=world.citizen, item=item)
    services.case_save_form(actor=world.citizen, case=case, data={"location": "遵义市"})
    services.case_attach(actor=world.citizen, case=case, material_key="application", uploaded_file=_photo())
    with pytest.raises(InvalidInput, match="没有找到申请人名下"):
        services.case_attach(actor=world.citizen, case=case, material_key="licence", licence_number="NOPE")
    attached = services.case_attach(actor=world.citizen, case=case, material_key="licence",
                                    licence_number="91520300MA6DLX1234")
    assert attached.file is None and attached.licence_type == "business_licence"
    assert [r.number for r in hooks.available_licences(case, licence_type="business_licence")] == [attached.licence_number]
    assert services.case_submit(actor=world.citizen, case=case, idempotency_key="key-lic-0001").status \
        == CaseStatus.SUBMITTED


def test_an_issued_licence_becomes_the_result(world, special_item, reviewer, approver, monkeypatch):
    monkeypatch.setattr(hooks, "result_issuers", [
        lambda case: hooks.IssuedResult(number="遵广设〔2026〕0001号", valid_until=dt.date(2029, 12, 31))])
    case = services.case_decide(actor=approver, case=_at_decision(world, special_item, reviewer),
                                decision=Decision.APPROVED, opinion="准予")
    assert (case.result_number, case.result_valid_until) == ("遵广设〔2026〕0001号", dt.date(2029, 12, 31))


@pytest.fixture
def resident(world):
    world.citizen.real_name = "王小明"
    world.citizen.id_number = make_id_number("520302", dt.date(1975, 3, 8), 21)
    world.citizen.save(update_fields=["real_name", "id_number"])
    return world.citizen


def test_window_intake_checks_identity_and_counts_visits(world, item, resident):
    with pytest.raises(InvalidInput, match="不符"):
        services.case_file_at_window(actor=world.clerk, item=item, id_number=resident.id_number, real_name="王小")
    with pytest.raises(PermissionDenied):
        services.case_file_at_window(actor=world.editor, item=item, id_number=resident.id_number, real_name="王小明")
    case = services.case_file_at_window(actor=world.clerk, item=item, id_number=resident.id_number,
                                        real_name="王小明")
    assert (case.applicant, case.filed_by, case.channel, case.visits) == (resident, world.clerk, "window", 1)
    services.case_save_form(actor=world.clerk, case=case, data={"location": "遵义市"})
    for key in ("application", "site_photos"):
        services.case_attach(actor=world.clerk, case=case, material_key=key, uploaded_file=_photo())
    case = services.case_submit(actor=world.clerk, case=case, idempotency_key="key-window-01")
    case = services.case_accept(actor=world.clerk, case=case)
    assert services.case_record_visit(actor=world.clerk, case=case).visits == 2
    assert case in selectors.my_cases(resident)
    with pytest.raises(PermissionDenied):
        services.case_record_visit(actor=world.citizen, case=case)


def test_village_agents_file_with_recorded_consent(world, item, resident, make_user):
    agent = make_user("agent", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=agent, role=Role.VILLAGE_AGENT, department=world.district)
    with pytest.raises(InvalidInput, match="委托"):
        services.case_file_by_agent(actor=agent, item=item, id_number=resident.id_number, real_name="王小明",
                                    consent=" ")
    with pytest.raises(PermissionDenied):
        services.case_file_by_agent(actor=world.clerk, item=item, id_number=resident.id_number, real_name="王小明",
                                    consent="本人委托代办")
    case = services.case_file_by_agent(actor=agent, item=item, id_number=resident.id_number, real_name="王小明",
                                       consent="本人王小明委托村代办员代为申报户外广告设置许可。",
                                       consent_file=_photo())
    assert (case.channel, case.filed_by, case.applicant) == ("agent", agent, resident)
    assert case.agent_consent_file is not None
    assert case in selectors.my_cases(agent) and case in selectors.my_cases(resident)
    services.case_save_form(actor=agent, case=case, data={"location": "遵义市"})


def test_immediate_items_are_decided_on_the_spot(world, basic, publish):
    steps = [{"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 0},
             {"key": "decide", "name": "当场决定", "kind": "decide", "role": "window_clerk", "limit_days": 0}]
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content(case_type="1", steps=steps,
                                                         promised_limit={"amount": 0, "unit": "working_day"}))
    item = type(publish(version).item).objects.get(pk=version.item_id)
    case = _submit(world, item, "key-spot-0001")
    case = services.case_decide_on_spot(actor=world.clerk, case=case, decision=Decision.APPROVED, opinion="当场准予")
    assert case.status == CaseStatus.COMPLETED and case.completed_at is not None
    assert list(case.steps.values_list("status", flat=True)) == [StepStatus.DONE, StepStatus.DONE]
    promised_item_case = _submit(world, case.item, "key-spot-0002")
    with pytest.raises(PermissionDenied):
        services.case_decide_on_spot(actor=world.citizen, case=promised_item_case, decision=Decision.APPROVED,
                                     opinion="准予")


def test_outsiders_get_not_found_and_supervisors_see_their_region(world, item, make_user):
    case = _submit(world, item)
    stranger = make_user("stranger", kind=AccountKind.CITIZEN)
    other_staff = make_user("otherstaff", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=other_staff, role=Role.REVIEWER, department=world.other)
    supervisor = make_user("watcher", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR, region=world.city)
    county_supervisor = make_user("countywatcher", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=county_supervisor, role=Role.SUPERVISOR, region=world.county)
    for outsider in (stranger, other_staff, county_supervisor):
        with pytest.raises(NotFound):
            selectors.case_for(outsider, case.pk)
        with pytest.raises(NotFound):
            selectors.case_by_number(outsider, case.number)
    assert selectors.case_for(supervisor, case.pk) == case
    assert selectors.public_progress(case.number, case.query_code.lower()).number == case.number
    with pytest.raises(NotFound):
        selectors.public_progress(case.number, "WRONG1")
    draft = _ready(world.citizen, item)
    with pytest.raises(NotFound):
        selectors.case_for(world.clerk, draft.pk)


@pytest.mark.django_db(transaction=True)
def test_two_chief_representatives_deciding_at_once_exactly_one_succeeds(world, special_item, reviewer, approver,
                                                                         make_user):
    from onewindow.accounts.models import ChiefRepresentativeAuthorisation

    second = make_user("approver2", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=second, role=Role.APPROVER, department=world.market)
    authorisation = ChiefRepresentativeAuthorisation.objects.get(representative=approver)
    authorisation.pk = None
    authorisation.representative = second
    authorisation.save()
    case = _at_decision(world, special_item, reviewer)
    outcomes = at_once([
        lambda: services.case_decide(actor=approver, case=case, decision=Decision.APPROVED, opinion="准予"),
        lambda: services.case_decide(actor=second, case=case, decision=Decision.DENIED, reasons="理由", basis="依据"),
    ])
    assert sorted(str(getattr(o, "status_code", "ok")) for o in outcomes) == ["409", "ok"]
    assert CaseEvent.objects.filter(case=case, action="decide").count() == 1
    assert CaseStep.objects.filter(case=case, kind="decide").count() == 1
