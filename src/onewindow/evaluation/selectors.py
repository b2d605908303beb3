"""Reads of evaluations, scoped by the actor: a rater sees their own ratings; department staff
the rectification items and figures of their departments, supervisors those of their regions.
An outsider gets NotFound. The public satisfaction figures are aggregates per department and
item, with no rater and no staff member in them."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.permissions import is_platform_admin, role_q, scope_q
from onewindow.cases.models import Case
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import Department
from onewindow.evaluation.choices import (
    BAD_LEVELS,
    PENDING_RECTIFICATION,
    SATISFIED_LEVELS,
    FigureGrouping,
    Level,
    RectificationStatus,
)
from onewindow.evaluation.models import Evaluation, Rectification
from onewindow.evaluation.services import RATEABLE_CASE_STATUSES
from onewindow.hall.choices import TicketStatus
from onewindow.hall.models import QueueTicket

MAX_FIGURE_DAYS = 366
# Rows of a grouping: the field grouped on and the field naming the group.
GROUPINGS = {
    FigureGrouping.STAFF: ("staff_id", "staff__real_name"),
    FigureGrouping.WINDOW: ("window_id", "window__name"),
    FigureGrouping.DEPARTMENT: ("department_id", "department__name"),
    FigureGrouping.ITEM: ("item_id", "item__name"),
}


def _is_user(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
    )


# --- raters -----------------------------------------------------------------------------------------


def rateable_case(actor: Any, pk: int) -> Case:
    """One of the actor's own cases (as applicant) for the rating page; anyone else gets NotFound."""
    if not _is_user(actor):
        raise NotFound(_("没有找到该办件。"))
    case = (
        Case.objects.select_related("item", "department")
        .filter(pk=pk, applicant=actor)
        .first()
    )
    if case is None:
        raise NotFound(_("没有找到该办件。"))
    return case


def is_rateable(case: Case) -> bool:
    return case.status in RATEABLE_CASE_STATUSES


def case_evaluation(case: Case) -> Evaluation | None:
    return Evaluation.objects.filter(case=case).first()


def visit_evaluation(ticket: QueueTicket) -> Evaluation | None:
    return Evaluation.objects.filter(ticket=ticket).first()


def my_evaluations(actor: Any) -> QuerySet[Evaluation]:
    if not _is_user(actor):
        return Evaluation.objects.none()
    return Evaluation.objects.filter(rater=actor).select_related(
        "item", "department", "case"
    )


def my_evaluation(actor: Any, pk: int) -> Evaluation:
    found = my_evaluations(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该评价。"))
    return found


def is_changeable(evaluation: Evaluation) -> bool:
    return evaluation.counted and timezone.now() <= evaluation.changeable_until


def served_ticket(actor: Any, pk: int) -> QueueTicket:
    """A finished visit the actor served, or one of their department as window clerk: what the
    window's tablet may open for rating."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        raise NotFound(_("没有找到该次服务。"))
    departments = Department.objects.filter(
        role_q(actor, Role.WINDOW_CLERK, department_field="pk", region_field="region")
    )
    found = (
        QueueTicket.objects.filter(pk=pk, status=TicketStatus.DONE)
        .filter(Q(clerk=actor) | Q(department__in=departments))
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该次服务。"))
    return found


# --- departments and supervisors ---------------------------------------------------------------------


def _staff_scope(actor: Any) -> Q:
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return Q(pk__in=[])
    if is_platform_admin(actor):
        return Q()
    return scope_q(
        actor, department_field="department", region_field="department__region"
    )


def rectifications(
    actor: Any, *, status: str = "", overdue: bool = False
) -> QuerySet[Rectification]:
    """Rectification items of the actor's departments and regions, and those they handle;
    the soonest due first. `overdue`: still pending past their fix-by date."""
    if not _is_user(actor):
        return Rectification.objects.none()
    found = Rectification.objects.filter(_staff_scope(actor) | Q(handler=actor))
    if status:
        if status not in RectificationStatus.values:
            raise InvalidInput(_("状态无效。"), field="status")
        found = found.filter(status=status)
    if overdue:
        found = found.filter(
            status__in=PENDING_RECTIFICATION, fix_due__lt=timezone.localdate()
        )
    return found.select_related("department", "handler", "evaluation__item").order_by(
        "fix_due", "pk"
    )


def rectification_for(actor: Any, pk: int) -> Rectification:
    found = (
        rectifications(actor)
        .select_related(
            "evaluation__rater",
            "evaluation__case",
            "evaluation__staff",
            "evaluation__window",
            "appeal_decided_by",
            "closed_by",
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该整改事项。"))
    return found


# --- figures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    key: int | None
    name: str
    total: int
    by_level: dict[int, int]
    bad: int
    rectified: int

    @property
    def satisfied(self) -> int:
        return sum(self.by_level.get(level, 0) for level in SATISFIED_LEVELS)

    @property
    def satisfaction(self) -> float | None:
        """Share of ratings from 基本满意 up, in percent with one decimal."""
        return round(100 * self.satisfied / self.total, 1) if self.total else None


def _period(date_from: dt.date, date_to: dt.date) -> Q:
    if date_to < date_from:
        raise InvalidInput(_("结束日期不能早于开始日期。"), field="date_to")
    if (date_to - date_from).days >= MAX_FIGURE_DAYS:
        raise InvalidInput(
            _("统计区间最长 %(n)s 天。") % {"n": MAX_FIGURE_DAYS}, field="date_to"
        )
    return Q(rated_at__date__gte=date_from, rated_at__date__lte=date_to)


def _figures(evaluations: QuerySet[Evaluation], by: str) -> list[FigureRow]:
    if by not in GROUPINGS:
        raise InvalidInput(_("统计维度无效。"), field="by")
    key, name = GROUPINGS[by]
    counts = {
        f"level_{level}": Count("pk", filter=Q(level=level)) for level in Level.values
    }
    rows = (
        evaluations.values(key, name)
        .annotate(
            total=Count("pk"),
            bad=Count("pk", filter=Q(level__in=BAD_LEVELS)),
            rectified=Count(
                "pk", filter=Q(rectification__status=RectificationStatus.CLOSED)
            ),
            **counts,
        )
        .order_by(name, key)
    )
    return [
        FigureRow(
            key=row[key],
            name=row[name] or _("（未记录）"),
            total=row["total"],
            by_level={level: row[f"level_{level}"] for level in Level.values},
            bad=row["bad"],
            rectified=row["rectified"],
        )
        for row in rows
    ]


def figures(
    actor: Any, *, by: str, date_from: dt.date, date_to: dt.date
) -> list[FigureRow]:
    """Counted ratings per staff member, window, department or item in the actor's scope."""
    scoped = Evaluation.objects.filter(
        _staff_scope(actor), _period(date_from, date_to), counted=True
    )
    return _figures(scoped, by)


def public_figures(*, by: str, date_from: dt.date, date_to: dt.date) -> list[FigureRow]:
    """The published satisfaction figures: per department or item only, never per person."""
    if by not in (FigureGrouping.DEPARTMENT, FigureGrouping.ITEM):
        raise InvalidInput(_("公开统计只按部门或事项。"), field="by")
    return _figures(
        Evaluation.objects.filter(_period(date_from, date_to), counted=True), by
    )
