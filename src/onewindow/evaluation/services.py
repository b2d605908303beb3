"""Every change to evaluations and their rectification: one keyword-only function per action, one
transaction, one audit entry.

A rating is given once per case (一事一评, by the applicant, once the case is finished) and once
per visit to a window (一次一评, by the visitor: signed in, or holding the code printed on the
ticket and shown on the hall tablet). It may be changed within `EVALUATION_CHANGE_DAYS` days.
A bad review (不满意/非常不满意) opens a rectification item for the responsible department:

    open ──call_back (reached)──▶ called_back ──fix──▶ closed
      │                              │
      └──────────appeal──────────────┴──▶ appealed ──uphold──▶ voided  (the rating leaves the figures)
                                              └──reject──▶ back to open / called_back

Real-name bad reviews must be called back before the item closes (100% 回访); the fix is due
`EVALUATION_FIX_DAYS` working days after the review, on the department region's calendar.
"""

import datetime as dt
from functools import partial
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.permissions import (
    has_role,
    is_platform_admin,
    staff_departments,
)
from onewindow.cases.choices import CaseStatus
from onewindow.cases.models import Case
from onewindow.core import audit, workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.notifications import notify
from onewindow.core.periodic import sweep
from onewindow.core.text import clean_text
from onewindow.evaluation.choices import (
    BAD_LEVELS,
    OFFLINE_INDICATORS,
    ONLINE_INDICATORS,
    AppealKind,
    EvaluationChannel,
    Level,
    RectificationOutcome,
    RectificationStatus,
    Subject,
)
from onewindow.evaluation.models import CallBack, Evaluation, Invitation, Rectification
from onewindow.hall.choices import TicketStatus
from onewindow.hall.models import QueueTicket

# Finished cases the applicant may rate: decided and done, or refused at acceptance.
RATEABLE_CASE_STATUSES = (
    CaseStatus.COMPLETED,
    CaseStatus.DELIVERED,
    CaseStatus.ARCHIVED,
    CaseStatus.NOT_ACCEPTED,
)
MAX_COMMENT = 1000
MAX_TEXT = 2000
VISIT_TOKEN_SALT = "onewindow.evaluation.visit"
SWEEP_BATCH = 500
CASE_CHANNELS = frozenset(
    {
        EvaluationChannel.PC,
        EvaluationChannel.MOBILE,
        EvaluationChannel.SMS,
        EvaluationChannel.PHONE,
    }
)
VISIT_CHANNELS = frozenset(
    {
        EvaluationChannel.QR_CODE,
        EvaluationChannel.TABLET,
        EvaluationChannel.OTHER_TERMINAL,
        EvaluationChannel.PC,
        EvaluationChannel.MOBILE,
    }
)


def change_days() -> int:
    """Days a rating may be changed after it was given."""
    return int(getattr(settings, "EVALUATION_CHANGE_DAYS", 7))


def fix_days() -> int:
    """Working days a department has to fix a bad review (local schemes: 5–15)."""
    return int(getattr(settings, "EVALUATION_FIX_DAYS", 10))


def invite_after_days() -> int:
    """Days a finished case may stay unrated before the applicant is invited to rate it."""
    return int(getattr(settings, "EVALUATION_INVITE_AFTER_DAYS", 3))


def visit_rating_days() -> int:
    """Days after a visit its ticket's code can still be used to rate it."""
    return int(getattr(settings, "EVALUATION_VISIT_DAYS", 7))


# --- who may act ----------------------------------------------------------------------------------


def _is_user(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
    )


def is_department_manager(actor: Any, rectification: Rectification) -> bool:
    return _is_user(actor) and (
        is_platform_admin(actor)
        or has_role(actor, Role.DEPARTMENT_ADMIN, department=rectification.department)
    )


def _is_handler(actor: Any, rectification: Rectification) -> bool:
    """The named handler, or the department's administrator (who names and replaces handlers)."""
    return _is_user(actor) and (
        rectification.handler_id == actor.pk
        or is_department_manager(actor, rectification)
    )


def is_supervisor_of(actor: Any, rectification: Rectification) -> bool:
    return _is_user(actor) and (
        is_platform_admin(actor)
        or has_role(actor, Role.SUPERVISOR, department=rectification.department)
    )


