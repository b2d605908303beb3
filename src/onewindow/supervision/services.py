"""Every change in electronic supervision: one keyword-only function per action, one transaction,
one audit entry.

Sweeps (run by the worker):
- `warning_sweep` recolours every open case and open step (green / yellow / red), records each
  change as a supervision event, tells the responsible staff and their department's head, and
  escalates cases red for more working days than rule W05 allows;
- `anomaly_sweep` reads the cases' timeline past its cursor and applies the anomaly rules.

A supervision notice (督办通知) follows a declared lifecycle:

    issued ──answer (the department)──▶ answered ──close (the supervisor)──▶ closed
       │                                   │
       └──────escalate (the supervisor)────┴──▶ escalated (told to the level above)
"""

import datetime as dt
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import takewhile
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment, User
from onewindow.accounts.permissions import (
    has_role,
    is_platform_admin,
    staff_departments,
)
from onewindow.cases.choices import (
    ACCEPTANCE_DAYS,
    OPEN_STATUSES,
    CaseStatus,
    Decision,
    JointStatus,
    StepStatus,
)
from onewindow.cases.models import (
    Case,
    CaseEvent,
    CaseStep,
    DenialFiling,
    JointCase,
    SupplementNotice,
)
from onewindow.cases.services import denial_filing_mark_reviewed
from onewindow.catalogue.choices import StepKind
from onewindow.catalogue.models import ImplementationItem
from onewindow.core import audit, workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.models import Department, Region
from onewindow.core.notifications import notify
from onewindow.core.periodic import sweep
from onewindow.core.text import clean_text, listing
from onewindow.supervision import clock
from onewindow.supervision.choices import (
    Colour,
    DenialOutcome,
    ItemStatus,
    NoticeStatus,
    RuleCode,
    SampleResult,
    SignalKind,
    SpotCheckStatus,
    WarningType,
)
from onewindow.supervision.colours import Palette
from onewindow.supervision.models import (
    ChargeRecord,
    DenialReview,
    FeedCursor,
    ItemSetting,
    ResultRecord,
    Signal,
    SignalTally,
    SpotCheck,
    SpotCheckSample,
    SupervisionEvent,
    SupervisionItem,
    SupervisionNotice,
    SupervisionRule,
)
from onewindow.supervision.rules_seed import RULES

SWEEP_CHUNK = 2000
FEED_BATCH = 2000
# A case transaction commits well within this; events younger are left for the next scan.
FEED_SETTLE = dt.timedelta(seconds=30)
MAX_TEXT = 2000
MAX_SAMPLE = 200
# Numbers shown in one notification of a sweep; the rest are counted.
NOTIFY_LIST = 10
DEFAULT_CHECKLIST = [
    {"key": "materials", "label": gettext_lazy("申请材料齐全、真实，与办事指南一致")},
    {"key": "time_limit", "label": gettext_lazy("在承诺时限内办结，暂停与延长有据")},
    {"key": "decision", "label": gettext_lazy("决定理由与法律依据充分，文书规范")},
    {"key": "fees", "label": gettext_lazy("未收取办事指南以外的费用")},
    {"key": "trace", "label": gettext_lazy("全过程留痕，档案完整")},
]


# --- who may act ----------------------------------------------------------------------------------


def _is_user(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
    )


def _ancestor_paths(region: Region) -> list[str]:
    parts = [part for part in region.path.split("/") if part]
    return ["".join(f"{code}/" for code in parts[: i + 1]) for i in range(len(parts))]


def supervises(actor: Any, department: Department) -> bool:
    """A supervisor whose region covers the department, or a platform administrator."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return False
    return is_platform_admin(actor) or has_role(
        actor, Role.SUPERVISOR, department=department
    )


def works_in(actor: Any, department: Department) -> bool:
    """Staff of the department (profile or a department role): they answer its notices."""
    return (
        _is_user(actor) and staff_departments(actor).filter(pk=department.pk).exists()
    )


def _supervisor(actor: Any, notice: SupervisionNotice) -> bool:
    return supervises(actor, notice.department)


def _department_staff(actor: Any, notice: SupervisionNotice) -> bool:
    return works_in(actor, notice.department)


N = NoticeStatus
NOTICE_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该督办通知"),
    state_labels=dict(NoticeStatus.choices),
    transitions=[
        Transition(
            "answer",
            frozenset({N.ISSUED}),
            N.ANSWERED,
            gettext_lazy("答复督办"),
            _department_staff,
        ),
        Transition(
            "close",
            frozenset({N.ANSWERED}),
            N.CLOSED,
            gettext_lazy("办结督办"),
            _supervisor,
        ),
        Transition(
            "escalate",
            frozenset({N.ISSUED, N.ANSWERED}),
            N.ESCALATED,
            gettext_lazy("升级督办"),
            _supervisor,
        ),
    ],
)


# --- shared pieces -------------------------------------------------------------------------------


def _number(prefix: str) -> str:
    """监察编号 and the like: prefix, the Beijing date and 16 random hex digits. 64 random bits
    keep a collision out of reach even for millions a day (32 bits did collide at 50,000 in
    one sweep); the unique constraint stays as the guard."""
    return f"{prefix}{clock.today():%Y%m%d}{secrets.token_hex(8).upper()}"


_text = partial(clean_text, max_length=MAX_TEXT)


def rules() -> dict[str, SupervisionRule]:
    """Every rule by code. The shipped rules are seeded by a migration; one missing (a table
    emptied by hand, a flushed test database) is put back with its shipped settings."""
    found = {rule.code: rule for rule in SupervisionRule.objects.all()}
    missing = [entry for entry in RULES if entry[0] not in found]
    if missing:
        SupervisionRule.objects.bulk_create(
            [
                SupervisionRule(
                    code=code,
                    kind=kind,
                    name=name,
                    description=description,
                    parameters=parameters,
                )
                for code, kind, name, description, parameters in missing
            ],
            ignore_conflicts=True,
        )
        found = {rule.code: rule for rule in SupervisionRule.objects.all()}
    return found


def _heads(department_ids: Iterable[int]) -> dict[int, list[int]]:
    """Department heads (部门管理员) by department: who hears of their department's warnings."""
    heads: dict[int, list[int]] = defaultdict(list)
    rows = RoleAssignment.objects.active().filter(
        role=Role.DEPARTMENT_ADMIN, department_id__in=set(department_ids)
    )
    for department_id, user_id in rows.values_list("department_id", "user_id"):
        heads[department_id].append(user_id)
    return heads


def _supervisors_of(region: Region | None) -> list[int]:
    if region is None:
        return []
    rows = RoleAssignment.objects.active().filter(
        role=Role.SUPERVISOR, region__path__in=_ancestor_paths(region)
    )
    return list(rows.values_list("user_id", flat=True).distinct())


class Recipients:
    """Who hears of a department's warnings and findings — its heads, and the supervisors of a
    region — read once per sweep rather than once per case."""

    def __init__(self) -> None:
        self._heads: dict[int, list[int]] = {}
        self._supervisors: dict[int, list[int]] = {}

    def heads(self, department_id: int) -> list[int]:
        if department_id not in self._heads:
            self._heads[department_id] = _heads([department_id]).get(department_id, [])
        return self._heads[department_id]

    def supervisors(self, region: Region) -> list[int]:
        if region.pk not in self._supervisors:
            self._supervisors[region.pk] = _supervisors_of(region)
        return self._supervisors[region.pk]


