"""Yellow and red signals for cases and steps, the events they leave, who is told, escalation."""

from django.utils import timezone

from onewindow.cases import services as cases
from onewindow.core import workdays
from onewindow.core.models import AuditEntry, Notification
from onewindow.supervision import services
from onewindow.supervision.choices import (
    Colour,
    ItemStatus,
    RuleCode,
    SignalKind,
    WarningType,
)
from onewindow.supervision.models import Signal, SupervisionEvent, SupervisionItem


def _day(n: int):
    """The n-th working day after today (0: today if it is a working day)."""
    return workdays.add_working_days(timezone.localdate(), n).date


def _colours(case):
    return {signal.kind: signal.colour for signal in Signal.objects.filter(case=case)}


def test_an_accepted_case_and_its_step_start_green_and_leave_no_event(accepted_case):
    case = accepted_case()
    assert services.warnings_refresh() == 0
    assert _colours(case) == {
        SignalKind.CASE: Colour.GREEN,
        SignalKind.STEP: Colour.GREEN,
    }
    assert not SupervisionEvent.objects.exists()


def test_a_case_turns_yellow_near_its_promise_and_red_after_it(
    accepted_case, people, move_to
):
    case = accepted_case()
    assert case.promised_due == _day(8)
    services.warnings_refresh()
    # Promise of 8 working days: 20 % is 1.6, so two working days left is yellow.
    move_to(_day(6))
    services.warnings_refresh()
    assert _colours(case)[SignalKind.CASE] == Colour.YELLOW
    yellow = SupervisionEvent.objects.get(case=case, step__isnull=True)
    assert (yellow.rule.code, yellow.warning_type, yellow.department_id) == (
        RuleCode.CASE_YELLOW,
        WarningType.YELLOW,
        case.department_id,
    )
    assert yellow.number.startswith("JC") and case.number in yellow.description
    move_to(_day(9))
    assert services.warnings_refresh() >= 1
    assert _colours(case)[SignalKind.CASE] == Colour.RED
    red = SupervisionEvent.objects.filter(case=case, step__isnull=True).first()
    assert (red.rule.code, red.warning_type) == (RuleCode.CASE_RED, WarningType.RED)
    # The department's head hears of it; running the sweep again changes nothing.
    assert Notification.objects.filter(
        recipient=people.head, subject__contains="预警"
    ).exists()
    count = SupervisionEvent.objects.count()
    assert services.warnings_refresh() == 0
    assert SupervisionEvent.objects.count() == count
    assert AuditEntry.objects.filter(action="supervision.signals.refresh").exists()


def test_a_step_turns_red_while_the_case_is_not(world, accepted_case, move_to):
    from onewindow.supervision.services import item_setting_save

    case = accepted_case()
    item_setting_save(
        actor=world.admin,
        item=case.item,
        near_days=1,
        near_percent=20,
        separate_accept_and_decide=False,
    )
    move_to(
        _day(6)
    )  # the review step was due on the 5th working day; the case on the 8th
    services.warnings_refresh()
    assert _colours(case) == {
        SignalKind.CASE: Colour.GREEN,
        SignalKind.STEP: Colour.RED,
    }
    event = SupervisionEvent.objects.get(case=case)
    assert (event.rule.code, event.step.key) == (RuleCode.STEP_RED, "review")


def test_the_responsible_reviewer_is_told_of_a_step_near_its_deadline(
    world, accepted_case, reviewer, move_to
):
    case = accepted_case()
    cases.step_claim(actor=reviewer, case=case)
    move_to(_day(4))
    services.warnings_refresh()
    signal = Signal.objects.get(case=case, kind=SignalKind.STEP)
    assert (signal.colour, signal.responsible) == (Colour.YELLOW, reviewer)
    assert Notification.objects.filter(
        recipient=reviewer, body__contains=case.number
    ).exists()


def test_a_case_not_yet_accepted_is_watched_against_the_acceptance_deadline(
    filed_case, move_to
):
    case = filed_case()
    move_to(_day(6))
    services.warnings_refresh()
    assert _colours(case) == {SignalKind.CASE: Colour.RED}


def test_red_cases_are_escalated_after_the_configured_working_days_once(
    accepted_case, people, move_to
):
    case = accepted_case()
    move_to(_day(10))  # two working days overdue: not yet
    services.warnings_refresh()
    assert not SupervisionItem.objects.exists()
    move_to(_day(11))
    services.warnings_refresh()
    item = SupervisionItem.objects.get(case=case)
    assert (item.rule.code, item.status) == (RuleCode.ESCALATION, ItemStatus.OPEN)
    assert (
        SupervisionEvent.objects.filter(
            case=case, warning_type=WarningType.ESCALATION
        ).count()
        == 1
    )
    assert Notification.objects.filter(
        recipient=people.supervisor, subject="红牌办件升级督办"
    ).exists()
    assert Notification.objects.filter(
        recipient=people.province_supervisor, subject="红牌办件升级督办"
    ).exists()
    assert not Notification.objects.filter(recipient=people.outsider).exists()
    move_to(_day(12))
    services.warnings_refresh()
    assert SupervisionItem.objects.filter(case=case).count() == 1


def test_red_cases_escalated_together_leave_one_message_per_person_listing_them(
    accepted_case, people, move_to
):
    first, second = accepted_case(), accepted_case()
    move_to(_day(11))
    services.warnings_refresh()

    assert SupervisionItem.objects.filter(rule__code=RuleCode.ESCALATION).count() == 2
    message = Notification.objects.get(recipient=people.supervisor, subject="红牌办件升级督办")
    assert first.number in message.body and second.number in message.body
    entry = AuditEntry.objects.get(action="supervision.signals.escalate")
    assert first.number in entry.changes and second.number in entry.changes
    services.warnings_refresh()
    assert SupervisionItem.objects.filter(rule__code=RuleCode.ESCALATION).count() == 2


def test_the_escalation_threshold_is_configurable(world, accepted_case, move_to):

    services.rule_configure(
        actor=world.admin,
        rule=services.rules()["W05"],
        enabled=True,
        parameters={"after_days": 1},
    )
    case = accepted_case()
    move_to(_day(9))
    services.warnings_refresh()
    assert SupervisionItem.objects.filter(case=case, rule__code="W05").exists()


def test_a_finished_case_leaves_the_board(delivered_case, accepted_case, move_to):
    case = accepted_case()
    services.warnings_refresh()
    assert Signal.objects.filter(case=case).exists()
    cases.case_withdraw(actor=case.applicant, case=case, reason="不再需要")
    services.warnings_refresh()
    assert not Signal.objects.filter(case=case).exists()


def test_a_special_procedure_freezes_the_colour(world, special_item, reviewer, move_to):
    """The clock is paused during a site inspection: a green case does not turn red meanwhile."""
    from tests.cases.test_lifecycle import _in_review

    case = _in_review(world, special_item)
    services.warnings_refresh()
    cases.step_claim(actor=reviewer, case=case)
    cases.case_start_special(
        actor=reviewer, case=case, name="现场勘察", reason="需核实设置地点"
    )
    move_to(_day(12))
    services.warnings_refresh()
    assert _colours(case) == {
        SignalKind.CASE: Colour.GREEN,
        SignalKind.STEP: Colour.GREEN,
    }
    assert not SupervisionEvent.objects.exists()


def test_monitoring_numbers_do_not_collide_in_a_large_sweep():
    numbers = {services._number("JC") for _ in range(200_000)}
    assert len(numbers) == 200_000 and all(len(n) == 26 for n in numbers)