R = RectificationStatus
RECTIFICATION_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该整改事项"),
    state_labels=dict(RectificationStatus.choices),
    transitions=[
        Transition(
            "assign",
            frozenset({R.OPEN, R.CALLED_BACK}),
            None,
            gettext_lazy("指定整改责任人"),
            is_department_manager,
        ),
        Transition(
            "call_back",
            frozenset({R.OPEN, R.CALLED_BACK}),
            None,
            gettext_lazy("登记回访"),
            _is_handler,
        ),
        Transition(
            "fix",
            frozenset({R.OPEN, R.CALLED_BACK}),
            R.CLOSED,
            gettext_lazy("办结整改"),
            _is_handler,
        ),
        Transition(
            "appeal",
            frozenset({R.OPEN, R.CALLED_BACK}),
            R.APPEALED,
            gettext_lazy("提出申诉"),
            _is_handler,
        ),
        Transition(
            "uphold",
            frozenset({R.APPEALED}),
            R.VOIDED,
            gettext_lazy("认定申诉成立"),
            is_supervisor_of,
        ),
        Transition(
            "reject",
            frozenset({R.APPEALED}),
            None,
            gettext_lazy("驳回申诉"),
            is_supervisor_of,
        ),
    ],
)


# --- input ------------------------------------------------------------------------------------------


_text = partial(clean_text, max_length=MAX_TEXT)


def _level(value: Any, field: str = "level") -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value not in Level.values
    ):
        raise InvalidInput(
            _("满意度应为 1（非常满意）到 5（非常不满意）之一。"), field=field
        )
    return int(value)


def _indicators(value: Any, subject: str) -> dict[str, int]:
    known = ONLINE_INDICATORS if subject == Subject.CASE else OFFLINE_INDICATORS
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(_("分项评价格式不对。"), field="indicators")
    unknown = [key for key in value if key not in known]
    if unknown:
        raise InvalidInput(
            _("没有这个评价指标：%(names)s。")
            % {"names": "、".join(map(str, unknown))},
            field="indicators",
        )
    return {key: _level(level, "indicators") for key, level in value.items()}


def _comment(value: Any, level: int) -> str:
    # A bad review says what went wrong, so the department knows what to fix.
    return _text(
        value,
        field="comment",
        max_length=MAX_COMMENT,
        required=level in BAD_LEVELS,
        message=_("选择“不满意”或“非常不满意”时，请写明原因。"),
    )


