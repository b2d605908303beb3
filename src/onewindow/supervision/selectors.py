"""Reads of electronic supervision, scoped by the actor: a supervisor sees the departments in or
below the regions of their supervisor role, a platform administrator sees everything, a
department's staff see the notices addressed to their department. Anything else is NotFound.
"""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from onewindow.accounts.choices import Role
from onewindow.accounts.models import User
from onewindow.accounts.permissions import (
    admin_departments,
    is_platform_admin,
    role_q,
    staff_departments,
)
from onewindow.cases.choices import StepStatus
from onewindow.cases.models import Case, CaseEvent, CaseStep, DenialFiling, JointCase
from onewindow.catalogue.models import ImplementationItem
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import AuditEntry, Department, Region
from onewindow.supervision import clock
from onewindow.supervision.choices import EXCELLENT_SHARE, Colour, Grade, SignalKind
from onewindow.supervision.models import (
    Signal,
    SignalTally,
    SpotCheck,
    SpotCheckSample,
    SupervisionEvent,
    SupervisionItem,
    SupervisionNotice,
    SupervisionRule,
)
from onewindow.supervision.services import rules

LIST_LIMIT = 200
WARNING_COLOURS = (Colour.RED, Colour.YELLOW)


# --- scope -------------------------------------------------------------------------------------------


def supervised_departments(actor: Any) -> QuerySet[Department]:
    """Departments the actor supervises: in or below their supervisor regions (all for a
    platform administrator); none for anyone else."""
    if is_platform_admin(actor):
        return Department.objects.all()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Department.objects.none()
    return Department.objects.filter(
        role_q(actor, Role.SUPERVISOR, department_field="pk", region_field="region")
    )


def supervised_regions(actor: Any) -> QuerySet[Region]:
    return Region.objects.filter(
        pk__in=supervised_departments(actor).values("region_id")
    ).order_by("path")


def is_supervisor(actor: Any) -> bool:
    return supervised_departments(actor).exists()


def supervised_department(actor: Any, department_id: Any) -> Department:
    found = None
    if department_id.__class__ is int:
        found = (
            supervised_departments(actor)
            .select_related("region")
            .filter(pk=department_id)
            .first()
        )
    if found is None:
        raise NotFound(_("没有找到该部门，或它不在您的监察范围内。"))
    return found


def supervised_region(actor: Any, region_code: str) -> Region:
    """A region the actor's scope reaches (one of its departments is in it or below it)."""
    region = (
        Region.objects.filter(code=region_code).first()
        if isinstance(region_code, str)
        else None
    )
    if (
        region is None
        or not supervised_departments(actor)
        .filter(region__path__startswith=region.path)
        .exists()
    ):
        raise NotFound(_("没有找到该行政区划，或它不在您的监察范围内。"))
    return region


def _in_region(
    departments: QuerySet[Department], region: Region | None
) -> QuerySet[Department]:
    return (
        departments
        if region is None
        else departments.filter(region__path__startswith=region.path)
    )


# --- warnings ----------------------------------------------------------------------------------------


def _listed(
    signals: QuerySet[Signal], ordering: tuple[str, ...], limit: int
) -> list[Signal]:
    """One page of signals with what a list shows of their case, step, item, department and
    responsible person. The page's ids are found first on the signal table's own index, then
    only those rows are joined: a join planned over the whole selection would read the wide
    case table far beyond the page."""
    ids = list(signals.order_by(*ordering).values_list("pk", flat=True)[:limit])
    rows = (
        Signal.objects.filter(pk__in=ids)
        .select_related("case", "step", "joint", "department", "item", "responsible")
        .only(
            "kind",
            "colour",
            "due",
            "changed_at",
            "case_id",
            "step_id",
            "joint_id",
            "joint__number",
            "department_id",
            "item_id",
            "responsible_id",
            "case__number",
            "step__name",
            "department__name",
            "item__name",
            "item__impl_code",
            "responsible__username",
            "responsible__real_name",
        )
        .in_bulk()
    )
    return [rows[pk] for pk in ids if pk in rows]


def warning_list(
    actor: Any,
    *,
    department: Department | None = None,
    region: Region | None = None,
    kind: str | None = None,
    limit: int = LIST_LIMIT,
) -> list[Signal]:
    """The red list, then the yellow list: most overdue first, within the actor's scope."""
    signals = Signal.objects.filter(colour__in=WARNING_COLOURS)
    if department is not None:
        signals = signals.filter(
            department_id=supervised_department(actor, department.pk).pk
        )
    else:
        signals = signals.filter(
            department_id__in=_in_region(supervised_departments(actor), region).values(
                "pk"
            )
        )
    if kind in SignalKind.values:
        signals = signals.filter(kind=kind)
    return _listed(signals, ("colour", "due", "pk"), limit)


