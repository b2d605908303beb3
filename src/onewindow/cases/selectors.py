"""Reads of cases, scoped by the actor.

- applicants see their own cases (and village agents and clerks the drafts they filed);
- staff see the cases of their departments (any role there), supervisors those of their regions;
- everyone else gets NotFound, never the data.

The workbench queues are what each role acts on next, the most urgent first.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation
from onewindow.accounts.permissions import active_assignments, grants, in_scope, role_q, scope_q, staff_department_ids
from onewindow.cases.choices import CaseStatus, JointStatus, StepStatus
from onewindow.cases.models import Case, CaseDocument, CaseMaterial, CaseStep, JointCase
from onewindow.core.errors import NotFound
from onewindow.core.models import Region
from onewindow.core.prepared import PreparedRead, columns_along, loaded, loaded_along

_RELATED = ("item", "department", "applicant", "region")


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def _own_q(user_id: int) -> Q:
    return Q(applicant_id=user_id) | Q(filed_by_id=user_id)


def my_cases(actor: Any) -> QuerySet[Case]:
    """The applicant's cases, and the ones a window clerk or agent filed for someone."""
    if not _is_user(actor):
        return Case.objects.none()
    return Case.objects.filter(_own_q(actor.pk)).select_related(*_RELATED)


def staff_cases(actor: Any) -> QuerySet[Case]:
    """Filed cases within the actor's departments and supervised regions."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return Case.objects.none()
    return Case.objects.filter(scope_q(actor)).exclude(status=CaseStatus.DRAFT).select_related(*_RELATED)


def visible_cases(actor: Any) -> QuerySet[Case]:
    # Both filters are on the case row and its to-one relations, so no row can appear twice.
    return my_cases(actor) | staff_cases(actor)


def case_for(actor: Any, pk: int) -> Case:
    """A case the actor may see; anyone else gets NotFound."""
    case = visible_cases(actor).filter(pk=pk).first()
    if case is None:
        raise NotFound(_("没有找到该办件。"))
    return case


# The rows a case points to, which the services read with it (a case keeps them from its start).
CASE_POINTS_TO = ("department", "version", "item", "region", "applicant")
CASE_READ_ALONG = (*CASE_POINTS_TO, "department__region")


def _fields(listed: tuple[str, ...]) -> tuple[str, ...]:
    """The fields a read lists; none listed, every column of the case and of the rows it points to."""
    return listed or columns_along(Case, CASE_READ_ALONG)


def _own_case_read(*fields: str) -> PreparedRead:
    return PreparedRead(
        lambda user, pk: Case.objects.filter(_own_q(user), pk=pk).order_by().values_list(*_fields(fields)),
        user=int, pk=int)


def _case_read(*fields: str) -> PreparedRead:
    return PreparedRead(lambda pk: Case.objects.filter(pk=pk).order_by().values_list(*_fields(fields)), pk=int)


# An applicant's or agent's action names one of their cases: one statement, its SQL built once.
_OWN_CASE_READ = _own_case_read("id", "applicant_id")
# Staff: where the case is, which the actor's scope is checked against as `visible_cases` would.
_CASE_PLACE_READ = _case_read("id", "applicant_id", "filed_by_id", "status", "department_id",
                              "department__region__path")
# The same reads of the whole case with the rows it points to (`whole`). The second is not
# scoped: whoever uses it checks the row (`_visible`), or acts for a caller who did.
_OWN_WHOLE_CASE_READ, WHOLE_CASE_READ = _own_case_read(), _case_read()


def _visible(actor: Any, place: dict[str, Any]) -> bool:
    """`visible_cases(actor)` as a test of one case's place (a row of `_CASE_PLACE_READ`)."""
    if not _is_user(actor):
        return False
    if actor.pk in (place["applicant_id"], place["filed_by_id"]):
        return True
    return place["status"] != CaseStatus.DRAFT and actor.kind == AccountKind.STAFF and in_scope(
        actor, department_id=place["department_id"], region_path=place["department__region__path"])


def case_to_act_on(actor: Any, pk: int, *, whole: bool = False) -> Case:
    """The case an action names, scoped exactly as `case_for` scopes it, in one statement whose
    SQL is built once: for an applicant `my_cases` as a filter; for staff the case's place,
    checked against their scope (read with their token or session). The service locks and
    reads the whole row itself, so only the id and the applicant are kept here; or, with
    `whole`, the whole case with the rows it points to, for a service that checks the case
    before it locks it (a submission, `services.case_submit(..., just_read=True)`)."""
    if _is_user(actor) and actor.kind != AccountKind.STAFF:
        rows = (_OWN_WHOLE_CASE_READ if whole else _OWN_CASE_READ).rows(user=actor.pk, pk=pk)
    else:
        rows = [row for row in (WHOLE_CASE_READ if whole else _CASE_PLACE_READ).rows(pk=pk) if _visible(actor, row)]
    if not rows:
        raise NotFound(_("没有找到该办件。"))
    return loaded_along(Case, rows[0], CASE_READ_ALONG) if whole else loaded(Case, rows[0])


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