def _tell(user_ids: Iterable[int], subject: str, body: str) -> None:
    for user in User.objects.filter(pk__in=set(user_ids), is_active=True):
        notify(
            recipient=user,
            subject=subject,
            body=body,
            channels=("inbox",),
            kind="supervision",
        )


def _event(
    rule: SupervisionRule,
    warning_type: str,
    *,
    department_id: int,
    description: str,
    case_id: int | None = None,
    step_id: int | None = None,
    at: dt.datetime | None = None,
) -> SupervisionEvent:
    return SupervisionEvent(
        number=_number("JC"),
        rule=rule,
        warning_type=warning_type,
        case_id=case_id,
        step_id=step_id,
        department_id=department_id,
        occurred_at=at or clock.now(),
        description=description,
    )


def _open_item(
    *,
    rule: SupervisionRule | None,
    department_id: int,
    subject: str,
    description: str,
    finding_key: str,
    case_id: int | None = None,
    actor: Any = None,
    warning_type: str = WarningType.ANOMALY,
    recipients: Recipients | None = None,
) -> SupervisionItem | None:
    """Open a supervision item for a finding, with its supervision event; None when the same
    finding already has one. Tells the department's head."""
    if SupervisionItem.objects.filter(finding_key=finding_key).exists():
        return None
    now = clock.now()
    try:
        with transaction.atomic():
            item = SupervisionItem.objects.create(
                number=_number("DB"),
                rule=rule,
                case_id=case_id,
                department_id=department_id,
                subject=subject[:200],
                description=description,
                finding_key=finding_key[:120],
                opened_at=now,
                opened_by=actor if _is_user(actor) else None,
            )
    except IntegrityError:  # found at the same moment by another worker
        return None
    if rule is not None:
        _event(
            rule,
            warning_type,
            department_id=department_id,
            case_id=case_id,
            description=description,
            at=now,
        ).save()
    _tell(
        (recipients or Recipients()).heads(department_id),
        _("监察发现：%(subject)s") % {"subject": subject},
        _("%(number)s：%(description)s")
        % {"number": item.number, "description": description},
    )
    return item


# --- warnings: the sweep over open cases and steps --------------------------------------------------

_WARNING_RULES = {
    (SignalKind.CASE, Colour.YELLOW): RuleCode.CASE_YELLOW,
    (SignalKind.CASE, Colour.RED): RuleCode.CASE_RED,
    (SignalKind.STEP, Colour.YELLOW): RuleCode.STEP_YELLOW,
    (SignalKind.STEP, Colour.RED): RuleCode.STEP_RED,
    (SignalKind.JOINT, Colour.YELLOW): RuleCode.CASE_YELLOW,
    (SignalKind.JOINT, Colour.RED): RuleCode.CASE_RED,
}
_WARNING_TYPES = {
    Colour.GREEN: WarningType.RECOVERED,
    Colour.YELLOW: WarningType.YELLOW,
    Colour.RED: WarningType.RED,
}


def _case_target(case: dict[str, Any]) -> tuple[dt.date | None, int | None, bool]:
    """(due date, limit in working days, frozen) of a case's signal: the acceptance deadline
    before acceptance, the promised date while the clock runs; frozen during a special
    procedure (the clock is paused); none while the applicant supplements or after the decision."""
    status = case["status"]
    if status == CaseStatus.SUBMITTED:
        return case["acceptance_due"], ACCEPTANCE_DAYS, False
    if status == CaseStatus.IN_REVIEW:
        return case["promised_due"], case["item__promised_days"], False
    if status == CaseStatus.SPECIAL:
        return case["promised_due"], case["item__promised_days"], True
    return None, None, False


def _describe(
    kind: str, colour: str, number: str, step_name: str, due: dt.date | None
) -> str:
    what = {
        SignalKind.CASE: number,
        SignalKind.JOINT: _("联办件 %(number)s") % {"number": number},
    }.get(kind) or _("%(number)s 的“%(step)s”环节") % {"number": number, "step": step_name}
    if colour == Colour.RED:
        return _("%(what)s 已超过期限 %(due)s。") % {"what": what, "due": due}
    if colour == Colour.YELLOW:
        return _("%(what)s 临近期限 %(due)s。") % {"what": what, "due": due}
    return _("%(what)s 已恢复正常。") % {"what": what}


@dataclass(frozen=True)
class Wanted:
    """The colour one signal should have now."""

    kind: str
    case_id: int
    step_id: int | None
    joint_id: int | None
    department_id: int
    item_id: int
    number: str
    step_name: str
    due: dt.date | None
    colour: str
    frozen: bool
    responsible: int | None

    @property
    def key(self) -> tuple[str, int | None]:
        return _signal_key(self.kind, self.case_id, self.step_id, self.joint_id)


def _signal_key(
    kind: str, case_id: int, step_id: int | None, joint_id: int | None
) -> tuple[str, int | None]:
    if kind == SignalKind.JOINT:
        return kind, joint_id
    return kind, step_id if kind == SignalKind.STEP else case_id


def _apply_colours(
    wanted: list[Wanted],
    existing: Iterable[Signal],
    *,
    palette: Palette,
    rule_set: dict[str, SupervisionRule],
    recipients: Recipients,
    actor: Any,
    checked: int,
) -> int:
    """Create or recolour the signals, record each change of colour as a supervision event, tell
    the responsible staff and their heads; returns how many changed colour."""
    now = clock.now()
    by_key = {
        _signal_key(s.kind, s.case_id, s.step_id, s.joint_id): s for s in existing
    }
    created, updated, events = [], [], []
    told: dict[int, list[str]] = defaultdict(list)
    for want in wanted:
        signal = by_key.get(want.key)
        before = signal.colour if signal else Colour.GREEN
        colour = before if want.frozen else want.colour
        if signal is None:
            signal = Signal(
                kind=want.kind,
                case_id=want.case_id,
                step_id=want.step_id,
                joint_id=want.joint_id,
                department_id=want.department_id,
                item_id=want.item_id,
                colour=colour,
                due=want.due,
                responsible_id=want.responsible,
                changed_at=now,
                red_since=palette.today if colour == Colour.RED else None,
            )
            created.append(signal)
        elif (signal.colour, signal.due, signal.responsible_id, signal.case_id) != (
            colour,
            want.due,
            want.responsible,
            want.case_id,
        ):
            if signal.colour != colour:
                signal.changed_at = now
                signal.red_since = palette.today if colour == Colour.RED else None
                signal.escalated_at = (
                    None if colour != Colour.RED else signal.escalated_at
                )
            signal.colour, signal.due = colour, want.due
            signal.responsible_id, signal.case_id = want.responsible, want.case_id
            updated.append(signal)
        if colour == before:
            continue
        rule = rule_set[
            _WARNING_RULES[(want.kind, Colour.RED if colour == Colour.GREEN else colour)]
        ]
        if not rule.enabled:
            continue
        description = _describe(want.kind, colour, want.number, want.step_name, want.due)
        events.append(
            _event(
                rule,
                _WARNING_TYPES[colour],
                department_id=want.department_id,
                case_id=want.case_id,
                step_id=want.step_id,
                description=description,
                at=now,
            )
        )
        if colour != Colour.GREEN:
            for user_id in {
                want.responsible,
                *recipients.heads(want.department_id),
            } - {None}:
                told[user_id].append(description)
    Signal.objects.bulk_create(created)
    Signal.objects.bulk_update(
        updated,
        ["colour", "due", "responsible", "case", "changed_at", "red_since", "escalated_at"],
    )
    SupervisionEvent.objects.bulk_create(events)
    for user_id, lines in told.items():
        more = len(lines) - NOTIFY_LIST
        body = "\n".join(lines[:NOTIFY_LIST]) + (
            ("\n" + _("另有 %(n)s 条。") % {"n": more}) if more > 0 else ""
        )
        _tell([user_id], _("办件时限预警（%(n)s 条）") % {"n": len(lines)}, body)
    if events:
        audit.record(
            actor=actor,
            action="supervision.signals.refresh",
            object_type="supervision.signal",
            after={
                "cases": checked,
                "changes": len(events),
                "red": sum(1 for e in events if e.warning_type == WarningType.RED),
            },
        )
    return len(events)


