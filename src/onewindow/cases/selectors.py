"""Reads of cases, scoped by the actor.

- applicants see their own cases (and village agents and clerks the drafts they filed);
- staff see the cases of their departments (any role there), supervisors those of their regions;
- everyone else gets NotFound, never the data.

The workbench queues are what each role acts on next, the most urgent first.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation
from onewindow.accounts.permissions import active_assignments, role_q, scope_q
from onewindow.cases.choices import CaseStatus, StepStatus
from onewindow.cases.models import Case, CaseDocument, CaseMaterial, CaseStep
from onewindow.core.errors import NotFound

_RELATED = ("item", "department", "applicant", "region")


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def my_cases(actor: Any) -> QuerySet[Case]:
    """The applicant's cases, and the ones a window clerk or agent filed for someone."""
    if not _is_user(actor):
        return Case.objects.none()
    return Case.objects.filter(Q(applicant=actor) | Q(filed_by=actor)).select_related(*_RELATED)


def staff_cases(actor: Any) -> QuerySet[Case]:
    """Filed cases within the actor's departments and supervised regions."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return Case.objects.none()
    return Case.objects.filter(scope_q(actor)).exclude(status=CaseStatus.DRAFT).select_related(*_RELATED)


def visible_cases(actor: Any) -> QuerySet[Case]:
    return (my_cases(actor) | staff_cases(actor)).distinct()


def case_for(actor: Any, pk: int) -> Case:
    """A case the actor may see; anyone else gets NotFound."""
    case = visible_cases(actor).filter(pk=pk).first()
    if case is None:
        raise NotFound(_("没有找到该办件。"))
    return case


def case_by_number(actor: Any, number: str) -> Case:
    case = visible_cases(actor).filter(number=number).first() if isinstance(number, str) and number else None
    if case is None:
        raise NotFound(_("没有找到该办件。"))
    return case


def acceptance_queue(actor: Any) -> QuerySet[Case]:
    """Submitted cases of the departments the actor accepts for, the nearest deadline first."""
    return (
        Case.objects.filter(status=CaseStatus.SUBMITTED)
        .filter(role_q(actor, Role.WINDOW_CLERK))
        .select_related(*_RELATED)
        .order_by("acceptance_due", "submitted_at")
    )


def _open_step_roles(actor: Any) -> Q:
    """Open steps the actor could act on: a role they hold in the step's department (a chief
    representative only where a written authorisation is in force)."""
    q = Q(pk__in=[])
    roles = set(active_assignments(actor).values_list("role", flat=True))
    for role in roles - {Role.APPROVER}:
        q |= Q(role=role) & role_q(actor, role, department_field="case__department",
                                   region_field="case__department__region")
    if Role.APPROVER in roles:
        authorised = ChiefRepresentativeAuthorisation.objects.active().filter(representative=actor)
        q |= Q(role=Role.APPROVER) & Q(case__department__in=authorised.values("department_id")) & role_q(
            actor, Role.APPROVER, department_field="case__department", region_field="case__department__region")
    return q


def step_queue(actor: Any, *, mine_only: bool = False) -> QuerySet[CaseStep]:
    """Open review steps: the pool of the actor's roles (unclaimed) and those they claimed."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return CaseStep.objects.none()
    steps = CaseStep.objects.filter(case__status=CaseStatus.IN_REVIEW).exclude(status=StepStatus.DONE)
    mine = Q(status=StepStatus.CLAIMED, assignee=actor)
    wanted = mine if mine_only else mine | (Q(status=StepStatus.WAITING) & _open_step_roles(actor))
    return (steps.filter(wanted).select_related("case", "case__item", "case__applicant", "case__department",
                                                "case__region", "assignee")
            .order_by("due", "started_at"))


def paused_cases(actor: Any) -> QuerySet[Case]:
    return staff_cases(actor).filter(status=CaseStatus.SPECIAL).order_by("paused_since")


def completion_queue(actor: Any) -> QuerySet[Case]:
    """Decided cases waiting to be completed, then completed ones waiting for delivery."""
    return (
        Case.objects.filter(status__in=(CaseStatus.DECIDED, CaseStatus.COMPLETED))
        .filter(role_q(actor, Role.WINDOW_CLERK))
        .select_related(*_RELATED)
        .order_by("decided_at")
    )


def archive_queue(actor: Any) -> QuerySet[Case]:
    return (
        Case.objects.filter(status__in=(CaseStatus.DELIVERED, CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN,
                                        CaseStatus.TERMINATED), number__isnull=False)
        .filter(role_q(actor, Role.WINDOW_CLERK))
        .select_related(*_RELATED)
        .order_by("updated_at")
    )


@dataclass(frozen=True)
class Counters:
    acceptance: int
    steps: int
    mine: int
    paused: int
    completion: int
    archive: int

    @property
    def total(self) -> int:
        return self.acceptance + self.steps + self.completion


def counters(actor: Any) -> Counters:
    """The workbench badges, one count per queue."""
    return Counters(
        acceptance=acceptance_queue(actor).count(),
        steps=step_queue(actor).count(),
        mine=step_queue(actor, mine_only=True).count(),
        paused=paused_cases(actor).count(),
        completion=completion_queue(actor).count(),
        archive=archive_queue(actor).count(),
    )


def document_for(actor: Any, case_pk: int, document_pk: int) -> CaseDocument:
    case = case_for(actor, case_pk)
    document = case.documents.filter(pk=document_pk).first()
    if document is None:
        raise NotFound(_("没有找到该文书。"))
    return document


def public_progress(number: str, query_code: str) -> Case:
    """进度查询: a case by its number and query code, for anyone holding both (the QR code on
    every notice carries them). Callers show no personal data."""
    number = number.strip() if isinstance(number, str) else ""
    code = query_code.strip().upper() if isinstance(query_code, str) else ""
    case = (Case.objects.filter(number=number, query_code=code).exclude(query_code="")
            .select_related("item", "department").first()) if number and code else None
    if case is None:
        raise NotFound(_("办件编号或查询码不正确。"))
    return case


def may_read_material(user: Any, stored_file: Any) -> bool:
    """Staff of the case (and the applicant's filer) may open its materials; registered as a
    read rule of `core.files`, so downloads of case files follow case visibility."""
    cases = visible_cases(user).filter(pk__in=CaseMaterial.objects.filter(file=stored_file).values("case_id"))
    return cases.exists() or visible_cases(user).filter(agent_consent_file=stored_file).exists()