@dataclass(frozen=True)
class PublicStep:
    name: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None

    def get_status_display(self) -> str:
        return str(StepStatus(self.status).label)


@dataclass(frozen=True)
class PublicProgress:
    """What the progress lookup shows of a case: nothing about the applicant."""

    number: str
    status: str
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    acceptance_due: dt.date | None
    promised_due: dt.date | None
    completed_at: dt.datetime | None
    delivered_at: dt.datetime | None
    item_impl_code: str
    item_name: str
    item_case_type: str
    department_name: str
    region: Region  # only its path, which the working-day calendar needs
    steps: tuple[PublicStep, ...]

    def get_status_display(self) -> str:
        return str(CaseStatus(self.status).label)


_STEP_COLUMNS = {"steps__name": "name", "steps__status": "status", "steps__started_at": "started_at",
                 "steps__finished_at": "finished_at"}
# The busiest public read: one query, its SQL built once (core.prepared).
_PROGRESS_READ = PreparedRead(
    lambda number, code: (
        Case.objects.filter(number=number, query_code=code).exclude(query_code="")
        .order_by("steps__started_at", "steps__id")
        .values_list("number", "status", "submitted_at", "accepted_at", "acceptance_due", "promised_due",
                     "completed_at", "delivered_at", "item__impl_code", "item__name", "item__case_type",
                     "department__name", "region__path", *_STEP_COLUMNS)
    ),
    number=str, code=str,
)


def public_progress(number: str, query_code: str) -> PublicProgress:
    """进度查询: a case by its number and query code, for anyone holding both (the QR code on
    every notice carries them), with its steps (none before acceptance)."""
    number = number.strip() if isinstance(number, str) else ""
    code = query_code.strip().upper() if isinstance(query_code, str) else ""
    rows = _PROGRESS_READ.rows(number=number, code=code) if number and code else []
    if not rows:
        raise NotFound(_("办件编号或查询码不正确。"))
    case = {key: value for key, value in rows[0].items() if key not in _STEP_COLUMNS}
    steps = tuple(PublicStep(**{name: row[column] for column, name in _STEP_COLUMNS.items()})
                  for row in rows if row["steps__name"] is not None)
    return PublicProgress(
        **{key.replace("__", "_"): value for key, value in case.items() if key != "region__path"},
        region=Region(path=case["region__path"]), steps=steps,
    )


def may_read_material(user: Any, stored_file: Any) -> bool:
    """Staff of the case (and the applicant's filer) may open its materials; registered as a
    read rule of `core.files`, so downloads of case files follow case visibility."""
    cases = visible_cases(user).filter(pk__in=CaseMaterial.objects.filter(file=stored_file).values("case_id"))
    return cases.exists() or visible_cases(user).filter(agent_consent_file=stored_file).exists()


# --- portal


def my_case(actor: Any, pk: int) -> Case:
    """One of the actor's own cases (applied for, or filed for someone as agent or clerk), as
    the applicant portal shows it; anyone else, staff of the department included, gets NotFound."""
    case = (my_cases(actor).select_related("version", "enterprise", "filed_by", "department__region")
            .filter(pk=pk).first())
    if case is None:
        raise NotFound(_("没有找到该办件。"))
    return case


def my_drafts(actor: Any, *, item: Any = None) -> QuerySet[Case]:
    """The actor's applications not yet submitted, the most recently changed first (members of a
    joint application are written through it)."""
    drafts = my_cases(actor).filter(status=CaseStatus.DRAFT, joint__isnull=True)
    if item is not None:
        drafts = drafts.filter(item=item)
    return drafts.order_by("-updated_at", "-id")


def my_filed_cases(actor: Any) -> QuerySet[Case]:
    """The actor's submitted cases, the most recently submitted first."""
    return my_cases(actor).exclude(status=CaseStatus.DRAFT).order_by("-submitted_at", "-id")


def my_document(actor: Any, case_pk: int, document_pk: int) -> CaseDocument:
    case = my_case(actor, case_pk)
    document = case.documents.select_related("case").filter(pk=document_pk).first()
    if document is None:
        raise NotFound(_("没有找到该文书。"))
    return document


def case_material(case: Case, pk: Any) -> CaseMaterial:
    """A file or licence reference attached to `case` (a case the caller already may see)."""
    material = case.materials.filter(pk=pk).first() if str(pk).isdigit() else None
    if material is None:
        raise NotFound(_("没有找到该材料。"))
    return material