@dataclass
class BoardRow:
    key: int
    name: str
    red: int = 0
    yellow: int = 0
    green: int = 0

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.green


@dataclass
class Board:
    region: Region | None
    totals: BoardRow
    departments: list[BoardRow] = field(default_factory=list)
    items: list[BoardRow] = field(default_factory=list)
    red_list: list[Signal] = field(default_factory=list)


def _rows(
    counts: list[dict[str, Any]], key: str, names: dict[int, str]
) -> list[BoardRow]:
    rows: dict[int, BoardRow] = {}
    for entry in counts:
        row = rows.setdefault(
            entry[key], BoardRow(entry[key], names.get(entry[key], ""))
        )
        setattr(row, entry["colour"], getattr(row, entry["colour"]) + entry["n"])
    return sorted(rows.values(), key=lambda row: (-row.red, -row.yellow, row.name))


def board(
    actor: Any, *, region: Region | None = None, red_list: int = 50, top_items: int = 20
) -> Board:
    """The live board for the actor's region (or one region of it): counts of open cases by
    colour, by department and by item (red first), as of the last warning sweep, and the red
    list."""
    departments = _in_region(supervised_departments(actor), region)
    cases = SignalTally.objects.filter(
        kind=SignalKind.CASE, department_id__in=departments.values("pk")
    )
    by_department = list(
        cases.values("department_id", "colour").annotate(n=Sum("count")).order_by()
    )
    names = dict(
        departments.filter(
            pk__in={e["department_id"] for e in by_department}
        ).values_list("pk", "name")
    )
    department_rows = _rows(by_department, "department_id", names)
    totals = BoardRow(0, _("合计"))
    for row in department_rows:
        totals.red, totals.yellow, totals.green = (
            totals.red + row.red,
            totals.yellow + row.yellow,
            totals.green + row.green,
        )
    by_item = list(
        cases.filter(colour__in=WARNING_COLOURS)
        .values("item_id", "colour")
        .annotate(n=Sum("count"))
        .order_by()
    )
    item_rows = _rows(by_item, "item_id", {})[:top_items]
    item_names = dict(
        ImplementationItem.objects.filter(
            pk__in=[r.key for r in item_rows]
        ).values_list("pk", "name")
    )
    for row in item_rows:
        row.name = item_names.get(row.key, "")
    reds = _listed(
        Signal.objects.filter(
            colour=Colour.RED, department_id__in=departments.values("pk")
        ),
        ("due", "pk"),
        red_list,
    )
    return Board(
        region=region,
        totals=totals,
        departments=department_rows,
        items=item_rows,
        red_list=reds,
    )


@dataclass
class CaseTrail:
    case: Case
    steps: list[CaseStep]
    timeline: list[CaseEvent]
    audit: list[AuditEntry]
    signals: list[Signal]
    events: list[SupervisionEvent]
    items: list[SupervisionItem]


def case_trail(actor: Any, case_id: int) -> CaseTrail:
    """Drill-down: the case, its steps, its timeline, its audit trail and its supervision record."""
    case = (
        Case.objects.select_related(
            "department", "item", "region", "applicant", "accepted_by", "decided_by", "joint"
        )
        .filter(
            pk=case_id, department_id__in=supervised_departments(actor).values("pk")
        )
        .first()
    )
    if case is None:
        raise NotFound(_("没有找到该办件，或它不在您的监察范围内。"))
    return CaseTrail(
        case=case,
        steps=list(
            CaseStep.objects.filter(case=case)
            .select_related("assignee")
            .order_by("started_at", "pk")
        ),
        timeline=list(
            CaseEvent.objects.filter(case=case)
            .select_related("actor")
            .order_by("at", "pk")
        ),
        audit=list(
            AuditEntry.objects.filter(
                object_type="cases.case", object_id=str(case.pk)
            ).order_by("pk")
        ),
        signals=list(
            Signal.objects.filter(case=case)
            .exclude(kind=SignalKind.JOINT)
            .select_related("step")
            .order_by("kind", "pk")
        ),
        events=list(
            SupervisionEvent.objects.filter(case=case)
            .select_related("rule")
            .order_by("-occurred_at", "-pk")
        ),
        items=list(SupervisionItem.objects.filter(case=case).order_by("-opened_at")),
    )


@dataclass
class JointTrail:
    joint: JointCase
    signal: Signal | None
    members: list[Case]  # each with `signal_colour` (None before the sweep has seen it)