def _channel(value: Any, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise InvalidInput(_("评价渠道无效。"), field="channel")
    return value


# --- visit codes ------------------------------------------------------------------------------------


def visit_token(ticket: QueueTicket) -> str:
    """The code printed as a QR code on the ticket and shown on the window's tablet: whoever
    holds it may rate that one visit."""
    return signing.dumps(ticket.pk, salt=VISIT_TOKEN_SALT, compress=True)


def visit_rating_url(ticket: QueueTicket, *, base_url: str) -> str:
    """Where the QR code on the ticket leads: the rating page of that one visit, under
    `base_url` ("https://host")."""
    return f"{base_url}{reverse('evaluation:rate_visit', args=[visit_token(ticket)])}"


def ticket_for_token(token: Any) -> QueueTicket:
    try:
        pk = signing.loads(
            token if isinstance(token, str) else "",
            salt=VISIT_TOKEN_SALT,
            max_age=dt.timedelta(days=visit_rating_days()),
        )
    except signing.BadSignature:
        raise NotFound(_("评价码无效或已过期。")) from None
    ticket = (
        QueueTicket.objects.select_related("department__region", "item", "window")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise NotFound(_("评价码无效或已过期。"))
    return ticket


# --- rating -----------------------------------------------------------------------------------------


def _facts(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "subject": evaluation.subject,
        "case": evaluation.case_id,
        "ticket": evaluation.ticket_id,
        "level": evaluation.level,
        "indicators": evaluation.indicators,
        "channel": evaluation.channel,
        "times": evaluation.times,
        "real_name": evaluation.real_name,
    }


def _case_to_rate(actor: Any, case: Case) -> Case:
    if not _is_user(actor) or actor.kind == AccountKind.STAFF:
        raise PermissionDenied(_("请使用申请人的账户登录后评价。"))
    found = (
        Case.objects.select_related("department__region", "item", "region")
        .filter(pk=getattr(case, "pk", None), applicant=actor)
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该办件。"))
    if found.status not in RATEABLE_CASE_STATUSES:
        raise DomainError(_("办件办结后才能评价。"))
    return found


def _open_rectification(evaluation: Evaluation, now: dt.datetime) -> Rectification:
    due = workdays.add_working_days(
        now, fix_days(), region=evaluation.department.region
    )
    handler = evaluation.staff if evaluation.staff_id else None
    rectification = Rectification.objects.create(
        evaluation=evaluation,
        department=evaluation.department,
        handler=handler,
        fix_due=due.date,
        due_confirmed=due.confirmed,
        call_back_required=evaluation.real_name,
    )
    if handler is not None:
        notify(
            recipient=handler,
            subject=_("收到差评，请回访整改"),
            body=_("%(item)s收到一条“%(level)s”评价，请在 %(due)s 前完成回访和整改。")
            % {
                "item": evaluation.item.name,
                "level": evaluation.get_level_display(),
                "due": due.date,
            },
            channels=("inbox",),
            kind="evaluation.rectification",
        )
    return rectification


def _save_new(evaluation: Evaluation) -> Evaluation:
    try:
        with transaction.atomic():
            evaluation.save()
    except IntegrityError:
        raise DomainError(
            _("已评价过，不能重复评价；可在评价后 %(n)s 天内修改。")
            % {"n": change_days()}
        ) from None
    return evaluation


@transaction.atomic
def evaluation_rate_case(
    *,
    actor: Any,
    case: Case,
    level: int,
    indicators: dict | None = None,
    comment: str = "",
    channel: str = EvaluationChannel.PC,
) -> Evaluation:
    """一事一评: the applicant rates a finished case once. A bad review opens a rectification item."""
    found = _case_to_rate(actor, case)
    level = _level(level)
    now = timezone.now()
    evaluation = _save_new(
        Evaluation(
            subject=Subject.CASE,
            case=found,
            rater=actor,
            real_name=bool(actor.real_name_verified),
            department=found.department,
            region=found.region,
            item=found.item,
            staff_id=found.decided_by_id or found.accepted_by_id,
            channel=_channel(channel, CASE_CHANNELS),
            level=level,
            indicators=_indicators(indicators, Subject.CASE),
            comment=_comment(comment, level),
            rated_at=now,
            changeable_until=now + dt.timedelta(days=change_days()),
        )
    )
    if evaluation.is_bad:
        _open_rectification(evaluation, now)
    audit.record(
        actor=actor,
        action="evaluation.rate",
        target=evaluation,
        after=_facts(evaluation),
    )
    return evaluation


def _visit_rater(actor: Any, ticket: QueueTicket, token: str) -> Any:
    """Who rates the visit: the signed-in person it was for, or a holder of its code (None when
    not signed in as a citizen: an anonymous rating)."""
    own = _is_user(actor) and actor.kind != AccountKind.STAFF
    if own and (
        (ticket.appointment_id and ticket.appointment.applicant_id == actor.pk)
        or (ticket.case_id and ticket.case.applicant_id == actor.pk)
    ):
        return actor
    if token:
        if ticket_for_token(token).pk != ticket.pk:
            raise NotFound(_("评价码无效或已过期。"))
        return actor if own else None
    raise NotFound(_("没有找到该次服务。"))


@transaction.atomic
def evaluation_rate_visit(
    *,
    actor: Any,
    ticket: QueueTicket,
    level: int,
    indicators: dict | None = None,
    comment: str = "",
    channel: str = EvaluationChannel.QR_CODE,
    token: str = "",
) -> Evaluation:
    """一次一评: a finished visit to a window is rated once, by the person served or a holder of
    the ticket's code."""
    found = (
        QueueTicket.objects.select_related(
            "department__region", "item", "window", "appointment", "case"
        )
        .filter(pk=getattr(ticket, "pk", None))
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该次服务。"))
    rater = _visit_rater(actor, found, token)
    if found.status != TicketStatus.DONE:
        raise DomainError(_("窗口办理结束后才能评价本次服务。"))
    level = _level(level)
    now = timezone.now()
    evaluation = _save_new(
        Evaluation(
            subject=Subject.VISIT,
            ticket=found,
            rater=rater,
            real_name=bool(rater and rater.real_name_verified),
            department=found.department,
            region=found.department.region,
            item=found.item,
            staff=found.clerk,
            window=found.window,
            channel=_channel(channel, VISIT_CHANNELS),
            level=level,
            indicators=_indicators(indicators, Subject.VISIT),
            comment=_comment(comment, level),
            rated_at=now,
            changeable_until=now + dt.timedelta(days=change_days()),
        )
    )
    if evaluation.is_bad:
        _open_rectification(evaluation, now)
    audit.record(
        actor=actor,
        action="evaluation.rate",
        target=evaluation,
        after=_facts(evaluation),
    )
    return evaluation


@transaction.atomic
def evaluation_change(
    *,
    actor: Any,
    evaluation: Evaluation,
    level: int,
    indicators: dict | None = None,
    comment: str = "",
) -> Evaluation:
    """The rater changes their rating within the change window. A change to a bad level opens a
    rectification item if there is none; an item already opened stays open (the department still
    calls back)."""
    locked = (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("department__region", "item")
        .filter(pk=getattr(evaluation, "pk", None))
        .first()
    )
    if locked is None or not _is_user(actor) or locked.rater_id != actor.pk:
        raise NotFound(_("没有找到该评价。"))
    now = timezone.now()
    if now > locked.changeable_until:
        raise DomainError(_("评价只能在 %(n)s 天内修改。") % {"n": change_days()})
    if not locked.counted:
        raise DomainError(_("该评价经申诉复核已不计入统计，不能修改。"))
    before = _facts(locked)
    level = _level(level)
    locked.level = level
    locked.indicators = _indicators(indicators, locked.subject)
    locked.comment = _comment(comment, level)
    locked.times += 1
    locked.save(update_fields=["level", "indicators", "comment", "times", "updated_at"])
    if locked.is_bad and not Rectification.objects.filter(evaluation=locked).exists():
        _open_rectification(locked, now)
    audit.record(
        actor=actor,
        action="evaluation.change",
        target=locked,
        before=before,
        after=_facts(locked),
    )
    return locked


# --- invitations --------------------------------------------------------------------------------------


def cases_to_invite(now: dt.datetime) -> QuerySet[Case]:
    """Finished cases unrated and uninvited `invite_after_days` after completion (a refused
    case has no completion time: its last change counts)."""
    cutoff = now - dt.timedelta(days=invite_after_days())
    finished_before = Q(completed_at__lte=cutoff) | Q(
        completed_at__isnull=True, updated_at__lte=cutoff
    )
    return (
        Case.objects.filter(finished_before, status__in=RATEABLE_CASE_STATUSES)
        .exclude(pk__in=Evaluation.objects.filter(case__isnull=False).values("case_id"))
        .exclude(pk__in=Invitation.objects.values("case_id"))
    )


@transaction.atomic
def evaluation_invite(*, case: Case) -> bool:
    """Invite the applicant of an unrated finished case to rate it (SMS with the link, and the
    inbox); False when the case was already invited (another worker got there first)."""
    try:
        with transaction.atomic():
            Invitation.objects.create(case=case, sent_at=timezone.now())
    except IntegrityError:
        return False
    path = reverse("evaluation:rate_case", args=[case.pk])
    link = f"{public_base_url()}{path}?channel={EvaluationChannel.SMS}"
    channels = ("inbox", "sms") if case.applicant.phone else ("inbox",)
    notify(
        recipient=case.applicant,
        subject=_("请评价办件 %(number)s") % {"number": case.number},
        body=_("您的申请 %(number)s（%(item)s）已办结，欢迎评价我们的服务：%(link)s")
        % {"number": case.number, "item": case.item.name, "link": link},
        channels=channels,
        kind="evaluation.invitation",
    )
    audit.record(
        actor=None,
        action="evaluation.invite",
        target=case,
        after={"number": case.number},
    )
    return True


def public_base_url() -> str:
    return (getattr(settings, "ONEWINDOW_PUBLIC_URL", "") or "").rstrip("/")


@sweep(every_seconds=3600)
def evaluation_sweep() -> int:
    """Invite applicants of finished cases unrated for three days; remind handlers of overdue
    rectification items once."""
    now = timezone.now()
    handled = 0
    for case in (
        cases_to_invite(now)
        .select_related("applicant", "item")
        .order_by("pk")[:SWEEP_BATCH]
    ):
        handled += evaluation_invite(case=case)
    today = timezone.localdate()
    overdue = Rectification.objects.filter(
        status__in=(R.OPEN, R.CALLED_BACK),
        fix_due__lt=today,
        overdue_notified_at__isnull=True,
    )
    for rectification in overdue.select_related("handler", "evaluation__item").order_by(
        "pk"
    )[:SWEEP_BATCH]:
        handled += _remind_overdue(rectification)
    return handled


@transaction.atomic
def _remind_overdue(rectification: Rectification) -> int:
    # Conditional update: two workers running the sweep remind once.
    if not Rectification.objects.filter(
        pk=rectification.pk, overdue_notified_at__isnull=True
    ).update(overdue_notified_at=timezone.now()):
        return 0
    audit.record(
        actor=None,
        action="evaluation.rectification.overdue",
        target=rectification,
        after={"fix_due": str(rectification.fix_due)},
    )
    if rectification.handler_id:
        notify(
            recipient=rectification.handler,
            subject=_("差评整改已逾期"),
            body=_("%(item)s的差评整改期限为 %(due)s，已逾期，请尽快办结。")
            % {
                "item": rectification.evaluation.item.name,
                "due": rectification.fix_due,
            },
            channels=("inbox",),
            kind="evaluation.rectification",
        )
    return 1


# --- rectification -------------------------------------------------------------------------------------


def _lock(rectification: Rectification) -> Rectification:
    found = (
        Rectification.objects.select_for_update(of=("self",))
        .select_related(
            "department__region", "evaluation__item", "evaluation__rater", "handler"
        )
        .filter(pk=getattr(rectification, "pk", None))
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该整改事项。"))
    return found


def _act(
    action: str, rectification: Rectification, actor: Any
) -> tuple[Rectification, Transition]:
    locked = _lock(rectification)
    return locked, RECTIFICATION_LIFECYCLE.check(
        action, state=locked.status, actor=actor, obj=locked
    )


def _record(
    actor: Any, action: str, rectification: Rectification, before: str, **facts: Any
) -> None:
    audit.record(
        actor=actor,
        action=f"evaluation.rectification.{action}",
        target=rectification,
        before={"status": before},
        after={"status": rectification.status, **facts},
    )


@transaction.atomic
def rectification_assign(
    *, actor: Any, rectification: Rectification, handler: Any
) -> Rectification:
    """The department administrator names (or replaces) the handler: staff of the department."""
    locked, _transition = _act("assign", rectification, actor)
    if (
        not _is_user(handler)
        or not staff_departments(handler).filter(pk=locked.department_id).exists()
    ):
        raise InvalidInput(_("整改责任人须为责任部门的工作人员。"), field="handler")
    before = locked.status
    locked.handler = handler
    locked.save(update_fields=["handler", "updated_at"])
    notify(
        recipient=handler,
        subject=_("请办理差评整改"),
        body=_("您被指定为一条差评的整改责任人，期限 %(due)s。")
        % {"due": locked.fix_due},
        channels=("inbox",),
        kind="evaluation.rectification",
    )
    _record(actor, "assign", locked, before, handler=handler.pk)
    return locked


@transaction.atomic
def rectification_call_back(
    *, actor: Any, rectification: Rectification, reached: bool, note: str
) -> CallBack:
    """Record a call-back to the rater; once the rater is reached the item waits for the fix."""
    locked, _transition = _act("call_back", rectification, actor)
    if not isinstance(reached, bool):
        raise InvalidInput(_("请说明是否联系上评价人。"), field="reached")
    note = _text(note, field="note", message=_("请填写回访记录。"))
    if locked.evaluation.rater_id is None:
        raise DomainError(_("匿名评价无法回访，可直接整改。"))
    now = timezone.now()
    call_back = CallBack.objects.create(
        rectification=locked, at=now, by=actor, reached=reached, note=note
    )
    before = locked.status
    if reached:
        locked.status = R.CALLED_BACK
        locked.called_back_at = locked.called_back_at or now
        locked.save(update_fields=["status", "called_back_at", "updated_at"])
    _record(actor, "call_back", locked, before, reached=reached)
    return call_back


@transaction.atomic
def rectification_fix(
    *, actor: Any, rectification: Rectification, outcome: str, result: str
) -> Rectification:
    """办结: fixed, or explained to the rater where the request has no legal basis. A real-name
    review must have been called back first."""
    locked, transition = _act("fix", rectification, actor)
    if outcome not in RectificationOutcome.values:
        raise InvalidInput(_("请选择整改结果。"), field="outcome")
    result = _text(result, field="result", message=_("请填写整改情况。"))
    if locked.call_back_required and locked.called_back_at is None:
        raise DomainError(_("实名差评须先回访评价人，才能办结整改。"))
    now = timezone.now()
    before = locked.status
    locked.status = transition.target
    locked.outcome = outcome
    locked.result = result
    locked.closed_at = now
    locked.closed_by = actor
    locked.closed_late = timezone.localdate(now) > locked.fix_due
    locked.save(
        update_fields=[
            "status",
            "outcome",
            "result",
            "closed_at",
            "closed_by",
            "closed_late",
            "updated_at",
        ]
    )
    rater = locked.evaluation.rater
    if rater is not None:
        notify(
            recipient=rater,
            subject=_("您的评价已整改"),
            body=_("您对“%(item)s”的评价已办结：%(result)s")
            % {"item": locked.evaluation.item.name, "result": result},
            channels=("inbox",),
            kind="evaluation.rectification",
        )
    _record(actor, "fix", locked, before, outcome=outcome, late=locked.closed_late)
    return locked


@transaction.atomic
def rectification_appeal(
    *, actor: Any, rectification: Rectification, kind: str, reason: str
) -> Rectification:
    """申诉: the department contests a mistaken or malicious rating; a supervisor decides."""
    locked, transition = _act("appeal", rectification, actor)
    if kind not in AppealKind.values:
        raise InvalidInput(_("请选择申诉类型。"), field="kind")
    locked.appeal_reason = _text(reason, field="reason", message=_("请填写申诉理由。"))
    before = locked.status
    locked.status = transition.target
    locked.appeal_kind = kind
    locked.appealed_at = timezone.now()
    locked.appealed_by = actor
    locked.appeal_upheld = None
    locked.save()
    _record(actor, "appeal", locked, before, kind=kind)
    return locked


@transaction.atomic
def rectification_decide_appeal(
    *, actor: Any, rectification: Rectification, upheld: bool, opinion: str
) -> Rectification:
    """复核: upheld, the rating no longer counts and the item is void; rejected, the item goes
    back to the department where it was."""
    locked = _lock(rectification)
    transition = RECTIFICATION_LIFECYCLE.check(
        "uphold" if upheld is True else "reject",
        state=locked.status,
        actor=actor,
        obj=locked,
    )
    if not isinstance(upheld, bool):
        raise InvalidInput(_("请选择复核结论。"), field="upheld")
    locked.appeal_opinion = _text(
        opinion, field="opinion", message=_("请填写复核意见。")
    )
    before = locked.status
    now = timezone.now()
    if upheld:
        locked.status = transition.target
        locked.closed_at = now
        locked.closed_by = actor
        Evaluation.objects.filter(pk=locked.evaluation_id).update(
            counted=False, updated_at=now
        )
    else:
        locked.status = R.CALLED_BACK if locked.called_back_at else R.OPEN
    locked.appeal_upheld = upheld
    locked.appeal_decided_at = now
    locked.appeal_decided_by = actor
    locked.save()
    _record(actor, "uphold" if upheld else "reject", locked, before)
    return locked
