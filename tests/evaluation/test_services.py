"""Ratings, one per case and per visit, the change window, invitations and the rectification of
bad reviews, against the database."""

import datetime as dt

import pytest
from django.utils import timezone

from onewindow.core import workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.models import AuditEntry, Notification
from onewindow.evaluation import selectors, services
from onewindow.evaluation.choices import FigureGrouping, Level, RectificationStatus
from onewindow.evaluation.models import Evaluation, Invitation, Rectification

pytestmark = pytest.mark.django_db


def _rate(case, people, level=Level.VERY_SATISFIED, **kwargs):
    return services.evaluation_rate_case(
        actor=people.rater, case=case, level=level, **kwargs
    )


def test_a_finished_case_is_rated_once_by_its_applicant(delivered_case, people, world):
    case = delivered_case()
    evaluation = _rate(
        case, people, Level.SATISFIED, indicators={"efficiency": 1, "guide_accuracy": 2}
    )
    assert (
        evaluation.department == world.market
        and evaluation.real_name
        and evaluation.times == 1
    )
    assert evaluation.staff_id == case.decided_by_id
    assert (
        AuditEntry.objects.filter(
            action="evaluation.rate", object_id=str(evaluation.pk)
        ).count()
        == 1
    )
    with pytest.raises(DomainError, match="不能重复评价"):
        _rate(case, people)
    assert Evaluation.objects.count() == 1
    assert not Rectification.objects.exists()


def test_only_the_applicant_rates_and_only_when_finished(
    delivered_case, filed_case, people, world
):
    with pytest.raises(NotFound):
        services.evaluation_rate_case(
            actor=people.stranger, case=delivered_case(), level=1
        )
    with pytest.raises(PermissionDenied):
        services.evaluation_rate_case(actor=world.clerk, case=filed_case(), level=1)
    with pytest.raises(DomainError, match="办结后"):
        services.evaluation_rate_case(actor=people.rater, case=filed_case(), level=1)
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"level": 6},
        {"level": "1"},
        {"level": 1, "indicators": {"speed": 1}},
        {"level": 1, "indicators": {"efficiency": 9}},
        {"level": 4, "comment": ""},
        {"level": 1, "channel": "fax"},
        {"level": 1, "comment": "长" * 1001},
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(delivered_case, people, change):
    case = delivered_case()
    with pytest.raises(InvalidInput):
        services.evaluation_rate_case(
            actor=people.rater, case=case, **{"comment": "", **change}
        )
    assert not Evaluation.objects.exists()