@transaction.atomic
def signals_refresh_chunk(
    *,
    case_ids: list[int],
    palette: Palette,
    rule_set: dict[str, SupervisionRule],
    recipients: Recipients,
    actor: Any = None,
) -> int:
    """Recolour the cases with these ids and their open steps; returns how many changed colour."""
    cases = list(
        Case.objects.filter(pk__in=case_ids, status__in=OPEN_STATUSES).values(
            "pk",
            "number",
            "status",
            "department_id",
            "region_id",
            "item_id",
            "acceptance_due",
            "promised_due",
            "item__promised_days",
        )
    )
    by_id = {case["pk"]: case for case in cases}
    steps = list(
        CaseStep.objects.filter(case_id__in=by_id)
        .exclude(status=StepStatus.DONE)
        .values("pk", "case_id", "name", "due", "limit_days", "assignee_id")
    )
    palette.load(
        item_ids={c["item_id"] for c in cases},
        region_ids={c["region_id"] for c in cases},
    )
    open_step_of = {step["case_id"]: step for step in steps}

    def want(case: dict, step: dict | None, due: Any, limit: Any, frozen: bool, responsible: Any) -> Wanted:
        return Wanted(
            kind=SignalKind.STEP if step else SignalKind.CASE,
            case_id=case["pk"],
            step_id=step["pk"] if step else None,
            joint_id=None,
            department_id=case["department_id"],
            item_id=case["item_id"],
            number=case["number"],
            step_name=step["name"] if step else "",
            due=due,
            colour=palette.colour(
                due, limit_days=limit, item_id=case["item_id"], region_id=case["region_id"]
            ),
            frozen=frozen,
            responsible=responsible,
        )

    wanted = []
    for case in cases:
        due, limit, frozen = _case_target(case)
        step = open_step_of.get(case["pk"])
        wanted.append(want(case, None, due, limit, frozen, step["assignee_id"] if step else None))
    for step in steps:
        case = by_id[step["case_id"]]
        frozen = case["status"] == CaseStatus.SPECIAL
        wanted.append(want(case, step, step["due"], step["limit_days"], frozen, step["assignee_id"]))
    return _apply_colours(
        wanted,
        Signal.objects.filter(case_id__in=by_id).exclude(kind=SignalKind.JOINT),
        palette=palette,
        rule_set=rule_set,
        recipients=recipients,
        actor=actor,
        checked=len(cases),
    )


_COLOUR_RANK = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}


@transaction.atomic
def joint_signals_refresh(
    *,
    palette: Palette,
    rule_set: dict[str, SupervisionRule],
    recipients: Recipients,
    actor: Any = None,
) -> int:
    """A joint case in progress (一件事) warns as its most urgent open member case, or by its own
    joint date when that is more urgent; the signal is the lead department's, who answers for
    the whole 一件事 (each member's department sees its own case's signal). Run after the member
    cases are recoloured; returns how many changed colour."""
    joints = list(
        JointCase.objects.filter(status=JointStatus.IN_PROGRESS).values(
            "pk", "number", "lead_department_id", "joint_due", "composite__joint_limit_days"
        )
    )
    members: dict[int, list[dict]] = defaultdict(list)
    for member in (
        Case.objects.filter(joint_id__in=[j["pk"] for j in joints])
        .values("pk", "joint_id", "item_id", "region_id", "status")
        .order_by("pk")
    ):
        members[member["joint_id"]].append(member)
    colour_of = dict(
        Signal.objects.filter(
            kind=SignalKind.CASE, case_id__in=[m["pk"] for ms in members.values() for m in ms]
        ).values_list("case_id", "colour")
    )
    palette.load(item_ids=set(), region_ids={m["region_id"] for ms in members.values() for m in ms})
    wanted = []
    for joint in joints:
        own = members[joint["pk"]]
        if not own:
            continue
        lead = own[0]
        colour = palette.colour(
            joint["joint_due"],
            limit_days=joint["composite__joint_limit_days"],
            item_id=0,  # the default threshold: a joint case has no item of its own
            region_id=lead["region_id"],
        )
        worst = max(own, key=lambda m: _COLOUR_RANK[colour_of.get(m["pk"], Colour.GREEN)])
        if _COLOUR_RANK[colour_of.get(worst["pk"], Colour.GREEN)] > _COLOUR_RANK[colour]:
            colour, lead = colour_of[worst["pk"]], worst
        wanted.append(
            Wanted(
                kind=SignalKind.JOINT,
                case_id=lead["pk"],
                step_id=None,
                joint_id=joint["pk"],
                department_id=joint["lead_department_id"],
                item_id=lead["item_id"],
                number=joint["number"] or "",
                step_name="",
                due=joint["joint_due"],
                colour=colour,
                frozen=False,
                responsible=None,
            )
        )
    return _apply_colours(
        wanted,
        Signal.objects.filter(kind=SignalKind.JOINT),
        palette=palette,
        rule_set=rule_set,
        recipients=recipients,
        actor=actor,
        checked=len(joints),
    )


@transaction.atomic
def signals_drop_closed(*, actor: Any = None) -> int:
    """Signals of cases no longer open and of steps done are removed (nothing left to watch)."""
    gone = Signal.objects.filter(
        Q(~Q(joint__status=JointStatus.IN_PROGRESS), kind=SignalKind.JOINT)
        | Q(~Q(case__status__in=OPEN_STATUSES), kind=SignalKind.CASE)
        | Q(~Q(case__status__in=OPEN_STATUSES) | Q(step__status=StepStatus.DONE), kind=SignalKind.STEP)
    )
    ids = list(gone.values_list("pk", flat=True)[: SWEEP_CHUNK * 10])
    if ids:
        Signal.objects.filter(pk__in=ids).delete()
        audit.record(
            actor=actor,
            action="supervision.signals.drop",
            object_type="supervision.signal",
            after={"dropped": len(ids)},
        )
    return len(ids)


ESCALATION_BATCH = 500
# The long texts of a case, not read when only its number is wanted.
CASE_TEXTS = (
    "form_data",
    "agent_consent",
    "refusal_reasons",
    "refusal_basis",
    "deferral_requested",
    "commitment",
    "decision_opinion",
    "decision_basis",
    "ended_reason",
)


