"""Every change to result publicity: one keyword-only function per action, one transaction, one
audit entry.

    pending ──publish──▶ published ──withdraw──▶ withdrawn
       └───────────────withdraw──────────────────▲

Licensing decisions come from the cases: the sweep finds approved cases without a publication
and prepares one (pending) with the public fields, due 7 working days after the decision on the
department region's calendar. Departments enter their penalty decisions themselves. The
department publishes; a publication after its due date is marked late, and a pending one past
its due date is flagged once (the department's administrators are told; supervisors see it).
"""

import datetime as dt
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import Role
from onewindow.accounts.models import RoleAssignment
from onewindow.accounts.permissions import has_role, is_platform_admin
from onewindow.cases.choices import Decision
from onewindow.cases.models import Case
from onewindow.core import audit, workdays
from onewindow.core.errors import InvalidInput, NotFound, PermissionDenied
from onewindow.core.identifiers import parse_uscc
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.models import Department
from onewindow.core.notifications import notify
from onewindow.core.periodic import sweep
from onewindow.core.text import clean_text
from onewindow.publicity.anonymise import anonymise, mask_name
from onewindow.publicity.choices import DecisionKind, HolderKind, PublicationStatus
from onewindow.publicity.models import Publication

SWEEP_BATCH = 500
MAX_TEXT = 2000


def publish_within_days() -> int:
    """Working days after a decision by which it must be public (seed: Zunyi 2017 §3)."""
    return int(getattr(settings, "PUBLICITY_DAYS", 7))


def may_publish(actor: Any, publication: Publication) -> bool:
    """The department's administrator or chief representative, or a platform administrator."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return is_platform_admin(actor) or any(
        has_role(actor, role, department=publication.department)
        for role in (Role.DEPARTMENT_ADMIN, Role.APPROVER)
    )


P = PublicationStatus
PUBLICATION_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该公示"),
    state_labels=dict(PublicationStatus.choices),
    transitions=[
        Transition(
            "publish",
            frozenset({P.PENDING}),
            P.PUBLISHED,
            gettext_lazy("公示"),
            may_publish,
        ),
        Transition(
            "withdraw",
            frozenset({P.PENDING, P.PUBLISHED}),
            P.WITHDRAWN,
            gettext_lazy("撤销公示"),
            may_publish,
        ),
    ],
)


def _due(
    decided: dt.date | dt.datetime, department: Department
) -> tuple[dt.date, bool]:
    shifted = workdays.add_working_days(
        decided, publish_within_days(), region=department.region
    )
    return shifted.date, shifted.confirmed


_text = partial(clean_text, max_length=MAX_TEXT)


def _facts(publication: Publication) -> dict[str, Any]:
    return {
        "kind": publication.kind,
        "number": publication.decision_number,
        "status": publication.status,
        "due": str(publication.due),
        "late": publication.late,
    }


# --- licensing decisions from the cases -------------------------------------------------------------


def decisions_to_publish() -> Any:
    """Approved cases with a decision and no publication yet."""
    return Case.objects.filter(
        decision=Decision.APPROVED, decided_at__isnull=False
    ).exclude(pk__in=Publication.objects.filter(case__isnull=False).values("case_id"))


def licensing_facts(case: Case) -> dict[str, Any]:
    """The public fields of a licensing decision: who holds it (an organisation by name and
    USCC, a person by a masked name), what and when, nothing of the application."""
    if case.enterprise_id:
        holder_kind, holder_name, holder_code = (
            HolderKind.ORGANISATION,
            case.enterprise.name,
            case.enterprise.uscc,
        )
    else:
        holder_kind, holder_name, holder_code = (
            HolderKind.PERSON,
            mask_name(case.applicant.real_name),
            "",
        )
    result = case.result_name or case.item.name
    content = _("准予许可：%(result)s") % {"result": result}
    if case.result_number:
        content += _("（证号 %(number)s）") % {"number": case.result_number}
    names = [case.applicant.real_name]
    return {
        "decision_number": case.result_number or case.number,
        "title": case.item.name,
        "holder_kind": holder_kind,
        "holder_name": holder_name,
        "holder_code": holder_code,
        "content": anonymise(content, names=names),
        "basis": anonymise(case.decision_basis, names=names),
        "decided_on": timezone.localdate(case.decided_at),
        "valid_until": case.result_valid_until,
    }


@transaction.atomic
def publication_prepare(*, case: Case) -> Publication | None:
    """A pending publication for an approved case; None when one exists already (another worker)."""
    found = (
        Case.objects.select_related(
            "item", "department__region", "region", "enterprise", "applicant"
        )
        .filter(pk=case.pk, decision=Decision.APPROVED)
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该准予许可的办件。"))
    due, confirmed = _due(found.decided_at, found.department)
    try:
        with transaction.atomic():
            publication = Publication.objects.create(
                kind=DecisionKind.LICENSING,
                case=found,
                department=found.department,
                region=found.region,
                due=due,
                due_confirmed=confirmed,
                **licensing_facts(found),
            )
    except IntegrityError:
        return None
    audit.record(
        actor=None,
        action="publicity.prepare",
        target=publication,
        after=_facts(publication),
    )
    return publication


# --- penalties entered by departments ------------------------------------------------------------------


@transaction.atomic
def penalty_create(
    *,
    actor: Any,
    department: Department,
    decision_number: str,
    title: str,
    holder_kind: str,
    holder_name: str,
    holder_code: str = "",
    content: str,
    basis: str,
    decided_on: dt.date,
) -> Publication:
    """A penalty decision to publish (行政处罚结果公示). A person is shown by a masked name; the
    texts lose any ID number, phone or e-mail address and the person's name."""
    if not isinstance(department, Department) or not department.is_active:
        raise InvalidInput(_("请选择启用中的决定机关。"), field="department")
    probe = Publication(department=department)
    if not may_publish(actor, probe):
        raise PermissionDenied(_("只有该部门的部门管理员或首席代表可以录入处罚决定。"))
    if holder_kind not in HolderKind.values:
        raise InvalidInput(_("请选择相对人类别。"), field="holder_kind")
    name = _text(
        holder_name,
        field="holder_name",
        message=_("请填写相对人名称。"),
        max_length=200,
    )
    code = _text(
        holder_code, field="holder_code", message="", max_length=18, required=False
    ).upper()
    if holder_kind == HolderKind.ORGANISATION:
        try:
            code = parse_uscc(code).number
        except ValidationError as exc:
            raise InvalidInput(exc.messages[0], field="holder_code") from None
    if holder_kind == HolderKind.PERSON:
        code = ""
    if not isinstance(decided_on, dt.date) or decided_on > timezone.localdate():
        raise InvalidInput(_("决定日期不能晚于今天。"), field="decided_on")
    names = [name] if holder_kind == HolderKind.PERSON else []
    due, confirmed = _due(decided_on, department)
    try:
        with transaction.atomic():
            publication = Publication.objects.create(
                kind=DecisionKind.PENALTY,
                department=department,
                region=department.region,
                decision_number=_text(
                    decision_number,
                    field="decision_number",
                    message=_("请填写决定文书号。"),
                    max_length=100,
                ),
                title=anonymise(
                    _text(
                        title,
                        field="title",
                        message=_("请填写违法行为类型。"),
                        max_length=200,
                    ),
                    names=names,
                ),
                holder_kind=holder_kind,
                holder_name=mask_name(name)
                if holder_kind == HolderKind.PERSON
                else name,
                holder_code=code,
                content=anonymise(
                    _text(content, field="content", message=_("请填写处罚内容。")),
                    names=names,
                ),
                basis=anonymise(
                    _text(basis, field="basis", message=_("请填写处罚依据。")),
                    names=names,
                ),
                decided_on=decided_on,
                due=due,
                due_confirmed=confirmed,
            )
    except IntegrityError:
        raise InvalidInput(_("该决定文书号已录入。"), field="decision_number") from None
    audit.record(
        actor=actor,
        action="publicity.penalty.create",
        target=publication,
        after=_facts(publication),
    )
    return publication