def joint_trail(actor: Any, joint_id: int) -> JointTrail:
    """Drill-down of a joint case (一件事): its own signal and every member case with its colour,
    for supervisors of the lead department or of any member's department."""
    departments = supervised_departments(actor).values("pk")
    joint = (
        JointCase.objects.select_related("composite", "lead_department")
        .filter(
            Q(lead_department_id__in=departments)
            | Q(members__department_id__in=departments),
            pk=joint_id,
        )
        .distinct()
        .first()
    )
    if joint is None:
        raise NotFound(_("没有找到该联办件，或它不在您的监察范围内。"))
    members = list(
        Case.objects.filter(joint=joint)
        .select_related("item", "department")
        .order_by("pk")
    )
    colours = dict(
        Signal.objects.filter(
            kind=SignalKind.CASE, case__in=members
        ).values_list("case_id", "colour")
    )
    for member in members:
        member.signal_colour = colours.get(member.pk)
    return JointTrail(
        joint=joint,
        signal=Signal.objects.filter(kind=SignalKind.JOINT, joint=joint).first(),
        members=members,
    )


def events(
    actor: Any, *, department: Department | None = None, limit: int = LIST_LIMIT
) -> list[SupervisionEvent]:
    departments = supervised_departments(actor)
    found = SupervisionEvent.objects.filter(department_id__in=departments.values("pk"))
    if department is not None:
        found = found.filter(department=department)
    return list(found.select_related("rule", "case", "department")[:limit])


# --- items, notices, denial filings, spot checks ----------------------------------------------------


def items(
    actor: Any, *, status: str = "", limit: int = LIST_LIMIT
) -> list[SupervisionItem]:
    found = SupervisionItem.objects.filter(
        department_id__in=supervised_departments(actor).values("pk")
    )
    if status:
        found = found.filter(status=status)
    return list(found.select_related("rule", "case", "department")[:limit])