@dataclass(frozen=True)
class MaterialRow:
    """One material of the guide with what the case holds for it."""

    key: str
    name: str
    required: bool
    deferrable: bool
    licence_type: str
    requirement: str
    attached: list[CaseMaterial]
    deferred: Any  # the DeferredMaterial when it was accepted as missing (容缺), else None

    @property
    def present(self) -> bool:
        return bool(self.attached)


def material_rows(case: Case) -> list[MaterialRow]:
    """The guide's materials in its order, each with the files and licences attached to the case."""
    attached: dict[str, list[CaseMaterial]] = {}
    for material in case.materials.select_related("file").order_by("id"):
        attached.setdefault(material.material_key, []).append(material)
    deferred = {row.material_key: row for row in case.deferred_materials.all()}
    return [
        MaterialRow(key=m["key"], name=m.get("name", m["key"]), required=bool(m.get("required", True)),
                    deferrable=bool(m.get("deferrable")), licence_type=m.get("licence_type") or "",
                    requirement=m.get("content") or "", attached=attached.get(m["key"], []),
                    deferred=deferred.get(m["key"]))
        for m in case.version.content.get("materials", [])
    ]


def open_supplement_notice(case: Case) -> Any:
    """The one-time notice the applicant has not answered yet, if any."""
    return case.supplement_notices.filter(answered_at__isnull=True).order_by("-id").first()


# --- workbench

# The workbench queues, in the order the workbench shows them.
QUEUE_NAMES = ("acceptance", "steps", "mine", "paused", "completion", "archive")
STEP_QUEUES = ("steps", "mine")


def queue(actor: Any, name: str) -> QuerySet[Any]:
    """One workbench queue by name: cases, or open steps for "steps" and "mine"."""
    if name == "acceptance":
        return acceptance_queue(actor)
    if name == "steps":
        return step_queue(actor)
    if name == "mine":
        return step_queue(actor, mine_only=True)
    if name == "paused":
        return paused_cases(actor)
    if name == "completion":
        return completion_queue(actor)
    if name == "archive":
        return archive_queue(actor)
    raise NotFound(_("没有这个待办队列。"))


def _near_q(due: str, region: str, regions: Any, today: Any) -> Q:
    """Due today or within NEAR_DAYS working days (as `clock.urgency` says "near"), per region
    calendar: near while fewer than NEAR_DAYS + 1 working days separate today and the due date."""
    from onewindow.cases.choices import NEAR_DAYS
    from onewindow.core import workdays

    q = Q(pk__in=[])
    for place in regions:
        limit = workdays.add_working_days(today, NEAR_DAYS + 1, region=place).date
        q |= Q(**{region: place.pk, f"{due}__gte": today, f"{due}__lt": limit})
    return q


def _urgency_q(urgency: str, *, steps: bool, regions: Any, today: Any) -> Q:
    """The rows of a queue `clock.case_urgency` (cases) or `clock.urgency` of the step's due
    date (steps) colours `urgency`, as a filter."""
    from onewindow.cases.choices import Urgency

    if urgency == Urgency.NORMAL:
        others = [_urgency_q(u, steps=steps, regions=regions, today=today)
                  for u in (Urgency.PAUSED, Urgency.OVERDUE, Urgency.NEAR)]
        return ~(others[0] | others[1] | others[2])
    if steps:
        if urgency == Urgency.PAUSED:
            return Q(pk__in=[])  # steps are listed while the clock runs
        if urgency == Urgency.OVERDUE:
            return Q(due__lt=today)
        return _near_q("due", "case__region", regions, today)
    if urgency == Urgency.PAUSED:
        return Q(status=CaseStatus.SPECIAL)
    branches = ((CaseStatus.SUBMITTED, "acceptance_due"), (CaseStatus.IN_REVIEW, "promised_due"))
    q = Q(pk__in=[])
    for status, due in branches:
        if urgency == Urgency.OVERDUE:
            q |= Q(status=status, **{f"{due}__lt": today})
        else:
            q |= Q(status=status) & _near_q(due, "region", regions, today)
    return q


def filter_queue(
    rows: QuerySet[Any], *, steps: bool, item: int | None = None, channel: str = "", urgency: str = "",
    q: str = "", today: Any = None,
) -> QuerySet[Any]:
    """Narrow a queue by item, channel, urgency, and case number or applicant name."""
    from django.utils import timezone

    from onewindow.cases.choices import Urgency
    from onewindow.core.models import Region

    prefix = "case__" if steps else ""
    if item is not None:
        rows = rows.filter(**{f"{prefix}item_id": item})
    if channel:
        rows = rows.filter(**{f"{prefix}channel": channel})
    if q:
        rows = rows.filter(Q(**{f"{prefix}number__icontains": q})
                           | Q(**{f"{prefix}applicant__real_name__icontains": q}))
    if urgency in Urgency.values:
        today = today or timezone.localdate()
        regions = list(Region.objects.filter(pk__in=rows.order_by().values(f"{prefix}region")))
        rows = rows.filter(_urgency_q(urgency, steps=steps, regions=regions, today=today))
    return rows