def test_a_rating_changes_within_the_window_only(delivered_case, people, monkeypatch):
    evaluation = _rate(delivered_case(), people, Level.BASIC)
    changed = services.evaluation_change(
        actor=people.rater, evaluation=evaluation, level=Level.SATISFIED
    )
    assert changed.level == Level.SATISFIED and changed.times == 2
    with pytest.raises(NotFound):
        services.evaluation_change(
            actor=people.stranger, evaluation=evaluation, level=1
        )
    later = timezone.now() + dt.timedelta(days=services.change_days(), minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with pytest.raises(DomainError, match="天内修改"):
        services.evaluation_change(actor=people.rater, evaluation=evaluation, level=1)


def test_changing_to_a_bad_level_opens_a_rectification(delivered_case, people):
    evaluation = _rate(delivered_case(), people, Level.BASIC)
    services.evaluation_change(
        actor=people.rater,
        evaluation=evaluation,
        level=Level.DISSATISFIED,
        comment="等太久",
    )
    assert Rectification.objects.get().evaluation == evaluation


def test_a_bad_review_opens_an_item_with_handler_and_working_day_deadline(
    delivered_case, people, world
):
    case = delivered_case()
    evaluation = _rate(
        case, people, Level.VERY_DISSATISFIED, comment="窗口态度差，多跑了一次"
    )
    item = Rectification.objects.get(evaluation=evaluation)
    assert item.department == world.market and item.handler_id == case.decided_by_id
    assert item.status == RectificationStatus.OPEN and item.call_back_required
    expected = workdays.add_working_days(
        evaluation.rated_at, services.fix_days(), region=world.market.region
    ).date
    assert item.fix_due == expected
    assert Notification.objects.filter(
        recipient=item.handler, kind="evaluation.rectification"
    ).exists()


def test_the_fix_deadline_skips_a_holiday(
    delivered_case, people, monkeypatch, settings
):
    """A bad review on 2026-09-30 (Wednesday) with 5 working days: National Day runs 1–7 October
    2026 and Saturday 10 October is a make-up working day, so the fix is due 13 October."""
    settings.EVALUATION_FIX_DAYS = 5
    case = delivered_case()
    moment = dt.datetime(2026, 9, 30, 10, 0, tzinfo=workdays.SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    _rate(case, people, Level.DISSATISFIED, comment="材料退回了两次")
    item = Rectification.objects.get()
    assert item.fix_due == workdays.add_working_days(moment, 5).date
    assert item.fix_due > dt.date(2026, 10, 7)


def test_real_name_bad_review_is_called_back_then_fixed(delivered_case, people):
    evaluation = _rate(
        delivered_case(), people, Level.VERY_DISSATISFIED, comment="办理超时"
    )
    item = Rectification.objects.get(evaluation=evaluation)
    handler = item.handler
    with pytest.raises(DomainError, match="须先回访"):
        services.rectification_fix(
            actor=handler, rectification=item, outcome="fixed", result="已加快"
        )
    services.rectification_call_back(
        actor=handler, rectification=item, reached=False, note="电话无人接听"
    )
    item.refresh_from_db()
    assert item.status == RectificationStatus.OPEN
    services.rectification_call_back(
        actor=handler, rectification=item, reached=True, note="已致歉，了解情况"
    )
    item.refresh_from_db()
    assert (
        item.status == RectificationStatus.CALLED_BACK and item.call_backs.count() == 2
    )
    fixed = services.rectification_fix(
        actor=handler, rectification=item, outcome="fixed", result="调整审查分工"
    )
    assert fixed.status == RectificationStatus.CLOSED and not fixed.closed_late
    with pytest.raises(DomainError):
        services.rectification_fix(
            actor=handler, rectification=item, outcome="fixed", result="再次"
        )


def test_a_fix_after_the_deadline_is_marked_late(delivered_case, people, monkeypatch):
    evaluation = _rate(delivered_case(), people, Level.DISSATISFIED, comment="慢")
    item = Rectification.objects.get(evaluation=evaluation)
    services.rectification_call_back(
        actor=item.handler, rectification=item, reached=True, note="已联系"
    )
    late = dt.datetime.combine(
        item.fix_due + dt.timedelta(days=1), dt.time(10), tzinfo=workdays.SHANGHAI
    )
    monkeypatch.setattr(timezone, "now", lambda: late)
    assert services.rectification_fix(
        actor=item.handler,
        rectification=item,
        outcome="explained",
        result="无法律依据，已解释",
    ).closed_late


def test_outsiders_cannot_work_an_item(delivered_case, people):
    evaluation = _rate(delivered_case(), people, Level.DISSATISFIED, comment="慢")
    item = Rectification.objects.get(evaluation=evaluation)
    for outsider in (people.outsider, people.stranger, people.supervisor):
        with pytest.raises(PermissionDenied):
            services.rectification_call_back(
                actor=outsider, rectification=item, reached=True, note="x"
            )
    with pytest.raises(NotFound):
        selectors.rectification_for(people.outsider, item.pk)
    assert selectors.rectification_for(people.supervisor, item.pk) == item
    with pytest.raises(NotFound):
        selectors.rectification_for(people.other_supervisor, item.pk)


def test_an_appeal_is_decided_by_a_supervisor(delivered_case, people):
    evaluation = _rate(
        delivered_case(), people, Level.VERY_DISSATISFIED, comment="故意打差评"
    )
    item = Rectification.objects.get(evaluation=evaluation)
    services.rectification_appeal(
        actor=people.manager, rectification=item, kind="malicious", reason="与办理无关"
    )
    with pytest.raises(PermissionDenied):
        services.rectification_decide_appeal(
            actor=people.manager, rectification=item, upheld=True, opinion="自批"
        )
    with pytest.raises(PermissionDenied):
        services.rectification_decide_appeal(
            actor=people.other_supervisor,
            rectification=item,
            upheld=True,
            opinion="越权",
        )
    rejected = services.rectification_decide_appeal(
        actor=people.supervisor, rectification=item, upheld=False, opinion="理由不足"
    )
    assert (
        rejected.status == RectificationStatus.OPEN and rejected.appeal_upheld is False
    )
    services.rectification_appeal(
        actor=people.manager, rectification=item, kind="mistaken", reason="评错了事项"
    )
    upheld = services.rectification_decide_appeal(
        actor=people.supervisor, rectification=item, upheld=True, opinion="经核实为误评"
    )
    assert upheld.status == RectificationStatus.VOIDED
    evaluation.refresh_from_db()
    assert not evaluation.counted
    today = timezone.localdate()
    assert (
        selectors.figures(
            people.supervisor,
            by=FigureGrouping.DEPARTMENT,
            date_from=today,
            date_to=today,
        )
        == []
    )


def test_the_manager_names_a_handler_of_the_department(
    delivered_case, people, world, reviewer
):
    evaluation = _rate(delivered_case(), people, Level.DISSATISFIED, comment="慢")
    item = Rectification.objects.get(evaluation=evaluation)
    with pytest.raises(InvalidInput):
        services.rectification_assign(
            actor=people.manager, rectification=item, handler=people.outsider
        )
    assert (
        services.rectification_assign(
            actor=people.manager, rectification=item, handler=reviewer
        ).handler
        == reviewer
    )
    with pytest.raises(PermissionDenied):
        services.rectification_assign(
            actor=reviewer, rectification=item, handler=reviewer
        )


def test_unrated_finished_cases_are_invited_once_after_three_days(
    delivered_case, people, monkeypatch
):
    case = delivered_case()
    assert services.evaluation_sweep() == 0
    later = timezone.now() + dt.timedelta(days=3, minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.evaluation_sweep() == 1
    assert Invitation.objects.get().case == case
    invitation = Notification.objects.get(kind="evaluation.invitation")
    assert (
        case.number in invitation.subject
        and f"/evaluation/cases/{case.pk}/" in invitation.body
    )
    assert services.evaluation_sweep() == 0


def test_a_rated_case_is_not_invited(delivered_case, people, monkeypatch):
    _rate(delivered_case(), people)
    later = timezone.now() + dt.timedelta(days=4)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.evaluation_sweep() == 0


def test_overdue_items_remind_their_handler_once(delivered_case, people, monkeypatch):
    _rate(delivered_case(), people, Level.DISSATISFIED, comment="慢")
    item = Rectification.objects.get()
    later = dt.datetime.combine(
        item.fix_due + dt.timedelta(days=2), dt.time(10), tzinfo=workdays.SHANGHAI
    )
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.evaluation_sweep() >= 1
    assert services.evaluation_sweep() == 0
    item.refresh_from_db()
    assert item.overdue_notified_at is not None


# --- visits ------------------------------------------------------------------------------------------------


def test_a_visit_is_rated_once_with_the_ticket_code_anonymously(visit, people, world):
    ticket = visit()
    token = services.visit_token(ticket)
    evaluation = services.evaluation_rate_visit(
        actor=None,
        ticket=ticket,
        level=Level.VERY_SATISFIED,
        indicators={"attitude": 1},
        token=token,
    )
    assert (
        evaluation.rater is None
        and not evaluation.real_name
        and evaluation.staff == world.clerk
    )
    assert evaluation.window == ticket.window
    with pytest.raises(DomainError, match="不能重复评价"):
        services.evaluation_rate_visit(actor=None, ticket=ticket, level=1, token=token)


def test_a_visit_without_the_code_is_not_found(visit, people):
    ticket = visit()
    with pytest.raises(NotFound):
        services.evaluation_rate_visit(actor=people.stranger, ticket=ticket, level=1)
    with pytest.raises(NotFound):
        services.evaluation_rate_visit(
            actor=None, ticket=ticket, level=1, token="forged"
        )


def test_an_anonymous_bad_visit_review_is_fixed_without_call_back(visit, people, world):
    ticket = visit()
    services.evaluation_rate_visit(
        actor=None,
        ticket=ticket,
        level=Level.DISSATISFIED,
        comment="等候太久",
        token=services.visit_token(ticket),
    )
    item = Rectification.objects.get()
    assert item.handler == world.clerk and not item.call_back_required
    with pytest.raises(DomainError, match="匿名"):
        services.rectification_call_back(
            actor=world.clerk, rectification=item, reached=True, note="x"
        )
    assert (
        services.rectification_fix(
            actor=world.clerk, rectification=item, outcome="fixed", result="增开窗口"
        ).status
        == RectificationStatus.CLOSED
    )


# --- figures -------------------------------------------------------------------------------------------------


def test_figures_per_staff_window_department_and_item(
    delivered_case, visit, people, world
):
    _rate(delivered_case(), people, Level.VERY_SATISFIED)
    ticket = visit()
    services.evaluation_rate_visit(
        actor=None,
        ticket=ticket,
        level=Level.DISSATISFIED,
        comment="慢",
        token=services.visit_token(ticket),
    )
    today = timezone.localdate()
    department = selectors.figures(
        world.editor, by=FigureGrouping.DEPARTMENT, date_from=today, date_to=today
    )
    assert [(row.name, row.total, row.bad, row.satisfaction) for row in department] == [
        (world.market.name, 2, 1, 50.0)
    ]
    window = selectors.figures(
        world.editor, by=FigureGrouping.WINDOW, date_from=today, date_to=today
    )
    assert {row.key: row.total for row in window} == {None: 1, ticket.window_id: 1}
    staff = selectors.figures(
        world.editor, by=FigureGrouping.STAFF, date_from=today, date_to=today
    )
    assert sum(row.total for row in staff) == 2
    assert (
        selectors.figures(
            people.outsider, by=FigureGrouping.ITEM, date_from=today, date_to=today
        )
        == []
    )
    public = selectors.public_figures(
        by=FigureGrouping.ITEM, date_from=today, date_to=today
    )
    assert public[0].total == 2
    with pytest.raises(InvalidInput):
        selectors.public_figures(
            by=FigureGrouping.STAFF, date_from=today, date_to=today
        )
    with pytest.raises(InvalidInput):
        selectors.figures(
            world.editor,
            by="department",
            date_from=today,
            date_to=today - dt.timedelta(days=1),
        )