@transaction.atomic
def signals_escalate_batch(
    *,
    overdue: list[tuple[Signal, int]],
    rule: SupervisionRule,
    recipients: Recipients,
    actor: Any = None,
) -> int:
    """Escalate red cases (each with its working days overdue) in one transaction: a supervision
    item and an event each, and one message per supervisor of the region (and above) and per
    department head, listing them. The signals are claimed under lock, so two sweeps escalate a
    case once. Returns how many were escalated."""
    now = clock.now()
    claimed = set(
        Signal.objects.select_for_update(of=("self",))
        .filter(
            pk__in=[signal.pk for signal, _days in overdue],
            colour=Colour.RED,
            escalated_at__isnull=True,
        )
        .values_list("pk", flat=True)
    )
    Signal.objects.filter(pk__in=claimed).update(escalated_at=now)
    keys = {signal.pk: f"W05:{signal.case_id}:{signal.due}" for signal, _days in overdue}
    found = set(
        SupervisionItem.objects.filter(finding_key__in=keys.values()).values_list(
            "finding_key", flat=True
        )
    )
    items, events, numbers = [], [], []
    told: dict[int, list[str]] = defaultdict(list)
    for signal, days in overdue:
        if signal.pk not in claimed:
            continue
        case = signal.case
        description = _(
            "%(number)s 已超期 %(days)s 个工作日（期限 %(due)s），升级督办。"
        ) % {"number": case.number, "days": days, "due": signal.due}
        numbers.append(case.number)
        if keys[signal.pk] not in found:
            items.append(
                SupervisionItem(
                    number=_number("DB"),
                    rule=rule,
                    case_id=case.pk,
                    department_id=signal.department_id,
                    subject=(_("超期办件 %(number)s") % {"number": case.number})[:200],
                    description=description,
                    finding_key=keys[signal.pk],
                    opened_at=now,
                )
            )
            events.append(
                _event(
                    rule,
                    WarningType.ESCALATION,
                    department_id=signal.department_id,
                    case_id=case.pk,
                    description=description,
                    at=now,
                )
            )
        for user_id in {
            *recipients.supervisors(signal.department.region),
            *recipients.heads(signal.department_id),
        }:
            told[user_id].append(description)
    SupervisionItem.objects.bulk_create(items)
    SupervisionEvent.objects.bulk_create(events)
    for user_id, lines in told.items():
        more = len(lines) - NOTIFY_LIST
        body = "\n".join(lines[:NOTIFY_LIST]) + (
            ("\n" + _("另有 %(n)s 条。") % {"n": more}) if more > 0 else ""
        )
        _tell([user_id], _("红牌办件升级督办"), body)
    if numbers:
        audit.record(
            actor=actor,
            action="supervision.signals.escalate",
            object_type="supervision.signal",
            after={"cases": numbers, "items": [item.number for item in items]},
        )
    return len(numbers)


def signals_escalate(
    *,
    today: dt.date,
    rule_set: dict[str, SupervisionRule],
    recipients: Recipients,
    actor: Any = None,
) -> int:
    """Escalate the cases red for at least `after_days` working days (rule W05), a batch per
    transaction. A case that many working days overdue is at least that many calendar days
    overdue: the query narrows to those before the working days are counted."""
    rule = rule_set[RuleCode.ESCALATION]
    if not rule.enabled:
        return 0
    after_days = rule.parameter("after_days", 3)
    red = (
        Signal.objects.filter(
            kind=SignalKind.CASE,
            colour=Colour.RED,
            escalated_at__isnull=True,
            due__lte=today - dt.timedelta(days=after_days),
        )
        .select_related("case", "department__region")
        .defer(*(f"case__{name}" for name in CASE_TEXTS))
        .order_by("due", "pk")
    )
    overdue = []
    for signal in red.iterator(chunk_size=ESCALATION_BATCH):
        days = workdays.working_days_between(
            signal.due, today, region=signal.department.region
        ).days
        if days >= after_days:
            overdue.append((signal, days))
    return sum(
        signals_escalate_batch(
            overdue=overdue[start : start + ESCALATION_BATCH],
            rule=rule,
            recipients=recipients,
            actor=actor,
        )
        for start in range(0, len(overdue), ESCALATION_BATCH)
    )


def warnings_refresh(*, actor: Any = None) -> int:
    """The whole warning pass: drop closed signals, recolour every open case and step chunk by
    chunk (each chunk its own transaction), then escalate. Returns how many changed colour."""
    today = clock.today()
    rule_set = rules()
    palette = Palette(today)
    recipients = Recipients()
    while signals_drop_closed(actor=actor):
        continue
    changed, last = 0, 0
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES).order_by("pk")
    while True:
        ids = list(
            open_cases.filter(pk__gt=last).values_list("pk", flat=True)[:SWEEP_CHUNK]
        )
        if not ids:
            break
        changed += signals_refresh_chunk(
            case_ids=ids,
            palette=palette,
            rule_set=rule_set,
            recipients=recipients,
            actor=actor,
        )
        last = ids[-1]
    changed += joint_signals_refresh(
        palette=palette, rule_set=rule_set, recipients=recipients, actor=actor
    )
    signals_escalate(today=today, rule_set=rule_set, recipients=recipients, actor=actor)
    signal_tallies_refresh()
    return changed


