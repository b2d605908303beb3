"""Supervision items and notices (督办), denial filing reviews, spot checks, region scoping and
staff performance figures."""

import datetime as dt

import pytest
from django.utils import timezone

from onewindow.cases.models import DenialFiling
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.models import AuditEntry, Notification
from onewindow.supervision import selectors, services
from onewindow.supervision.choices import (
    DenialOutcome,
    Grade,
    ItemStatus,
    NoticeStatus,
    SampleResult,
    SpotCheckStatus,
)
from onewindow.supervision.models import SpotCheck, SupervisionItem, SupervisionNotice
from onewindow.supervision.selectors import StaffFigure, suggest_grades

TOMORROW = timezone.localdate() + dt.timedelta(days=1)


def _notice(people, world, **kwargs):
    return services.notice_issue(
        actor=people.supervisor,
        department=world.market,
        content="请于期限内办结超期办件并说明原因。",
        deadline=kwargs.pop("deadline", TOMORROW),
        **kwargs,
    )


def test_a_notice_is_issued_answered_and_closed_with_its_item(
    world, people, accepted_case
):
    case = accepted_case()
    item = services.item_open(
        actor=people.supervisor,
        department=world.market,
        subject="群众反映办理缓慢",
        description="12345 转来投诉。",
        case=case,
    )
    notice = _notice(people, world, item=item)
    assert (notice.status, notice.case_id) == (NoticeStatus.ISSUED, case.pk)
    assert SupervisionItem.objects.get(pk=item.pk).status == ItemStatus.NOTICED
    assert Notification.objects.filter(
        recipient=people.head, subject__contains=notice.number
    ).exists()
    with pytest.raises(
        PermissionDenied
    ):  # the supervisor does not answer for the department
        services.notice_answer(actor=people.supervisor, notice=notice, answer="已整改")
    answered = services.notice_answer(
        actor=people.head, notice=notice, answer="已于今日办结，并对经办人批评教育。"
    )
    assert answered.status == NoticeStatus.ANSWERED
    assert Notification.objects.filter(
        recipient=people.supervisor, subject__contains="已答复"
    ).exists()
    with pytest.raises(DomainError):
        services.notice_answer(actor=people.head, notice=notice, answer="再答一次")
    closed = services.notice_close(
        actor=people.supervisor, notice=notice, conclusion="整改到位。"
    )
    assert closed.status == NoticeStatus.CLOSED
    assert SupervisionItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED
    actions = set(
        AuditEntry.objects.filter(
            object_type="supervision.supervisionnotice"
        ).values_list("action", flat=True)
    )
    assert actions == {
        "supervision.notice.issue",
        "supervision.notice.answer",
        "supervision.notice.close",
    }


def test_a_notice_is_escalated_to_the_level_above(world, people):
    notice = _notice(people, world)
    escalated = services.notice_escalate(
        actor=people.supervisor, notice=notice, reason="逾期未答复。"
    )
    assert escalated.status == NoticeStatus.ESCALATED
    assert Notification.objects.filter(
        recipient=people.province_supervisor, subject="督办升级"
    ).exists()
    with pytest.raises(DomainError):
        services.notice_close(actor=people.supervisor, notice=notice, conclusion="好")