# --- publishing ----------------------------------------------------------------------------------------------


def _lock(publication: Publication) -> Publication:
    found = (
        Publication.objects.select_for_update(of=("self",))
        .select_related("department__region")
        .filter(pk=getattr(publication, "pk", None))
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该公示。"))
    return found


@transaction.atomic
def publication_publish(*, actor: Any, publication: Publication) -> Publication:
    locked = _lock(publication)
    transition = PUBLICATION_LIFECYCLE.check(
        "publish", state=locked.status, actor=actor, obj=locked
    )
    now = timezone.now()
    before = locked.status
    locked.status = transition.target
    locked.published_at = now
    locked.published_by = actor
    locked.late = timezone.localdate(now) > locked.due
    locked.save(
        update_fields=["status", "published_at", "published_by", "late", "updated_at"]
    )
    audit.record(
        actor=actor,
        action="publicity.publish",
        target=locked,
        before={"status": before},
        after=_facts(locked),
    )
    return locked


@transaction.atomic
def publication_withdraw(
    *, actor: Any, publication: Publication, reason: str
) -> Publication:
    """Take a publication down (the decision was revoked or published by mistake), with the reason."""
    locked = _lock(publication)
    transition = PUBLICATION_LIFECYCLE.check(
        "withdraw", state=locked.status, actor=actor, obj=locked
    )
    before = locked.status
    locked.withdrawn_reason = _text(
        reason, field="reason", message=_("请填写撤销公示的原因。")
    )
    locked.status = transition.target
    locked.save(update_fields=["status", "withdrawn_reason", "updated_at"])
    audit.record(
        actor=actor,
        action="publicity.withdraw",
        target=locked,
        before={"status": before},
        after=_facts(locked),
    )
    return locked


@transaction.atomic
def _flag_late(publication: Publication) -> int:
    # Conditional update: two workers running the sweep flag once.
    if not Publication.objects.filter(
        pk=publication.pk, flagged_at__isnull=True, status=PublicationStatus.PENDING
    ).update(flagged_at=timezone.now()):
        return 0
    audit.record(
        actor=None,
        action="publicity.late",
        target=publication,
        after=_facts(publication),
    )
    admins = RoleAssignment.objects.active().filter(
        role=Role.DEPARTMENT_ADMIN, department=publication.department
    )
    for assignment in admins.select_related("user"):
        notify(
            recipient=assignment.user,
            subject=_("决定逾期未公示"),
            body=_("%(kind)s决定 %(number)s 应在 %(due)s 前公示，尚未公示。")
            % {
                "kind": publication.get_kind_display(),
                "number": publication.decision_number,
                "due": publication.due,
            },
            channels=("inbox",),
            kind="publicity.late",
        )
    return 1


@sweep(every_seconds=300)
def publicity_sweep() -> int:
    """Prepare publications for new approvals; flag pending ones past their due date."""
    handled = 0
    for case in decisions_to_publish().order_by("pk").only("pk")[:SWEEP_BATCH]:
        handled += publication_prepare(case=case) is not None
    late = Publication.objects.filter(
        status=PublicationStatus.PENDING,
        due__lt=timezone.localdate(),
        flagged_at__isnull=True,
    )
    for publication in late.select_related("department").order_by("pk")[:SWEEP_BATCH]:
        handled += _flag_late(publication)
    return handled
