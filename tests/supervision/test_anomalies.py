"""Every anomaly rule: a case that triggers it, and one that must not."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation, RoleAssignment
from onewindow.cases import services as cases
from onewindow.cases.models import Case, CaseStep
from onewindow.catalogue import services as catalogue
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.supervision import services
from onewindow.supervision.choices import RuleCode, WarningType
from onewindow.supervision.models import (
    SupervisionEvent,
    SupervisionItem,
)
from tests.cases.conftest import item_content


def _found(code, case=None):
    services.anomalies_scan()
    found = SupervisionItem.objects.filter(rule__code=code)
    return found.filter(case=case) if case is not None else found


def _slow_steps(case, minutes=30):
    """The open step has been in the pool for a while (so finishing it is not implausibly fast)."""
    CaseStep.objects.filter(case=case, finished_at__isnull=True).update(
        started_at=timezone.now() - dt.timedelta(minutes=minutes)
    )


def _decided(
    world,
    accepted_case,
    reviewer,
    approver,
    *,
    decision="approved",
    reasons="",
    basis="",
    slow=True,
):
    case = accepted_case()
    cases.step_claim(actor=reviewer, case=case)
    if slow:
        _slow_steps(case)
    cases.step_pass(actor=reviewer, case=case, opinion="材料齐全。")
    if slow:
        _slow_steps(case)
    return cases.case_decide(
        actor=approver,
        case=case,
        decision=decision,
        opinion="同意。",
        reasons=reasons,
        basis=basis,
    )


# A01 ------------------------------------------------------------------------------------------------


def test_a_refusal_with_a_token_reason_is_an_anomaly(world, filed_case):
    case = cases.case_refuse(
        actor=world.clerk, case=filed_case(), reasons="不符合", basis="有关规定"
    )
    item = _found(RuleCode.REFUSAL_WITHOUT_REASONS, case).get()
    assert "不予受理" in item.subject and item.department_id == case.department_id
    assert SupervisionEvent.objects.filter(
        case=case, warning_type=WarningType.ANOMALY
    ).exists()


def test_a_refusal_with_reasons_and_basis_is_not(world, filed_case):
    case = cases.case_refuse(
        actor=world.clerk,
        case=filed_case(),
        reasons="设置地点位于城市主干道禁设区域，不属于可设置范围。",
        basis="《遵义市户外广告设置管理办法》第十条",
    )
    assert not _found(RuleCode.REFUSAL_WITHOUT_REASONS, case).exists()


def test_a_denial_with_a_token_reason_is_an_anomaly_and_a_reasoned_one_is_not(
    world, accepted_case, reviewer, approver
):
    bare = _decided(
        world,
        accepted_case,
        reviewer,
        approver,
        decision="denied",
        reasons="不行",
        basis="规定",
    )
    full = _decided(
        world,
        accepted_case,
        reviewer,
        approver,
        decision="denied",
        reasons="设置地点位于禁设区域，依法不予许可。",
        basis="《遵义市户外广告设置管理办法》第十条",
    )
    assert _found(RuleCode.REFUSAL_WITHOUT_REASONS, bare).exists()
    assert not _found(RuleCode.REFUSAL_WITHOUT_REASONS, full).exists()


# A02 ------------------------------------------------------------------------------------------------


def test_a_second_supplement_request_on_one_application_is_an_anomaly(
    world, filed_case
):
    case = filed_case()
    cases.case_request_supplement(
        actor=world.clerk,
        case=case,
        missing=[{"material_key": "application", "reason": "未签字"}],
    )
    assert not _found(RuleCode.REPEATED_SUPPLEMENT, case).exists()
    cases.case_supply(actor=world.citizen, case=case)
    cases.case_request_supplement(
        actor=world.clerk,
        case=case,
        missing=[{"material_key": "site_photos", "reason": "不清晰"}],
    )
    assert _found(RuleCode.REPEATED_SUPPLEMENT, case).count() == 1


# A03 ------------------------------------------------------------------------------------------------


@pytest.fixture
def clerk_and_approver(world, make_user):
    """Someone who works the window and is also an authorised chief representative."""
    user = make_user("both", kind=AccountKind.STAFF, otp=True, real_name="赵双")
    for role in (Role.WINDOW_CLERK, Role.APPROVER):
        RoleAssignment.objects.create(user=user, role=role, department=world.market)
    today = dt.date.today()
    ChiefRepresentativeAuthorisation.objects.create(
        representative=user,
        department=world.market,
        scope_text="全部事项",
        all_items=True,
        document_number="授〔2026〕9号",
        signatory="局长",
        signed_on=today - dt.timedelta(days=3),
        valid_from=today - dt.timedelta(days=3),
        valid_until=today + dt.timedelta(days=300),
    )
    return user


def _accepted_and_decided_by(person, world, filed_case, reviewer):
    case = cases.case_accept(actor=person, case=filed_case())
    cases.step_claim(actor=reviewer, case=case)
    _slow_steps(case)
    cases.step_pass(actor=reviewer, case=case, opinion="材料齐全。")
    _slow_steps(case)
    return cases.case_decide(
        actor=person, case=case, decision="approved", opinion="同意。"
    )


def test_accepting_and_deciding_alone_is_an_anomaly_where_the_item_forbids_it(
    world, filed_case, reviewer, clerk_and_approver
):
    services.item_setting_save(
        actor=world.editor,
        item=filed_case().item,
        near_days=None,
        near_percent=20,
        separate_accept_and_decide=True,
    )
    case = _accepted_and_decided_by(clerk_and_approver, world, filed_case, reviewer)
    assert "赵双" in _found(RuleCode.SAME_HANDLER, case).get().description


def test_accepting_and_deciding_alone_is_not_an_anomaly_where_the_item_allows_it(
    world, filed_case, reviewer, clerk_and_approver
):
    case = _accepted_and_decided_by(clerk_and_approver, world, filed_case, reviewer)
    assert not _found(RuleCode.SAME_HANDLER, case).exists()


# A04 ------------------------------------------------------------------------------------------------


def test_a_decision_after_the_promised_date_is_an_anomaly(
    world, accepted_case, reviewer, approver
):
    case = accepted_case()
    cases.step_claim(actor=reviewer, case=case)
    _slow_steps(case)
    cases.step_pass(actor=reviewer, case=case, opinion="材料齐全。")
    # The promised date passed while the case waited (the clock's days are data).
    Case.objects.filter(pk=case.pk).update(
        promised_due=timezone.localdate() - dt.timedelta(days=1)
    )
    _slow_steps(case)
    cases.case_decide(actor=approver, case=case, decision="approved", opinion="同意。")
    assert _found(RuleCode.LATE_DECISION, case).exists()


def test_a_decision_within_the_promise_is_not(world, accepted_case, reviewer, approver):
    case = _decided(world, accepted_case, reviewer, approver)
    assert not _found(RuleCode.LATE_DECISION, case).exists()


# A05 ------------------------------------------------------------------------------------------------


def test_a_result_without_a_case_is_an_anomaly(world):
    record = services.result_report(
        actor=world.clerk,
        department=world.market,
        result_name="户外广告设置许可证",
        result_number="ZY-GG-2026-0999",
    )
    item = SupervisionItem.objects.get(rule__code=RuleCode.RESULT_WITHOUT_CASE)
    assert record.result_number in item.subject and item.department == world.market


def test_a_result_of_an_approved_case_is_not(world, accepted_case, reviewer, approver):
    case = _decided(world, accepted_case, reviewer, approver)
    services.result_report(
        actor=world.clerk,
        department=world.market,
        result_name="户外广告设置许可证",
        result_number=case.result_number,
        case_number=case.number,
    )
    assert not SupervisionItem.objects.filter(
        rule__code=RuleCode.RESULT_WITHOUT_CASE
    ).exists()


def test_a_result_is_reported_only_by_its_department_and_only_once(world, other_clerk):
    with pytest.raises(NotFound):
        services.result_report(
            actor=other_clerk,
            department=world.market,
            result_name="许可证",
            result_number="X-1",
        )
    services.result_report(
        actor=world.clerk,
        department=world.market,
        result_name="许可证",
        result_number="X-1",
    )
    with pytest.raises(Exception, match="已报送"):
        services.result_report(
            actor=world.clerk,
            department=world.market,
            result_name="许可证",
            result_number="X-1",
        )


# A06 ------------------------------------------------------------------------------------------------


def test_a_review_step_passed_within_seconds_is_an_anomaly(
    world, accepted_case, reviewer
):
    case = accepted_case()
    cases.step_claim(actor=reviewer, case=case)
    cases.step_pass(actor=reviewer, case=case, opinion="同意。")
    assert "审查" in _found(RuleCode.FAST_STEP, case).get().description


def test_a_review_step_that_took_its_time_is_not(world, accepted_case, reviewer):
    case = accepted_case()
    cases.step_claim(actor=reviewer, case=case)
    _slow_steps(case)
    cases.step_pass(actor=reviewer, case=case, opinion="同意。")
    assert not _found(RuleCode.FAST_STEP, case).exists()


# A07 ------------------------------------------------------------------------------------------------


@pytest.fixture
def fee_item(world, basic, publish):
    content = item_content(
        charges_fee=True,
        fees=[
            {
                "name": "户外广告设置审查费",
                "standard": "每件 50 元",
                "amount": "50.00",
                "basis": "《收费标准》第三条",
            }
        ],
    )
    published = publish(
        catalogue.item_create(
            actor=world.editor,
            basic_item=basic,
            department=world.market,
            content=content,
        )
    )
    return type(published.item).objects.get(pk=published.item_id)


def _fee_case(world, item):
    from tests.cases.test_services import _ready

    return cases.case_submit(
        actor=world.citizen,
        case=_ready(world.citizen, item),
        idempotency_key="fee-case-0001",
    )


def test_a_fee_the_guide_does_not_list_is_an_anomaly(world, fee_item):
    case = _fee_case(world, fee_item)
    services.charge_report(
        actor=world.clerk, case_number=case.number, fee_name="加急费", amount="200"
    )
    assert (
        "加急费"
        in SupervisionItem.objects.get(
            rule__code=RuleCode.FEE_NOT_IN_GUIDE, case=case
        ).description
    )


def test_a_fee_the_guide_lists_is_not(world, fee_item):
    case = _fee_case(world, fee_item)
    services.charge_report(
        actor=world.clerk,
        case_number=case.number,
        fee_name="户外广告设置审查费",
        amount=Decimal(50),
    )
    assert not SupervisionItem.objects.filter(
        rule__code=RuleCode.FEE_NOT_IN_GUIDE
    ).exists()


def test_a_charge_report_is_checked(world, fee_item, other_clerk):
    case = _fee_case(world, fee_item)
    with pytest.raises(NotFound):
        services.charge_report(
            actor=other_clerk, case_number=case.number, fee_name="审查费", amount="1"
        )
    with pytest.raises(InvalidInput):
        services.charge_report(
            actor=world.clerk, case_number=case.number, fee_name="审查费", amount="-5"
        )
    with pytest.raises(InvalidInput):
        services.charge_report(
            actor=world.clerk, case_number=case.number, fee_name="审查费", amount="abc"
        )


# A08 ------------------------------------------------------------------------------------------------


def test_repeated_withdrawals_of_one_item_are_an_anomaly(world, accepted_case):
    first = cases.case_withdraw(
        actor=world.citizen, case=accepted_case(), reason="窗口建议撤回后重新申请"
    )
    assert not _found(RuleCode.REPEATED_WITHDRAWALS).exists()
    second = cases.case_withdraw(
        actor=world.citizen, case=accepted_case(), reason="窗口建议撤回后重新申请"
    )
    item = _found(RuleCode.REPEATED_WITHDRAWALS).get()
    assert item.case_id == second.pk and first.number not in item.finding_key


def test_withdrawals_below_the_configured_count_are_not(world, accepted_case):
    services.rule_configure(
        actor=world.admin,
        rule=services.rules()["A08"],
        enabled=True,
        parameters={"max_withdrawals": 3},
    )
    for _ in range(2):
        cases.case_withdraw(
            actor=world.citizen, case=accepted_case(), reason="不再需要"
        )
    assert not _found(RuleCode.REPEATED_WITHDRAWALS).exists()


# the scan itself -------------------------------------------------------------------------------------


def test_the_scan_reads_each_event_once_and_a_disabled_rule_finds_nothing(
    world, filed_case
):
    services.rule_configure(
        actor=world.admin,
        rule=services.rules()["A01"],
        enabled=False,
        parameters={},
    )
    cases.case_refuse(
        actor=world.clerk, case=filed_case(), reasons="不符合", basis="规定"
    )
    assert services.anomalies_scan() == 0
    assert not SupervisionItem.objects.exists()
    services.rule_configure(
        actor=world.admin,
        rule=services.rules()["A01"],
        enabled=True,
        parameters={},
    )
    assert services.anomalies_scan() == 0  # those events were read already


def test_rule_parameters_are_checked(world):
    rule = services.rules()["A06"]
    with pytest.raises(InvalidInput):
        services.rule_configure(
            actor=world.admin, rule=rule, enabled=True, parameters={"unknown": 1}
        )
    with pytest.raises(InvalidInput):
        services.rule_configure(
            actor=world.admin, rule=rule, enabled=True, parameters={"min_seconds": -1}
        )


def test_young_events_wait_for_late_commits(world, filed_case, monkeypatch):
    """A scan leaves events younger than FEED_SETTLE for the next one, so an event whose
    transaction commits after a later one was read is not skipped."""
    monkeypatch.setattr(services, "FEED_SETTLE", dt.timedelta(seconds=30))
    case = cases.case_refuse(
        actor=world.clerk, case=filed_case(), reasons="不符合", basis="规定"
    )
    monkeypatch.setattr(
        services.clock, "now", lambda: case.updated_at + dt.timedelta(seconds=5)
    )
    assert services.anomalies_scan() == 0
    monkeypatch.setattr(
        services.clock, "now", lambda: case.updated_at + dt.timedelta(minutes=1)
    )
    assert services.anomalies_scan() == 1