def test_bad_notices_are_refused_and_write_nothing(world, people):
    before = (SupervisionNotice.objects.count(), AuditEntry.objects.count())
    with pytest.raises(NotFound):
        services.notice_issue(
            actor=people.supervisor,
            department=999_999,
            content="内容",
            deadline=TOMORROW,
        )
    with pytest.raises(
        NotFound
    ):  # outside the supervisor's region: the same answer as unknown
        services.notice_issue(
            actor=people.supervisor,
            department=people.elsewhere,
            content="内容",
            deadline=TOMORROW,
        )
    with pytest.raises(InvalidInput, match="不能早于今天"):
        _notice(people, world, deadline=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(InvalidInput):
        services.notice_issue(
            actor=people.supervisor,
            department=world.market,
            content="  ",
            deadline=TOMORROW,
        )
    with pytest.raises(NotFound):
        services.notice_issue(
            actor=world.clerk,
            department=world.market,
            content="内容",
            deadline=TOMORROW,
        )
    assert (SupervisionNotice.objects.count(), AuditEntry.objects.count()) == before


def test_a_supervisor_outside_the_region_sees_nothing(
    world, people, accepted_case, move_to
):
    case = accepted_case()
    _notice(people, world)
    move_to(workdays_after(10))
    services.warnings_refresh()
    assert selectors.warning_list(people.supervisor)
    for reader in (people.outsider, world.clerk, world.citizen):
        assert selectors.warning_list(reader) == []
        assert selectors.board(reader).totals.total == 0
        assert selectors.items(reader) == []
        assert selectors.denial_filings(reader) == []
        with pytest.raises(NotFound):
            selectors.case_trail(reader, case.pk)
    assert selectors.notices(people.outsider) == []
    assert len(selectors.notices(people.head)) == 1  # the department it is addressed to
    with pytest.raises(NotFound):
        selectors.supervised_department(people.outsider, world.market.pk)


def workdays_after(n):
    from onewindow.core import workdays

    return workdays.add_working_days(timezone.localdate(), n).date


def test_the_board_counts_by_colour_and_puts_the_red_list_first(
    world, people, accepted_case, filed_case, move_to
):
    late = accepted_case()
    waiting = filed_case()
    move_to(workdays_after(6))
    services.warnings_refresh()
    board = selectors.board(people.supervisor)
    assert (board.totals.red, board.totals.yellow) == (
        1,
        1,
    )  # the unaccepted case is past its 5 days
    # The red list: the unaccepted case, and the late case's review step although the case is yellow.
    assert {(s.case_id, s.kind) for s in board.red_list} == {
        (waiting.pk, "case"),
        (late.pk, "step"),
    }
    assert board.departments[0].name == world.market.name
    listed = selectors.warning_list(people.supervisor, department=world.market)
    assert listed[0].colour == "red"
    trail = selectors.case_trail(people.supervisor, late.pk)
    assert {"submit", "accept"} <= {event.action for event in trail.timeline}
    assert any(entry.action == "cases.accept" for entry in trail.audit)


def test_a_denial_filing_is_reviewed_once(world, people, delivered_case):
    delivered_case(decision="denied")
    filing = DenialFiling.objects.get()
    assert selectors.denial_filings(people.supervisor) == [filing]
    with pytest.raises(NotFound):
        services.denial_review(
            actor=people.outsider,
            filing=filing,
            outcome=DenialOutcome.UPHELD,
            opinion="可",
        )
    with pytest.raises(InvalidInput):
        services.denial_review(
            actor=people.supervisor, filing=filing, outcome="maybe", opinion="可"
        )
    review = services.denial_review(
        actor=people.supervisor,
        filing=filing,
        outcome=DenialOutcome.QUESTIONED,
        opinion="禁设区域的认定缺少规划文件。",
    )
    assert review.item.status == ItemStatus.OPEN
    filing.refresh_from_db()
    assert (filing.reviewed_by, filing.review_opinion) == (
        people.supervisor,
        "禁设区域的认定缺少规划文件。",
    )
    assert selectors.denial_filings(people.supervisor) == []
    with pytest.raises(DomainError, match="已审查"):
        services.denial_review(
            actor=people.supervisor,
            filing=filing,
            outcome=DenialOutcome.UPHELD,
            opinion="可",
        )


def test_a_spot_check_draws_a_reproducible_sample_and_follows_up_findings(
    world, people, delivered_case
):
    for _ in range(4):
        delivered_case()
    today = timezone.localdate()
    check = services.spot_check_draw(
        actor=people.supervisor,
        department=world.market,
        period_from=today,
        period_to=today,
        sample_size=2,
        seed="2026-Q4",
    )
    again = services.spot_check_draw(
        actor=people.supervisor,
        department=world.market,
        period_from=today,
        period_to=today,
        sample_size=2,
        seed="2026-Q4",
    )
    first = list(check.samples.values_list("case_id", flat=True))
    assert first == list(again.samples.values_list("case_id", flat=True))
    assert (check.population, check.sample_size, check.seed) == (4, 2, "2026-Q4")
    keys = [entry["key"] for entry in check.checklist]
    one, two = check.samples.all()
    with pytest.raises(InvalidInput):
        services.spot_check_record(
            actor=people.supervisor, sample=one, answers={keys[0]: True}
        )
    with pytest.raises(InvalidInput, match="写明问题"):
        services.spot_check_record(
            actor=people.supervisor, sample=one, answers={k: k != keys[1] for k in keys}
        )
    failed = services.spot_check_record(
        actor=people.supervisor,
        sample=one,
        answers={k: k != keys[1] for k in keys},
        findings="超期未说明原因。",
    )
    assert (
        failed.result == SampleResult.FAILED and failed.item.case_id == failed.case_id
    )
    services.spot_check_record(
        actor=people.supervisor, sample=two, answers=dict.fromkeys(keys, True)
    )
    assert SpotCheck.objects.get(pk=check.pk).status == SpotCheckStatus.FINISHED


def test_a_spot_check_of_a_period_without_cases_is_refused(world, people):
    today = timezone.localdate()
    count = SpotCheck.objects.count()
    with pytest.raises(InvalidInput, match="没有办结的办件"):
        services.spot_check_draw(
            actor=people.supervisor,
            department=world.market,
            period_from=today - dt.timedelta(days=30),
            period_to=today,
            sample_size=5,
        )
    with pytest.raises(InvalidInput):
        services.spot_check_draw(
            actor=people.supervisor,
            department=world.market,
            period_from=today,
            period_to=today + dt.timedelta(days=3),
            sample_size=5,
        )
    with pytest.raises(NotFound):
        services.spot_check_draw(
            actor=people.outsider,
            department=world.market,
            period_from=today,
            period_to=today,
            sample_size=5,
        )
    assert SpotCheck.objects.count() == count


def test_the_excellent_grade_is_capped_at_a_fifth_of_the_staff():
    figures = [
        StaffFigure(i, f"员工{i}", "局", steps=100, on_time=100, overdue=0, findings=0)
        for i in range(11)
    ]
    suggest_grades(figures)
    assert (
        sum(1 for f in figures if f.grade == Grade.EXCELLENT) == 2
    )  # 20 % of 11, rounded down
    assert all(f.grade in (Grade.EXCELLENT, Grade.COMPETENT) for f in figures)


def test_staff_performance_counts_steps_on_time(
    world, people, delivered_case, reviewer
):
    delivered_case()
    figures = selectors.staff_performance(
        people.supervisor, year=timezone.localdate().year
    )
    mine = next(f for f in figures if f.user_id == reviewer.pk)
    assert (mine.steps, mine.on_time, mine.overdue) == (1, 1, 0)
    assert (
        selectors.staff_performance(people.outsider, year=timezone.localdate().year)
        == []
    )
    with pytest.raises(InvalidInput):
        selectors.staff_performance(
            people.supervisor, year=timezone.localdate().year + 1
        )