def queue_items(actor: Any) -> QuerySet[Any]:
    """The items of the actor's departments, for the queue filter."""
    from onewindow.catalogue.models import ImplementationItem

    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return ImplementationItem.objects.none()
    return ImplementationItem.objects.filter(scope_q(actor), current_version__isnull=False).order_by("name", "pk")


def window_items(actor: Any) -> QuerySet[Any]:
    """Published items the actor may file at the window (window clerk of the item's department)."""
    from onewindow.catalogue.models import ImplementationItem

    return (ImplementationItem.objects.filter(role_q(actor, Role.WINDOW_CLERK), current_version__isnull=False)
            .select_related("department").order_by("name", "pk"))


def window_drafts(actor: Any) -> QuerySet[Case]:
    """Applications the actor filed at the window and has not submitted yet."""
    from onewindow.cases.choices import Channel

    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return Case.objects.none()
    return (Case.objects.filter(filed_by=actor, channel=Channel.WINDOW, status=CaseStatus.DRAFT)
            .select_related(*_RELATED).order_by("-updated_at", "-id"))


def open_step(case: Case) -> CaseStep | None:
    """The step the case is in now (none before acceptance and after the decision)."""
    return case.steps.exclude(status=StepStatus.DONE).select_related("assignee").first()


def case_step(case: Case, pk: Any) -> CaseStep | None:
    """A step of `case` by id (as a page posted it), or None."""
    return case.steps.filter(pk=pk).first() if str(pk).isdigit() else None


def material_file(actor: Any, case_pk: int, material_pk: Any) -> CaseMaterial:
    """A file attached to a case the actor may see, for its preview."""
    case = case_for(actor, case_pk)
    material = case.materials.select_related("file").filter(file__isnull=False).filter(
        pk=material_pk).first() if str(material_pk).isdigit() else None
    if material is None:
        raise NotFound(_("没有找到该材料。"))
    return material


def step_colleagues(case: Case, step: CaseStep | None) -> list[Any]:
    """Staff who may take over the open step: its role in the case's department (a chief
    representative only with an authorisation covering the item)."""
    from onewindow.accounts.models import RoleAssignment, User
    from onewindow.cases.services import may_act_on_step

    if step is None:
        return []
    assignments = RoleAssignment.objects.active().filter(role=step.role).filter(
        Q(department=case.department_id) | Q(region__isnull=False))
    users = (User.objects.filter(pk__in=assignments.values("user_id"), is_active=True, kind=AccountKind.STAFF)
             .order_by("real_name", "username"))
    return [user for user in users if may_act_on_step(user, case, step)]


def visible_joint_cases(actor: Any) -> QuerySet[JointCase]:
    """Joint cases (一件事): the applicant's own; for staff, filed ones their departments lead or
    hold a member case of (the lead department sees every member live)."""
    if not _is_user(actor):
        return JointCase.objects.none()
    own = Q(applicant=actor)
    if actor.kind == AccountKind.STAFF:
        departments = staff_department_ids(actor)
        staff = Q(lead_department_id__in=departments) | Q(
            pk__in=Case.objects.filter(department_id__in=departments, joint__isnull=False).values("joint_id"))
        own |= staff & ~Q(status=JointStatus.DRAFT)
    return JointCase.objects.filter(own).select_related("composite", "lead_department")


def joint_case_for(actor: Any, pk: int) -> JointCase:
    joint = visible_joint_cases(actor).filter(pk=pk).first()
    if joint is None:
        raise NotFound(_("没有找到该联办件。"))
    return joint


def my_joint_case(actor: Any, pk: int) -> JointCase:
    """The applicant's own joint case."""
    joint = (JointCase.objects.filter(applicant=actor, pk=pk).select_related("composite", "lead_department").first()
             if _is_user(actor) else None)
    if joint is None:
        raise NotFound(_("没有找到该联办件。"))
    return joint


def my_joint_cases(actor: Any) -> QuerySet[JointCase]:
    if not _is_user(actor):
        return JointCase.objects.none()
    return JointCase.objects.filter(applicant=actor).select_related("composite", "lead_department")


def joint_acceptance_queue(actor: Any) -> QuerySet[JointCase]:
    """Joint cases waiting for the one acceptance by a department the actor is a window clerk of."""
    departments = [grant.department_id for grant in grants(actor)
                   if grant.role == Role.WINDOW_CLERK and grant.department_id is not None]
    return (JointCase.objects.filter(lead_department_id__in=departments)
            .exclude(status__in=(JointStatus.DRAFT, JointStatus.DELIVERED, JointStatus.WITHDRAWN))
            .select_related("composite", "applicant").order_by("submitted_at", "pk"))