@transaction.atomic
def signal_tallies_refresh() -> int:
    """Count the signals again for the board, once per sweep: only the sweep changes signals, so
    the counts are as fresh as the signals they count. Returns how many tallies there are."""
    counts = (
        Signal.objects.values("department_id", "item_id", "kind", "colour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    SignalTally.objects.all().delete()
    tallies = SignalTally.objects.bulk_create(
        SignalTally(
            department_id=row["department_id"],
            item_id=row["item_id"],
            kind=row["kind"],
            colour=row["colour"],
            count=row["n"],
        )
        for row in counts
    )
    return len(tallies)


@sweep(every_seconds=600)
def warning_sweep() -> int:
    return warnings_refresh(actor=None)


# --- anomaly rules over the cases' timeline ------------------------------------------------------


def _late_decision(case: Case, rule: SupervisionRule) -> tuple[str, str] | None:
    if case.decided_at is None or case.promised_due is None:
        return None
    decided = clock.local_date(case.decided_at)
    if decided <= case.promised_due:
        return None
    return (
        _("超过承诺时限作出决定：%(number)s") % {"number": case.number},
        _(
            "%(number)s 承诺办结日期为 %(due)s（已计入经批准的延长与特别程序），%(day)s 才作出决定。"
        )
        % {"number": case.number, "due": case.promised_due, "day": decided},
    )


def _reasons_missing(reasons: str, basis: str, rule: SupervisionRule) -> bool:
    return (
        len(reasons.strip()) < rule.parameter("min_reason_chars", 8)
        or not basis.strip()
    )


def _refusal_without_reasons(
    case: Case, rule: SupervisionRule, action: str
) -> tuple[str, str] | None:
    if action == "refuse":
        reasons, basis, what = case.refusal_reasons, case.refusal_basis, _("不予受理")
    elif case.decision == Decision.DENIED:
        reasons, basis, what = case.decision_opinion, case.decision_basis, _("不予许可")
    else:
        return None
    if not _reasons_missing(reasons, basis, rule):
        return None
    return (
        _("%(what)s未充分说明理由：%(number)s") % {"what": what, "number": case.number},
        _("%(number)s %(what)s，理由“%(reasons)s”，依据“%(basis)s”，理由或依据不充分。")
        % {"number": case.number, "what": what, "reasons": reasons, "basis": basis},
    )


def _same_handler(case: Case, rule: SupervisionRule) -> tuple[str, str] | None:
    setting = ItemSetting.objects.filter(item_id=case.item_id).first()
    if setting is None or not setting.separate_accept_and_decide:
        return None
    if case.accepted_by_id is None or case.accepted_by_id != case.decided_by_id:
        return None
    person = case.decided_by.real_name or case.decided_by.username
    return (
        _("受理与决定为同一人：%(number)s") % {"number": case.number},
        _("%(number)s 由 %(person)s 受理并作出决定，该事项要求受理与决定分离。")
        % {"number": case.number, "person": person},
    )


def _fast_step(
    step: CaseStep, case: Case, rule: SupervisionRule
) -> tuple[str, str] | None:
    if step.kind == StepKind.ACCEPT or step.finished_at is None:
        return None
    seconds = (step.finished_at - step.started_at).total_seconds()
    if seconds >= rule.parameter("min_seconds", 60):
        return None
    return (
        _("环节办理用时异常短：%(number)s") % {"number": case.number},
        _("%(number)s 的“%(step)s”环节从开始到办结仅用 %(seconds)s 秒。")
        % {"number": case.number, "step": step.name, "seconds": int(seconds)},
    )


def _repeated_withdrawals(
    case: Case, at: dt.datetime, rule: SupervisionRule
) -> tuple[str, str] | None:
    within = rule.parameter("within_days", 90)
    limit = rule.parameter("max_withdrawals", 2)
    count = CaseEvent.objects.filter(
        action="withdraw",
        case__applicant_id=case.applicant_id,
        case__item_id=case.item_id,
        at__gt=at - dt.timedelta(days=within),
        at__lte=at,
    ).count()
    if count < limit:
        return None
    return (
        _("同一申请人多次撤回：%(number)s") % {"number": case.number},
        _(
            "申请人在 %(days)s 天内撤回同一事项的申请 %(count)s 次（最近一次 %(number)s），可能存在劝退后重新申报以规避时限。"
        )
        % {"days": within, "count": count, "number": case.number},
    )


def _case_findings(
    event: CaseEvent, case: Case, rule_set: dict[str, SupervisionRule]
) -> list[tuple[str, str, str, str]]:
    """(rule code, finding key, subject, description) for each anomaly the event shows."""
    found = []

    def check(code: str, key: str, result: tuple[str, str] | None) -> None:
        if result is not None:
            found.append((code, key, *result))

    action = event.action
    enabled = {code for code, rule in rule_set.items() if rule.enabled}
    if (
        action in ("refuse", "decide", "decide_on_spot")
        and RuleCode.REFUSAL_WITHOUT_REASONS in enabled
    ):
        check(
            RuleCode.REFUSAL_WITHOUT_REASONS,
            f"A01:{case.pk}:{action}",
            _refusal_without_reasons(
                case, rule_set[RuleCode.REFUSAL_WITHOUT_REASONS], action
            ),
        )
    if action in ("decide", "decide_on_spot"):
        if RuleCode.SAME_HANDLER in enabled:
            check(
                RuleCode.SAME_HANDLER,
                f"A03:{case.pk}",
                _same_handler(case, rule_set[RuleCode.SAME_HANDLER]),
            )
        if RuleCode.LATE_DECISION in enabled:
            check(
                RuleCode.LATE_DECISION,
                f"A04:{case.pk}",
                _late_decision(case, rule_set[RuleCode.LATE_DECISION]),
            )
    if (
        action in ("pass_step", "return_step", "decide")
        and RuleCode.FAST_STEP in enabled
    ):
        step = (
            CaseStep.objects.filter(
                case=case, status=StepStatus.DONE, finished_at__lte=event.at
            )
            .order_by("-finished_at", "-pk")
            .first()
        )
        if step is not None:
            check(
                RuleCode.FAST_STEP,
                f"A06:{step.pk}",
                _fast_step(step, case, rule_set[RuleCode.FAST_STEP]),
            )
    if action == "request_supplement" and RuleCode.REPEATED_SUPPLEMENT in enabled:
        for notice in SupplementNotice.objects.filter(case=case, repeated=True):
            found.append(
                (
                    RuleCode.REPEATED_SUPPLEMENT,
                    f"A02:{notice.pk}",
                    _("再次要求补正：%(number)s") % {"number": case.number},
                    _(
                        "%(number)s 在第 %(n)s 次提交后再次出具补正告知书，违反一次性告知。"
                    )
                    % {"number": case.number, "n": notice.submission},
                )
            )
    if action == "withdraw" and RuleCode.REPEATED_WITHDRAWALS in enabled:
        check(
            RuleCode.REPEATED_WITHDRAWALS,
            f"A08:{case.pk}",
            _repeated_withdrawals(
                case, event.at, rule_set[RuleCode.REPEATED_WITHDRAWALS]
            ),
        )
    return found


WATCHED_ACTIONS = (
    "refuse",
    "decide",
    "decide_on_spot",
    "pass_step",
    "return_step",
    "request_supplement",
    "withdraw",
)


@transaction.atomic
def anomalies_scan(*, actor: Any = None, batch: int = FEED_BATCH) -> int:
    """Read the cases' timeline past the cursor (locked: one scan at a time) and open a
    supervision item for each anomaly found; returns how many were opened.

    Ids are handed out before commit, so a young event may still become visible behind one
    already read: the scan stops at the first event younger than FEED_SETTLE and takes it up
    next time."""
    FeedCursor.objects.get_or_create(name="anomalies")
    cursor = FeedCursor.objects.select_for_update().get(name="anomalies")
    settled = clock.now() - FEED_SETTLE
    batch_read = CaseEvent.objects.filter(pk__gt=cursor.last_id).order_by("pk")[:batch]
    events = list(takewhile(lambda event: event.at < settled, batch_read))
    if not events:
        return 0
    rule_set = rules()
    watched = [event for event in events if event.action in WATCHED_ACTIONS]
    cases = Case.objects.select_related("decided_by").in_bulk(
        {event.case_id for event in watched}
    )
    opened = []
    for event in watched:
        case = cases[event.case_id]
        for code, key, subject, description in _case_findings(event, case, rule_set):
            item = _open_item(
                rule=rule_set[code],
                department_id=case.department_id,
                case_id=case.pk,
                finding_key=key,
                subject=subject,
                description=description,
            )
            if item is not None:
                opened.append(item.number)
    cursor.last_id = events[-1].pk
    cursor.save(update_fields=["last_id"])
    audit.record(
        actor=actor,
        action="supervision.anomalies.scan",
        target=cursor,
        after={"events": len(events), "last_id": cursor.last_id, "opened": opened},
    )
    return len(opened)


@sweep(every_seconds=60)
def anomaly_sweep() -> int:
    return anomalies_scan(actor=None)


# --- reports from other systems: charges and results --------------------------------------------


def _may_report(actor: Any, department: Department) -> bool:
    return _is_user(actor) and (is_platform_admin(actor) or works_in(actor, department))


def _case_by_number(number: str) -> Case | None:
    return (
        Case.objects.select_related("department", "version")
        .filter(number=number)
        .first()
        if number
        else None
    )


@transaction.atomic
def charge_report(
    *, actor: Any, case_number: str, fee_name: str, amount: Any
) -> ChargeRecord:
    """A fee collected for a case, reported by the payment system (or the department's staff).
    A fee the case's guide does not list opens a supervision item (rule A07), set as the
    record's `finding`."""
    case = _case_by_number(case_number.strip() if isinstance(case_number, str) else "")
    if case is None or not _may_report(actor, case.department):
        raise NotFound(_("没有找到该办件。"))
    name = _text(
        fee_name, field="fee_name", message=_("请填写收费项目名称。"), max_length=200
    )
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("金额格式不对。"), field="amount") from None
    if not value.is_finite() or value <= 0 or value >= Decimal("1e10"):
        raise InvalidInput(_("金额应大于零。"), field="amount")
    record = ChargeRecord.objects.create(
        case=case,
        fee_name=name,
        amount=value.quantize(Decimal("0.01")),
        reported_at=clock.now(),
        reported_by=actor,
    )
    content = case.version.content
    listed = (
        {fee.get("name", "") for fee in content.get("fees", [])}
        if content.get("charges_fee")
        else set()
    )
    rule = rules()[RuleCode.FEE_NOT_IN_GUIDE]
    record.finding = None
    if rule.enabled and name not in listed:
        record.finding = _open_item(
            rule=rule,
            department_id=case.department_id,
            case_id=case.pk,
            finding_key=f"A07:{record.pk}",
            subject=_("收取指南以外的费用：%(number)s") % {"number": case.number},
            description=_(
                "%(number)s 收取“%(fee)s”%(amount)s 元，办事指南未列该收费项目。"
            )
            % {"number": case.number, "fee": name, "amount": record.amount},
        )
    audit.record(
        actor=actor,
        action="supervision.charge.report",
        target=record,
        after={"case": case.number, "fee_name": name, "amount": str(record.amount)},
    )
    return record


@transaction.atomic
def result_report(
    *,
    actor: Any,
    department: Department,
    result_name: str,
    result_number: str,
    case_number: str = "",
    issued_on: dt.date | None = None,
) -> ResultRecord:
    """A result issued, reported by the licence or document system. One with no approved case
    of the department behind it is 体外循环 (rule A05); the item opened is the record's `finding`."""
    if not isinstance(department, Department) or not _may_report(actor, department):
        raise NotFound(_("没有找到该部门。"))
    name = _text(
        result_name, field="result_name", message=_("请填写结果名称。"), max_length=200
    )
    number = _text(
        result_number,
        field="result_number",
        message=_("请填写结果编号。"),
        max_length=100,
    )
    case_number = _text(
        case_number, field="case_number", message="", max_length=60, required=False
    )
    issued_on = issued_on or clock.today()
    if (
        not isinstance(issued_on, dt.date)
        or isinstance(issued_on, dt.datetime)
        or issued_on > clock.today()
    ):
        raise InvalidInput(_("出证日期不能晚于今天。"), field="issued_on")
    if ResultRecord.objects.filter(
        department=department, result_number=number
    ).exists():
        raise DomainError(_("结果编号 %(number)s 已报送。") % {"number": number})
    case = _case_by_number(case_number)
    record = ResultRecord.objects.create(
        department=department,
        result_name=name,
        result_number=number,
        case_number=case_number,
        case=case,
        issued_on=issued_on,
        reported_at=clock.now(),
        reported_by=actor,
    )
    backed = (
        case is not None
        and case.department_id == department.pk
        and case.decision == Decision.APPROVED
    )
    rule = rules()[RuleCode.RESULT_WITHOUT_CASE]
    record.finding = None
    if rule.enabled and not backed:
        reason = (
            _("未关联办件")
            if case is None
            else _("关联的办件 %(number)s 不是本部门准予许可的办件")
            % {"number": case.number}
        )
        record.finding = _open_item(
            rule=rule,
            department_id=department.pk,
            case_id=case.pk if case else None,
            finding_key=f"A05:{record.pk}",
            subject=_("无办件出具结果：%(number)s") % {"number": number},
            description=_("%(department)s 出具“%(name)s”（%(number)s），%(reason)s。")
            % {
                "department": department.name,
                "name": name,
                "number": number,
                "reason": reason,
            },
        )
    audit.record(
        actor=actor,
        action="supervision.result.report",
        target=record,
        after={"result_number": number, "case": case_number, "backed": backed},
    )
    return record


# --- supervision items and notices (督办) -----------------------------------------------------------


def _supervised_department(actor: Any, department: Any) -> Department:
    """The department, if the actor supervises it; unknown and outside are the same NotFound."""
    pk = department.pk if isinstance(department, Department) else department
    found = None
    if pk.__class__ is int:
        found = Department.objects.select_related("region").filter(pk=pk).first()
    if found is None or not found.is_active or not supervises(actor, found):
        raise NotFound(_("没有找到该部门，或它不在您的监察范围内。"))
    return found


@transaction.atomic
def item_open(
    *,
    actor: Any,
    department: Any,
    subject: str,
    description: str,
    case: Case | None = None,
) -> SupervisionItem:
    """A supervisor opens a supervision item by hand (a complaint, a finding on site)."""
    department = _supervised_department(actor, department)
    subject = _text(subject, field="subject", message=_("请填写问题。"), max_length=200)
    description = _text(
        description, field="description", message=_("请填写监察结果描述。")
    )
    if case is not None and case.department_id != department.pk:
        raise InvalidInput(_("该办件不属于所选部门。"), field="case")
    item = _open_item(
        rule=None,
        department_id=department.pk,
        case_id=getattr(case, "pk", None),
        subject=subject,
        description=description,
        finding_key=f"manual:{secrets.token_hex(12)}",
        actor=actor,
    )
    audit.record(
        actor=actor,
        action="supervision.item.open",
        target=item,
        after={"number": item.number, "department": department.pk, "subject": subject},
    )
    return item


def _deadline(value: Any) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(_("请填写整改期限（日期）。"), field="deadline")
    if value < clock.today():
        raise InvalidInput(_("整改期限不能早于今天。"), field="deadline")
    return value


@transaction.atomic
def notice_issue(
    *,
    actor: Any,
    department: Any,
    content: str,
    deadline: Any,
    item: SupervisionItem | None = None,
    case: Case | None = None,
) -> SupervisionNotice:
    """督办: tell a department to rectify by a deadline. Refused for a department unknown or
    outside the supervisor's region (404), a deadline in the past, an empty content (400)."""
    department = _supervised_department(actor, department)
    content = _text(content, field="content", message=_("请填写督办内容。"))
    deadline = _deadline(deadline)
    if item is not None:
        item = SupervisionItem.objects.select_for_update().filter(pk=item.pk).first()
        if item is None or item.department_id != department.pk:
            raise InvalidInput(_("该监察事项不属于所选部门。"), field="item")
        if item.status == ItemStatus.CLOSED:
            raise DomainError(_("该监察事项已办结。"))
        case = case or item.case
    if case is not None and case.department_id != department.pk:
        raise InvalidInput(_("该办件不属于所选部门。"), field="case")
    notice = SupervisionNotice.objects.create(
        number=_number("DBTZ"),
        item=item,
        case=case,
        department=department,
        content=content,
        deadline=deadline,
        issued_at=clock.now(),
        issued_by=actor,
    )
    if item is not None and item.status == ItemStatus.OPEN:
        SupervisionItem.objects.filter(pk=item.pk).update(status=ItemStatus.NOTICED)
    _tell(
        _heads([department.pk]).get(department.pk, []),
        _("督办通知 %(number)s") % {"number": notice.number},
        _("%(content)s\n整改期限：%(deadline)s")
        % {"content": content, "deadline": deadline},
    )
    audit.record(
        actor=actor,
        action="supervision.notice.issue",
        target=notice,
        after={
            "number": notice.number,
            "department": department.pk,
            "deadline": str(deadline),
            "item": item.number if item else "",
            "case": case.number if case else "",
        },
    )
    return notice


def _locked_notice(notice: SupervisionNotice) -> SupervisionNotice:
    found = (
        SupervisionNotice.objects.select_for_update(of=("self",))
        .select_related("department__region", "item")
        .filter(pk=getattr(notice, "pk", None))
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该督办通知。"))
    return found


@transaction.atomic
def notice_answer(
    *, actor: Any, notice: SupervisionNotice, answer: str
) -> SupervisionNotice:
    """The department says how it rectified."""
    locked = _locked_notice(notice)
    transition = NOTICE_LIFECYCLE.check(
        "answer", state=locked.status, actor=actor, obj=locked
    )
    locked.answer = _text(answer, field="answer", message=_("请填写整改情况。"))
    locked.status, locked.answered_at, locked.answered_by = (
        transition.target,
        clock.now(),
        actor,
    )
    locked.save(update_fields=["answer", "status", "answered_at", "answered_by"])
    _tell(
        [locked.issued_by_id],
        _("督办通知 %(number)s 已答复") % {"number": locked.number},
        locked.answer,
    )
    audit.record(
        actor=actor,
        action="supervision.notice.answer",
        target=locked,
        before={"status": NoticeStatus.ISSUED},
        after={"status": locked.status, "answer": locked.answer},
    )
    return locked


def _conclude(
    locked: SupervisionNotice, actor: Any, action: str, conclusion: str
) -> str:
    transition = NOTICE_LIFECYCLE.check(
        action, state=locked.status, actor=actor, obj=locked
    )
    before = locked.status
    locked.conclusion = conclusion
    locked.status, locked.concluded_at, locked.concluded_by = (
        transition.target,
        clock.now(),
        actor,
    )
    locked.save(update_fields=["conclusion", "status", "concluded_at", "concluded_by"])
    return before


@transaction.atomic
def notice_close(
    *, actor: Any, notice: SupervisionNotice, conclusion: str
) -> SupervisionNotice:
    """The supervisor accepts the rectification; the item closes when none of its notices is open."""
    locked = _locked_notice(notice)
    NOTICE_LIFECYCLE.check("close", state=locked.status, actor=actor, obj=locked)
    before = _conclude(
        locked,
        actor,
        "close",
        _text(conclusion, field="conclusion", message=_("请填写办结意见。")),
    )
    if (
        locked.item_id
        and not SupervisionNotice.objects.filter(
            item_id=locked.item_id,
            status__in=(NoticeStatus.ISSUED, NoticeStatus.ANSWERED),
        ).exists()
    ):
        SupervisionItem.objects.filter(pk=locked.item_id).update(
            status=ItemStatus.CLOSED, closed_at=locked.concluded_at
        )
    _tell(
        _heads([locked.department_id]).get(locked.department_id, []),
        _("督办通知 %(number)s 已办结") % {"number": locked.number},
        locked.conclusion,
    )
    audit.record(
        actor=actor,
        action="supervision.notice.close",
        target=locked,
        before={"status": before},
        after={"status": locked.status, "conclusion": locked.conclusion},
    )
    return locked


@transaction.atomic
def notice_escalate(
    *, actor: Any, notice: SupervisionNotice, reason: str
) -> SupervisionNotice:
    """Not rectified (or not answered): the notice goes to the level above — the supervisors of
    the parent region and the head of the parent department hear of it."""
    locked = _locked_notice(notice)
    NOTICE_LIFECYCLE.check("escalate", state=locked.status, actor=actor, obj=locked)
    before = _conclude(
        locked,
        actor,
        "escalate",
        _text(reason, field="reason", message=_("请填写升级理由。")),
    )
    department = locked.department
    rule = (
        locked.item.rule
        if locked.item and locked.item.rule_id
        else rules()[RuleCode.ESCALATION]
    )
    description = _("督办通知 %(number)s 升级：%(reason)s") % {
        "number": locked.number,
        "reason": locked.conclusion,
    }
    _event(
        rule,
        WarningType.ESCALATION,
        department_id=department.pk,
        case_id=locked.case_id,
        description=description,
    ).save()
    above = _supervisors_of(department.region.parent) + (
        _heads([department.parent_id]).get(department.parent_id, [])
        if department.parent_id
        else []
    )
    _tell(
        above + _heads([department.pk]).get(department.pk, []),
        _("督办升级"),
        description,
    )
    audit.record(
        actor=actor,
        action="supervision.notice.escalate",
        target=locked,
        before={"status": before},
        after={"status": locked.status, "reason": locked.conclusion},
    )
    return locked


# --- denial filings (否定报备) ------------------------------------------------------------------------


@transaction.atomic
def denial_review(
    *, actor: Any, filing: DenialFiling, outcome: str, opinion: str
) -> DenialReview:
    """Review a denial filing: the reasons and basis hold, or they are questioned and a
    supervision item is opened. The filing's own review fields are filled by the cases
    service that owns them; this service's audit entry records the whole review."""
    found = (
        DenialFiling.objects.select_related("department__region", "case")
        .filter(pk=getattr(filing, "pk", None))
        .first()
    )
    if found is None or not supervises(actor, found.department):
        raise NotFound(_("没有找到该否定报备。"))
    if outcome not in DenialOutcome.values:
        raise InvalidInput(_("请选择审查结论。"), field="outcome")
    opinion = _text(opinion, field="opinion", message=_("请填写审查意见。"))
    found = denial_filing_mark_reviewed(
        actor=actor, filing=found, opinion=opinion, audited_by_caller=True
    )
    item = None
    if outcome == DenialOutcome.QUESTIONED:
        item = _open_item(
            rule=None,
            department_id=found.department_id,
            case_id=found.case_id,
            finding_key=f"denial:{found.pk}",
            actor=actor,
            subject=_("否定报备存疑：%(number)s") % {"number": found.case.number},
            description=_("%(number)s 不予许可的理由或依据存疑：%(opinion)s")
            % {"number": found.case.number, "opinion": opinion},
        )
    review = DenialReview.objects.create(
        filing=found,
        outcome=outcome,
        opinion=opinion,
        reviewed_by=actor,
        reviewed_at=found.reviewed_at,
        item=item,
    )
    audit.record(
        actor=actor,
        action="supervision.denial.review",
        target=review,
        after={
            "case": found.case.number,
            "outcome": outcome,
            "item": item.number if item else "",
        },
    )
    return review


# --- spot checks (办件定期抽查) ---------------------------------------------------------------------


def _period_day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(_("请填写日期。"), field=field)
    return value


def draw_sample(population: list[int], size: int, seed: str) -> list[int]:
    """The sample a seed draws: the same seed over the same population, the same cases in the
    same order (population sorted by id)."""
    return random.Random(seed).sample(sorted(population), min(size, len(population)))


@transaction.atomic
def spot_check_draw(
    *,
    actor: Any,
    department: Any,
    period_from: Any,
    period_to: Any,
    sample_size: int,
    seed: str = "",
    checklist: list[str] | None = None,
) -> SpotCheck:
    """Draw a random sample of the department's cases completed in the period; the seed (given,
    or a fresh random one) is recorded so the draw can be repeated."""
    department = _supervised_department(actor, department)
    period_from, period_to = (
        _period_day(period_from, "period_from"),
        _period_day(period_to, "period_to"),
    )
    if period_from > period_to:
        raise InvalidInput(_("开始日期不能晚于结束日期。"), field="period_from")
    if period_to > clock.today():
        raise InvalidInput(_("抽查期间不能晚于今天。"), field="period_to")
    if sample_size.__class__ is not int or not 1 <= sample_size <= MAX_SAMPLE:
        raise InvalidInput(
            _("抽取件数应为 1 到 %(n)s 之间的整数。") % {"n": MAX_SAMPLE},
            field="sample_size",
        )
    seed = _text(
        seed, field="seed", message="", max_length=64, required=False
    ) or secrets.token_hex(8)
    labels = (
        [
            _text(
                label, field="checklist", message=_("检查项不能为空。"), max_length=200
            )
            for label in checklist
        ]
        if checklist
        else [str(entry["label"]) for entry in DEFAULT_CHECKLIST]
    )
    population = list(
        Case.objects.filter(
            department=department,
            completed_at__gte=clock.day_start(period_from),
            completed_at__lt=clock.day_start(period_to + dt.timedelta(days=1)),
        ).values_list("pk", flat=True)
    )
    if not population:
        raise InvalidInput(
            _("%(department)s 在 %(start)s 至 %(end)s 期间没有办结的办件，无法抽查。")
            % {"department": department.name, "start": period_from, "end": period_to},
            field="period_from",
        )
    chosen = draw_sample(population, sample_size, seed)
    check = SpotCheck.objects.create(
        number=_number("CC"),
        department=department,
        period_from=period_from,
        period_to=period_to,
        sample_size=len(chosen),
        population=len(population),
        seed=seed,
        checklist=[
            {"key": f"c{i + 1}", "label": label} for i, label in enumerate(labels)
        ],
        created_at=clock.now(),
        created_by=actor,
    )
    SpotCheckSample.objects.bulk_create(
        SpotCheckSample(check_run=check, case_id=case_id, position=i + 1)
        for i, case_id in enumerate(chosen)
    )
    audit.record(
        actor=actor,
        action="supervision.spot_check.draw",
        target=check,
        after={
            "number": check.number,
            "department": department.pk,
            "seed": seed,
            "period": [str(period_from), str(period_to)],
            "population": len(population),
            "cases": chosen,
        },
    )
    return check


@transaction.atomic
def spot_check_record(
    *, actor: Any, sample: SpotCheckSample, answers: dict[str, bool], findings: str = ""
) -> SpotCheckSample:
    """Record the checklist of one sample: every item answered; a failed item needs findings and
    opens a supervision item for follow-up. The check finishes with its last sample."""
    locked = (
        SpotCheckSample.objects.select_for_update(of=("self",))
        .select_related("check_run__department__region", "case")
        .filter(pk=getattr(sample, "pk", None))
        .first()
    )
    if locked is None or not supervises(actor, locked.check_run.department):
        raise NotFound(_("没有找到该抽查样本。"))
    if locked.result != SampleResult.PENDING:
        raise DomainError(_("该样本已检查。"))
    keys = [entry["key"] for entry in locked.check_run.checklist]
    if (
        not isinstance(answers, dict)
        or set(answers) != set(keys)
        or not all(isinstance(v, bool) for v in answers.values())
    ):
        raise InvalidInput(_("请逐项填写检查结果。"), field="answers")
    failed = [
        entry["label"]
        for entry in locked.check_run.checklist
        if not answers[entry["key"]]
    ]
    findings = _text(
        findings,
        field="findings",
        message=_("发现问题的，请写明问题。"),
        required=bool(failed),
    )
    locked.answers, locked.findings = answers, findings
    locked.result = SampleResult.FAILED if failed else SampleResult.PASSED
    locked.checked_at, locked.checked_by = clock.now(), actor
    if failed:
        locked.item = _open_item(
            rule=None,
            department_id=locked.check_run.department_id,
            case_id=locked.case_id,
            actor=actor,
            finding_key=f"spot:{locked.pk}",
            subject=_("抽查发现问题：%(number)s") % {"number": locked.case.number},
            description=_("抽查 %(check)s：%(failed)s。%(findings)s")
            % {
                "check": locked.check_run.number,
                "failed": listing(failed),
                "findings": findings,
            },
        )
    locked.save(
        update_fields=[
            "answers",
            "findings",
            "result",
            "checked_at",
            "checked_by",
            "item",
        ]
    )
    if not SpotCheckSample.objects.filter(
        check_run_id=locked.check_run_id, result=SampleResult.PENDING
    ).exists():
        SpotCheck.objects.filter(pk=locked.check_run_id).update(
            status=SpotCheckStatus.FINISHED
        )
    audit.record(
        actor=actor,
        action="supervision.spot_check.record",
        target=locked,
        after={"case": locked.case.number, "result": locked.result, "failed": failed},
    )
    return locked


# --- settings ------------------------------------------------------------------------------------


@transaction.atomic
def item_setting_save(
    *,
    actor: Any,
    item: ImplementationItem,
    near_days: int | None,
    near_percent: int,
    separate_accept_and_decide: bool,
) -> ItemSetting:
    """The item's warning threshold and separation of duties: its department's administrator or
    a platform administrator sets them."""
    if not (
        is_platform_admin(actor)
        or has_role(actor, Role.DEPARTMENT_ADMIN, department=item.department)
    ):
        raise PermissionDenied(
            _("只有平台管理员或该事项所属部门的部门管理员可以设置。")
        )
    if near_days is not None and (
        near_days.__class__ is not int or not 0 <= near_days <= 60
    ):
        raise InvalidInput(
            _("预警提前工作日应为 0 到 60 之间的整数。"), field="near_days"
        )
    if near_percent.__class__ is not int or not 1 <= near_percent <= 100:
        raise InvalidInput(
            _("预警剩余时限百分比应为 1 到 100 之间的整数。"), field="near_percent"
        )
    setting, _created = ItemSetting.objects.update_or_create(
        item=item,
        defaults={
            "near_days": near_days,
            "near_percent": near_percent,
            "separate_accept_and_decide": bool(separate_accept_and_decide),
        },
    )
    audit.record(
        actor=actor,
        action="supervision.item_setting.save",
        target=setting,
        after={
            "item": item.impl_code,
            "near_days": near_days,
            "near_percent": near_percent,
            "separate_accept_and_decide": setting.separate_accept_and_decide,
        },
    )
    return setting


@transaction.atomic
def rule_configure(
    *, actor: Any, rule: SupervisionRule, enabled: bool, parameters: dict[str, int]
) -> SupervisionRule:
    """Switch a rule on or off and set its parameters (whole numbers, only those it has)."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以配置监察规则。"))
    locked = SupervisionRule.objects.select_for_update().get(pk=rule.pk)
    unknown = set(parameters) - set(locked.parameters)
    if unknown or not all(
        value.__class__ is int and 0 <= value <= 100_000
        for value in parameters.values()
    ):
        raise InvalidInput(
            _("规则参数应为该规则已有的参数，取值为非负整数。"), field="parameters"
        )
    before = {"enabled": locked.enabled, "parameters": locked.parameters}
    locked.enabled = bool(enabled)
    locked.parameters = {**locked.parameters, **parameters}
    locked.save(update_fields=["enabled", "parameters"])
    audit.record(
        actor=actor,
        action="supervision.rule.configure",
        target=locked,
        before=before,
        after={"enabled": locked.enabled, "parameters": locked.parameters},
    )
    return locked