def item(actor: Any, item_id: int) -> SupervisionItem:
    found = (
        SupervisionItem.objects.select_related("rule", "case", "department")
        .filter(
            pk=item_id, department_id__in=supervised_departments(actor).values("pk")
        )
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该监察事项。"))
    return found


def _notice_scope(actor: Any) -> Q:
    return Q(department_id__in=supervised_departments(actor).values("pk")) | Q(
        department_id__in=staff_departments(actor).values("pk")
    )


def notices(
    actor: Any, *, status: str = "", limit: int = LIST_LIMIT
) -> list[SupervisionNotice]:
    """Notices the actor supervises or that are addressed to their department."""
    found = SupervisionNotice.objects.filter(_notice_scope(actor))
    if status:
        found = found.filter(status=status)
    return list(found.select_related("department", "item", "case", "issued_by")[:limit])


def notice(actor: Any, notice_id: int) -> SupervisionNotice:
    found = (
        SupervisionNotice.objects.select_related(
            "department__region", "item", "case", "issued_by", "answered_by"
        )
        .filter(_notice_scope(actor), pk=notice_id)
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该督办通知。"))
    return found


def denial_filings(
    actor: Any, *, pending: bool = True, limit: int = LIST_LIMIT
) -> list[DenialFiling]:
    found = DenialFiling.objects.filter(
        department_id__in=supervised_departments(actor).values("pk")
    )
    if pending:
        found = found.filter(reviewed_at__isnull=True)
    return list(
        found.select_related("case", "department", "filed_by").order_by(
            "created_at", "pk"
        )[:limit]
    )


def denial_filing(actor: Any, filing_id: int) -> DenialFiling:
    found = (
        DenialFiling.objects.select_related(
            "case", "department", "filed_by", "reviewed_by"
        )
        .filter(
            pk=filing_id, department_id__in=supervised_departments(actor).values("pk")
        )
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该否定报备。"))
    return found


def spot_checks(actor: Any, *, limit: int = LIST_LIMIT) -> list[SpotCheck]:
    return list(
        SpotCheck.objects.filter(
            department_id__in=supervised_departments(actor).values("pk")
        ).select_related("department", "created_by")[:limit]
    )


def spot_check(actor: Any, check_id: int) -> SpotCheck:
    found = (
        SpotCheck.objects.select_related("department", "created_by")
        .filter(
            pk=check_id, department_id__in=supervised_departments(actor).values("pk")
        )
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该抽查。"))
    return found


def spot_check_sample(actor: Any, sample_id: int) -> SpotCheckSample:
    found = (
        SpotCheckSample.objects.select_related("check_run__department", "case")
        .filter(
            pk=sample_id,
            check_run__department_id__in=supervised_departments(actor).values("pk"),
        )
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该抽查样本。"))
    return found


def rule_list() -> list[SupervisionRule]:
    return sorted(rules().values(), key=lambda rule: rule.code)


# --- staff performance for the annual assessment ---------------------------------------------------


@dataclass
class StaffFigure:
    user_id: int
    name: str
    department: str
    steps: int
    on_time: int
    overdue: int
    findings: int
    grade: str = ""

    @property
    def on_time_rate(self) -> float:
        return self.on_time / self.steps if self.steps else 0.0

    @property
    def grade_label(self) -> str:
        return str(Grade(self.grade).label) if self.grade else ""

    @property
    def score(self) -> float:
        """On-time share of steps handled, less five points per finding against them."""
        return round(100 * self.on_time_rate - 5 * self.findings, 1)


def suggest_grades(figures: list[StaffFigure]) -> None:
    """Suggested grades: 优秀 for the best scores but never more than 20 % of the staff assessed
    (rounded down) and only with a score of 95 or more; 称职 from 80, 基本称职 from 60."""
    cap = math.floor(len(figures) * EXCELLENT_SHARE)
    ranked = sorted(figures, key=lambda f: (-f.score, -f.steps, f.user_id))
    for position, figure in enumerate(ranked):
        if position < cap and figure.score >= 95:
            figure.grade = Grade.EXCELLENT
        elif figure.score >= 80:
            figure.grade = Grade.COMPETENT
        elif figure.score >= 60:
            figure.grade = Grade.BASIC
        else:
            figure.grade = Grade.INCOMPETENT


def staff_performance(
    actor: Any, *, year: int, department: Department | None = None
) -> list[StaffFigure]:
    """Per staff member of the supervised departments: review steps finished in the year, those
    finished by their due date, those late, and supervision findings on their cases' decisions."""
    if year.__class__ is not int or not 2000 <= year <= clock.today().year:
        raise InvalidInput(_("请选择不晚于今年的年度。"), field="year")
    departments = supervised_departments(actor)
    if department is not None:
        departments = departments.filter(pk=department.pk)
    start, end = (
        clock.day_start(dt.date(year, 1, 1)),
        clock.day_start(dt.date(year + 1, 1, 1)),
    )
    steps = CaseStep.objects.filter(
        status=StepStatus.DONE,
        assignee__isnull=False,
        finished_at__gte=start,
        finished_at__lt=end,
        case__department_id__in=departments.values("pk"),
    ).values("assignee_id", "finished_at", "due", "case__department__name")
    figures: dict[int, StaffFigure] = {}
    for step in steps.iterator(chunk_size=5000):
        figure = figures.setdefault(
            step["assignee_id"],
            StaffFigure(
                step["assignee_id"], "", step["case__department__name"], 0, 0, 0, 0
            ),
        )
        figure.steps += 1
        if step["due"] is None or clock.local_date(step["finished_at"]) <= step["due"]:
            figure.on_time += 1
        else:
            figure.overdue += 1
    findings: dict[int, int] = defaultdict(int)
    for decided_by in SupervisionItem.objects.filter(
        case__isnull=False,
        rule__isnull=False,
        opened_at__gte=start,
        opened_at__lt=end,
        department_id__in=departments.values("pk"),
    ).values_list("case__decided_by_id", flat=True):
        if decided_by in figures:
            findings[decided_by] += 1
    for user in User.objects.filter(pk__in=figures).only("pk", "real_name", "username"):
        figures[user.pk].name = user.real_name or user.username
        figures[user.pk].findings = findings.get(user.pk, 0)
    result = list(figures.values())
    suggest_grades(result)
    return sorted(result, key=lambda f: (-f.score, f.name))


# --- configuration -----------------------------------------------------------------------------------


def threshold_readable_items(actor: Any) -> QuerySet[ImplementationItem]:
    """Items whose thresholds the actor sees: every item for a platform administrator, else
    those of the departments they supervise or administer."""
    if is_platform_admin(actor):
        return ImplementationItem.objects.all()
    return ImplementationItem.objects.filter(
        Q(department__in=supervised_departments(actor))
        | Q(department__in=admin_departments(actor))
    )


def threshold_settable_items(actor: Any) -> QuerySet[ImplementationItem]:
    """Items whose thresholds the actor may set (`services.item_setting_save` decides again)."""
    if is_platform_admin(actor):
        return ImplementationItem.objects.all()
    return ImplementationItem.objects.filter(department__in=admin_departments(actor))
