"""Every change to a case: one keyword-only function per action, one transaction, one audit
entry, one timeline event. Cases follow `CASE_LIFECYCLE`:

    draft ─submit─▶ submitted ─accept─▶ in_review ─decide─▶ decided ─complete─▶ completed
                      │ ▲   └─refuse─▶ not_accepted   │ ▲                          │
      request_supplement│ supply          start_special │ │ end_special          deliver
                      ▼ │                             ▼ │                          ▼
                    supplement                       special                   delivered ─archive─▶ archived

    withdraw: the applicant, before the decision.  terminate: 容缺 materials not supplied in time.

In review the case runs the steps of its item's process template (claim, transfer, pass,
return to an earlier step); the step of kind "decide" ends with the decision. Every guard that
depends on the case is checked on the case row locked with `select_for_update`, so two people
acting on one case at once cannot both succeed: the second sees the state the first left.

A submitted case the window does not act on within 5 working days counts as accepted on receipt
(Licensing Law art. 32(4)): `accept_on_receipt_sweep` records it.
"""

import datetime as dt
import hashlib
import json
import operator
from collections.abc import Callable
from functools import partial, reduce
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import Enterprise, User
from onewindow.accounts.permissions import (
    has_role,
    is_platform_admin,
    may_decide,
    staff_department_ids,
)
from onewindow.accounts.selectors import enterprise_links_of, person_by_identity
from onewindow.cases import archive, clock, hooks, live, numbering
from onewindow.cases.choices import (
    ACCEPTANCE_DAYS,
    DEFERRAL_WARNING_DAYS,
    CaseStatus,
    Channel,
    Decision,
    DeliveryMethod,
    DocumentKind,
    JointStatus,
    StepOutcome,
    StepStatus,
)
from onewindow.cases.models import (
    Case,
    CaseArchive,
    CaseDocument,
    CaseEvent,
    CaseMaterial,
    CaseStep,
    DeferredMaterial,
    DenialFiling,
    JointCase,
    JointMeeting,
    SpecialProcedureRun,
    SupplementNotice,
)
from onewindow.cases.selectors import CASE_POINTS_TO, CASE_READ_ALONG, WHOLE_CASE_READ
from onewindow.catalogue import composite as combining
from onewindow.catalogue.choices import (
    CaseType,
    CompositeStatus,
    MemberDenialRule,
    SpecialProcedureKind,
    StepKind,
)
from onewindow.catalogue.formdef import initial_data, validate_submission, version_form
from onewindow.catalogue.models import CompositeService, ImplementationItem
from onewindow.core import audit, files, workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.notifications import notify
from onewindow.core.prepared import PreparedRead, attach, columns, columns_along, insert, loaded, loaded_along, update
from onewindow.core.periodic import sweep
from onewindow.core.text import clean_text, listing

MATERIAL_PURPOSE = "case_material"
MAX_FILES_PER_MATERIAL = 20
MAX_TEXT = 4000


# --- who may act --------------------------------------------------------------------------------


def _is_applicant(actor: Any, case: Case) -> bool:
    """The applicant, or whoever filed the application for them (window clerk, village agent)."""
    pk = getattr(actor, "pk", None)
    return pk is not None and pk in (case.applicant_id, case.filed_by_id)


def _is_clerk(actor: Any, case: Case) -> bool:
    """A window clerk of the case's department; for a member of a joint case, also one of the
    lead department, which accepts and delivers for every member (一口受理、统一出件)."""
    if has_role(actor, Role.WINDOW_CLERK, department=case.department):
        return True
    return case.joint_id is not None and has_role(actor, Role.WINDOW_CLERK, department=case.joint.lead_department)


def may_act_on_step(actor: Any, case: Case, step: CaseStep | None) -> bool:
    """Whether `actor` holds the step's role in the case's department; a chief representative
    also needs a written authorisation covering the item."""
    if step is None:
        return False
    if step.role == Role.APPROVER:
        return may_decide(actor, case.department, case.item.impl_code)
    return has_role(actor, step.role, department=case.department)


def _open_steps(case_id: int) -> QuerySet[CaseStep]:
    """A case's steps not yet done, the open one first (steps open one at a time, in the template's order)."""
    return CaseStep.objects.filter(case_id=case_id).exclude(status=StepStatus.DONE).order_by(*CaseStep._meta.ordering)


def _open_step(case: Case) -> CaseStep | None:
    if hasattr(case, "locked_open_step"):  # read under the lock by `_act_on_step` just now
        return case.locked_open_step
    return _open_steps(case.pk).first()


def _step_handler(actor: Any, case: Case) -> bool:
    return may_act_on_step(actor, case, _open_step(case))


def _clerk_or_decider(actor: Any, case: Case) -> bool:
    return _is_clerk(actor, case) or may_decide(actor, case.department, case.item.impl_code)


def _system(actor: Any, case: Case) -> bool:
    return actor is None


S = CaseStatus
_BEFORE_DECISION = frozenset({S.DRAFT, S.SUBMITTED, S.SUPPLEMENT, S.IN_REVIEW, S.SPECIAL})
CASE_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该办件"),
    state_labels=dict(CaseStatus.choices),
    transitions=[
        Transition("edit", frozenset({S.DRAFT, S.SUPPLEMENT}), None, gettext_lazy("修改申请"), _is_applicant),
        Transition("submit", frozenset({S.DRAFT}), S.SUBMITTED, gettext_lazy("提交申请"), _is_applicant),
        Transition("accept", frozenset({S.SUBMITTED}), S.IN_REVIEW, gettext_lazy("受理"), _is_clerk),
        Transition("refuse", frozenset({S.SUBMITTED}), S.NOT_ACCEPTED, gettext_lazy("不予受理"), _is_clerk),
        Transition("request_supplement", frozenset({S.SUBMITTED}), S.SUPPLEMENT, gettext_lazy("一次性告知补正"),
                   _is_clerk),
        Transition("supply", frozenset({S.SUPPLEMENT}), S.SUBMITTED, gettext_lazy("提交补正材料"), _is_applicant),
        Transition("supply_deferred", frozenset({S.IN_REVIEW, S.SPECIAL}), None, gettext_lazy("补交容缺材料"),
                   _is_applicant),
        Transition("claim", frozenset({S.IN_REVIEW}), None, gettext_lazy("认领环节"), _step_handler),
        Transition("transfer", frozenset({S.IN_REVIEW}), None, gettext_lazy("转办"), _step_handler),
        Transition("pass_step", frozenset({S.IN_REVIEW}), None, gettext_lazy("通过本环节"), _step_handler),
        Transition("return_step", frozenset({S.IN_REVIEW}), None, gettext_lazy("退回前一环节"), _step_handler),
        Transition("start_special", frozenset({S.IN_REVIEW}), S.SPECIAL, gettext_lazy("启动特别程序"), _step_handler),
        Transition("end_special", frozenset({S.SPECIAL}), S.IN_REVIEW, gettext_lazy("结束特别程序"), _step_handler),
        Transition("extend", frozenset({S.IN_REVIEW}), None, gettext_lazy("延长审批期限"),
                   lambda actor, case: may_decide(actor, case.department, case.item.impl_code)),
        Transition("decide", frozenset({S.IN_REVIEW}), S.DECIDED, gettext_lazy("作出决定"), _step_handler),
        Transition("decide_on_spot", frozenset({S.SUBMITTED}), S.COMPLETED, gettext_lazy("当场办结"),
                   _clerk_or_decider),
        Transition("complete", frozenset({S.DECIDED}), S.COMPLETED, gettext_lazy("办结"), _clerk_or_decider),
        Transition("deliver", frozenset({S.COMPLETED}), S.DELIVERED, gettext_lazy("送达"), _is_clerk),
        Transition("archive", frozenset({S.DELIVERED, S.NOT_ACCEPTED, S.WITHDRAWN, S.TERMINATED}), S.ARCHIVED,
                   gettext_lazy("归档"), _is_clerk),
        Transition("withdraw", _BEFORE_DECISION, S.WITHDRAWN, gettext_lazy("撤回申请"), _is_applicant),
        Transition("terminate", frozenset({S.IN_REVIEW, S.SPECIAL}), S.TERMINATED, gettext_lazy("终止办理"), _system),
        Transition("auto_check", frozenset({S.SUBMITTED}), None, gettext_lazy("智能审查转人工办理"), _system),
        Transition("auto_decide", frozenset({S.SUBMITTED}), S.COMPLETED, gettext_lazy("智能审批办结"), _system),
        Transition("record_visit", frozenset(set(CaseStatus.values) - {S.DRAFT}), None, gettext_lazy("登记到现场"),
                   _is_clerk),
    ],
)


# --- shared steps of every action -----------------------------------------------------------------


# Every action locks its case with what its checks and records read; the SQL is built once.
_LOCK_READ = PreparedRead(
    lambda pk: Case.objects.select_for_update(of=("self",)).filter(pk=pk).order_by()
    .values_list(*columns_along(Case, CASE_READ_ALONG)),
    pk=int,
)


def _loaded_case(read: PreparedRead, case: Case) -> Case:
    rows = read.rows(pk=case.pk)
    if not rows:
        raise Case.DoesNotExist
    return loaded_along(Case, rows[0], CASE_READ_ALONG)


def _lock(case: Case) -> Case:
    return _loaded_case(_LOCK_READ, case)


def _read(case: Case) -> Case:
    """The case as `_lock` reads it, without the lock: for checks made again under it."""
    return _loaded_case(WHOLE_CASE_READ, case)


_OWN_ROW_LOCK_READ = PreparedRead(
    lambda pk: Case.objects.select_for_update(of=("self",)).filter(pk=pk).order_by().values_list(*columns(Case)),
    pk=int,
)


def _relock(read: Case) -> Case:
    """A case read with `_read`, locked: its own row is read again under the lock, the rows it
    points to are kept (a case keeps its item, version, department, region and applicant)."""
    rows = _OWN_ROW_LOCK_READ.rows(pk=read.pk)
    if not rows:
        raise Case.DoesNotExist
    locked = loaded(Case, rows[0])
    for relation in CASE_POINTS_TO:
        if getattr(locked, f"{relation}_id") != getattr(read, f"{relation}_id"):
            return _lock(read)
        attach(locked, relation, getattr(read, relation))
    return locked


def _act(action: str, case: Case, actor: Any) -> tuple[Case, Transition]:
    """Lock the case, check the action is allowed now and for this actor."""
    locked = _lock(case)
    return locked, CASE_LIFECYCLE.check(action, state=locked.status, actor=actor, obj=locked)


def _move(case: Case, transition: Transition) -> str:
    before = case.status
    if transition.target is not None:
        case.status = transition.target
    return before


def _record(case: Case, actor: Any, action: str, before: str, *, note: str = "", **facts: Any) -> None:
    """The timeline event, the audit entry, and the live counters of the department."""
    actor_user = actor if getattr(actor, "pk", None) else None
    insert(CaseEvent(case=case, actor=actor_user, action=action, from_status=before, to_status=case.status,
                     note=note))
    audit.record(actor=actor, action=f"cases.{action}", target=case,
                 before={"status": before}, after={"status": case.status, "number": case.number or "", **facts})
    live.case_changed_on_commit(case.department_id)
    if case.joint_id is not None and case.status in MEMBER_ENDS and before not in MEMBER_ENDS:
        _joint_progress(case)


def _tell_applicant(case: Case, subject: str, body: str) -> None:
    channels = ("inbox", "sms") if case.applicant.phone else ("inbox",)
    notify(recipient=case.applicant, subject=subject, body=body, channels=channels, kind="case")


_text = partial(clean_text, max_length=MAX_TEXT)


def _materials(case: Case) -> dict[str, dict[str, Any]]:
    return {material["key"]: material for material in case.version.content.get("materials", [])}


# The notices of a kind a case has had so far, which a new one's number counts on from.
_DOCUMENTS_OF_KIND_READ = PreparedRead(
    lambda case, kind: CaseDocument.objects.filter(case_id=case, kind=kind).order_by().values_list("id"),
    case=int, kind=str,
)


def _issue_document(case: Case, kind: str, actor: Any, **facts: Any) -> CaseDocument:
    count = len(_DOCUMENTS_OF_KIND_READ.rows(case=case.pk, kind=kind)) if kind in numbering.REPEATED_KINDS else 0
    document = CaseDocument(
        case=case, kind=kind, number=numbering.document_number(case.number, kind, count),
        issued_at=timezone.now(), issued_by=actor if getattr(actor, "pk", None) else None,
        facts={"department": case.department.name, "department_uscc": case.department.uscc,
               "item": case.item.name, "impl_code": case.item.impl_code, "case_number": case.number,
               "applicant": case.applicant.real_name or case.applicant.username, **facts},
    )
    insert(document)
    return document


def _today() -> dt.date:
    return timezone.localdate()


# --- the application --------------------------------------------------------------------------------


def _applying_enterprise(actor: Any, enterprise: Enterprise | None) -> Enterprise | None:
    if enterprise is None:
        return None
    if not enterprise_links_of(actor).filter(enterprise=enterprise).exists():
        raise NotFound(_("没有找到该单位，或您不是它的经办人。"))
    return enterprise


def _published_item(item: ImplementationItem) -> ImplementationItem:
    item = ImplementationItem.objects.select_related("current_version", "department", "region").get(pk=item.pk)
    if item.current_version is None:
        raise NotFound(_("没有找到该事项，或它尚未发布。"))
    return item


def _known_facts(applicant: User, enterprise: Enterprise | None) -> dict[str, str]:
    """What a form may be prefilled with: the verified identity of the applicant and enterprise."""
    facts = {"applicant.real_name": applicant.real_name, "applicant.id_number": applicant.id_number,
             "applicant.phone": applicant.phone}
    if enterprise is not None:
        facts |= {"enterprise.name": enterprise.name, "enterprise.uscc": enterprise.uscc,
                  "enterprise.legal_representative": enterprise.legal_rep_name}
    return facts


def _new_case(item: ImplementationItem, *, applicant: User, channel: str, filed_by: User | None = None,
              enterprise: Enterprise | None = None, **fields: Any) -> Case:
    version = item.current_version
    prefilled = initial_data(version.content.get("form", {}), _known_facts(applicant, enterprise))
    return Case.objects.create(item=item, version=version, department=item.department, region=item.region,
                               applicant=applicant, enterprise=enterprise, channel=channel, filed_by=filed_by,
                               form_data=prefilled, **fields)


@transaction.atomic
def case_start(*, actor: Any, item: ImplementationItem, enterprise: Enterprise | None = None) -> Case:
    """A draft application for the item's published version; the case keeps that version.
    An enterprise handler may apply in the name of an enterprise they handle for. Materials the
    applicant's electronic licences replace are attached by reference at once (`hooks.fill_draft`)."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录再申请。"))
    if actor.kind == AccountKind.STAFF:
        raise PermissionDenied(_("工作人员请通过窗口收件为申请人代为申报。"))
    item = _published_item(item)
    case = _new_case(item, applicant=actor, channel=Channel.ONLINE,
                     enterprise=_applying_enterprise(actor, enterprise))
    _record(case, actor, "start", "")
    hooks.fill_draft(actor, case)
    return case


def _person(id_number: str, real_name: str) -> User:
    try:
        return person_by_identity(id_number=id_number, real_name=real_name)
    except NotFound:
        raise InvalidInput(_("证件号码与姓名不符，或该申请人尚未登记账户。"), field="id_number") from None


@transaction.atomic
def case_file_at_window(*, actor: Any, item: ImplementationItem, id_number: str, real_name: str) -> Case:
    """窗口收件: a clerk files an application for a person at the window, after checking their
    identity document; the visit counts as one trip to the hall."""
    item = _published_item(item)
    if not has_role(actor, Role.WINDOW_CLERK, department=item.department):
        raise PermissionDenied(_("您不是该事项实施部门的窗口受理员。"))
    applicant = _person(id_number, real_name)
    case = _new_case(item, applicant=applicant, channel=Channel.WINDOW, filed_by=actor, visits=1)
    _record(case, actor, "file_at_window", "", applicant=applicant.username)
    return case


@transaction.atomic
def case_file_by_agent(
    *, actor: Any, item: ImplementationItem, id_number: str, real_name: str, consent: str,
    consent_file: Any = None,
) -> Case:
    """代办: a village agent files for a citizen, with the citizen's consent on record (a
    statement, and the signed 委托书 scanned if there is one)."""
    if not has_role(actor, Role.VILLAGE_AGENT):
        raise PermissionDenied(_("只有代办员可以代为申报。"))
    item = _published_item(item)
    statement = _text(consent, field="consent", message=_("代办须记录申请人的委托意见。"), max_length=1000)
    applicant = _person(id_number, real_name)
    stored = None
    if consent_file is not None:
        stored = files.store_upload(actor=actor, uploaded_file=consent_file, purpose=MATERIAL_PURPOSE)
    case = _new_case(item, applicant=applicant, channel=Channel.AGENT, filed_by=actor, agent_consent=statement,
                     agent_consent_file=stored)
    _record(case, actor, "file_by_agent", "", applicant=applicant.username, consent=statement,
            consent_file=stored.sha256 if stored else "")
    return case


@transaction.atomic
def case_save_form(*, actor: Any, case: Case, data: dict[str, Any], deferral: list[str] | None = None) -> Case:
    """Save the application form as typed so far (checked in full on submission), and the
    materials the applicant means to ask 容缺 for, when given."""
    locked, _transition = _act("edit", case, actor)
    if deferral is not None:
        materials = _materials(locked)
        chosen = list(dict.fromkeys(key for key in deferral if isinstance(key, str)))
        if any(not materials.get(key, {}).get("deferrable") for key in chosen):
            raise InvalidInput(_("只有可容缺的次要材料可以申请容缺受理。"), field="deferral")
        locked.deferral_requested = chosen
    if not isinstance(data, dict):
        raise InvalidInput(_("申请表内容格式不对。"), field="form_data")
    fields = locked.version.content.get("form", {}).get("fields", [])
    unknown = sorted(set(data) - {field["key"] for field in fields})
    if unknown:
        raise InvalidInput(_("申请表没有这些字段：%(keys)s。") % {"keys": listing(unknown)}, field="form_data")
    # Attachment fields are filled from the case's materials on submission, not typed in.
    attachments = {field["key"] for field in fields if field.get("type") == "attachment"}
    data = {key: value for key, value in data.items() if key not in attachments}
    locked.form_data = data
    update(locked)
    audit.record(actor=actor, action="cases.save_form", target=locked,
                 after={"fields": sorted(data), "deferral": locked.deferral_requested})
    return locked


def _attach(locked: Case, actor: Any, material: dict[str, Any], uploaded_file: Any, licence_number: str) -> CaseMaterial:
    key = material["key"]
    if locked.materials.filter(material_key=key).count() >= MAX_FILES_PER_MATERIAL:
        raise InvalidInput(_("每项材料最多 %(n)s 个文件。") % {"n": MAX_FILES_PER_MATERIAL}, field="material_key")
    if licence_number:
        licence_type = material.get("licence_type") or ""
        if not licence_type:
            raise InvalidInput(_("这项材料不能用电子证照替代。"), field="licence_number")
        record = hooks.find_licence(locked, licence_type=licence_type, number=str(licence_number).strip())
        if record is None:
            raise InvalidInput(_("没有找到申请人名下有效的该类电子证照。"), field="licence_number")
        if locked.materials.filter(material_key=key, licence_number=record.number).exists():
            raise InvalidInput(_("这张电子证照已经关联过了。"), field="licence_number")
        return CaseMaterial.objects.create(case=locked, material_key=key, licence_number=record.number,
                                           licence_type=licence_type, added_by=actor)
    if uploaded_file is None:
        raise InvalidInput(_("请选择要上传的文件。"), field="file")
    stored = files.store_upload(actor=actor, uploaded_file=uploaded_file, purpose=MATERIAL_PURPOSE)
    return CaseMaterial.objects.create(case=locked, material_key=key, file=stored, added_by=actor)


@transaction.atomic
def case_attach(
    *, actor: Any, case: Case, material_key: str, uploaded_file: Any = None, licence_number: str = ""
) -> CaseMaterial:
    """Add one file to a material of the guide, or attach one of the applicant's electronic
    licences by reference instead of a file. After acceptance only a material accepted as
    missing (容缺) can be handed in."""
    locked = _lock(case)
    deferred = None
    if locked.status in (S.IN_REVIEW, S.SPECIAL):
        CASE_LIFECYCLE.check("supply_deferred", state=locked.status, actor=actor, obj=locked)
        deferred = locked.deferred_materials.filter(material_key=material_key, supplied_at__isnull=True).first()
        if deferred is None:
            raise DomainError(_("受理后只能补交容缺受理时列明的材料。"), field="material_key")
    else:
        CASE_LIFECYCLE.check("edit", state=locked.status, actor=actor, obj=locked)
    material = _materials(locked).get(material_key)
    if material is None:
        raise InvalidInput(_("办事指南中没有这项材料。"), field="material_key")
    attached = _attach(locked, actor, material, uploaded_file, licence_number)
    update(locked)  # stamps `updated_at`: a submission's checks read the materials (`_submit`)
    if deferred is not None:
        deferred.supplied_at = timezone.now()
        deferred.save(update_fields=["supplied_at", "updated_at"])
    audit.record(actor=actor, action="cases.attach", target=locked,
                 after={"material": material_key, "licence": attached.licence_number,
                        "file": attached.file.sha256 if attached.file else "", "deferred": deferred is not None})
    return attached


@transaction.atomic
def case_detach(*, actor: Any, case: Case, material: CaseMaterial) -> Case:
    """Remove a file or licence reference from a draft (or from a case waiting for supplements)."""
    locked, _transition = _act("edit", case, actor)
    if material.case_id != locked.pk:
        raise NotFound(_("没有找到该材料。"))
    facts = {"material": material.material_key, "licence": material.licence_number,
             "file": material.file.sha256 if material.file else ""}
    material.delete()
    update(locked)  # stamps `updated_at`, as attaching does
    audit.record(actor=actor, action="cases.detach", target=locked, before=facts)
    return locked


# What a submission checks the form against: the case's materials, their files' tokens.
_ATTACHED_READ = PreparedRead(
    lambda case: CaseMaterial.objects.filter(case_id=case).order_by()
    .values_list("material_key", "file__token", "licence_number"),
    case=int,
)


def _checked_application(case: Case, *, excused: frozenset[str]) -> dict[str, Any]:
    """The form as submitted, checked against the version's definition, and every required
    material attached but the `excused`. An attachment field holds the files of the material it
    names: they are read from the case, never from input; a material attached as an electronic
    licence satisfies its field without a file."""
    definition = version_form(case.version)
    data = dict(case.form_data)
    attached = _ATTACHED_READ.rows(case=case.pk)
    fields = []
    for field in definition.fields:
        if field.type == "attachment":
            own = [m for m in attached if m["material_key"] == field.material]
            data[field.key] = [m["file__token"] for m in own if m["file__token"] is not None]
            if any(m["licence_number"] for m in own):
                field = field.model_copy(update={"required": False})
        fields.append(field)
    form_data = validate_submission(definition.model_copy(update={"fields": fields}), data)
    present = {m["material_key"] for m in attached}
    missing = [m for m in _materials(case).values()
               if m.get("required", True) and m["key"] not in present and m["key"] not in excused]
    if missing:
        names = listing(m["name"] for m in missing)
        raise InvalidInput(_("还缺少这些材料：%(names)s。") % {"names": names}, field="materials")
    return form_data


def _deferral(case: Case, actor: Any, deferral: list[str] | None, commitment: str) -> list[str]:
    """The materials the applicant asks to hand in later (容缺), checked against the guide."""
    keys = list(dict.fromkeys(deferral or []))
    if not keys:
        return []
    materials = _materials(case)
    for key in keys:
        material = materials.get(key)
        if material is None:
            raise InvalidInput(_("办事指南中没有材料“%(key)s”。") % {"key": key}, field="deferral")
        if not material.get("deferrable"):
            raise InvalidInput(_("“%(name)s”不是可容缺的次要材料。") % {"name": material["name"]}, field="deferral")
    restriction = hooks.credit_restriction(case.applicant, case.enterprise)
    if restriction:
        raise InvalidInput(_("申请人有失信记录，不能容缺受理：%(reason)s") % {"reason": restriction}, field="deferral")
    _text(commitment, field="commitment", message=_("容缺受理须由申请人签署承诺。"), max_length=2000)
    return keys


def case_submit(
    *, actor: Any, case: Case, idempotency_key: str, deferral: list[str] | None = None, commitment: str = "",
    joint_member: bool = False, just_read: bool = False,
) -> Case:
    """Submit the application; a retry with the same key returns the submitted case unchanged.
    When the item has approval rules (智慧审批) they judge the submission at once (`_judge`).
    `just_read`: the caller read the case whole a moment ago (`selectors.case_to_act_on(...,
    whole=True)`), and the checks before the lock are made on it instead of on a new read.

    `deferral` names secondary materials the applicant will hand in later (容缺受理), with
    `commitment`, the applicant's signed undertaking to do so by the deadline the window sets.

    The case number is taken once the application passes its checks, in a statement of its own
    (inside a caller's transaction, in that one): the day's serial of the item is locked for that
    statement only, not for the whole submission, which every other submission of the item would
    queue behind. A submission that fails after taking its number (a concurrent retry, a key the
    applicant already used for another case) leaves that serial unused. Under the case's lock
    the checks hold as made unless the case changed in between (`_submit`).
    """
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if not 8 <= len(key) <= 64:
        raise InvalidInput(_("提交须带8至64个字符的幂等键。"), field="idempotency_key")
    draft = case if just_read else _read(case)
    if draft.idempotency_key == key:
        return draft  # a retry whose first attempt committed
    checked = _submission(draft, actor, deferral, commitment, joint_member)
    now = timezone.now()
    number = numbering.case_number(draft.item.impl_code, timezone.localdate(now))
    return _judged(lambda refusal: _submit(draft, actor, checked, key=key, number=number, now=now,
                                           commitment=commitment, joint_member=joint_member, deferral=deferral,
                                           refusal=refusal))


def _submission(case: Case, actor: Any, deferral: list[str] | None, commitment: str,
                joint_member: bool) -> tuple[Transition, dict[str, Any], list[str]]:
    """A submission's checks: the transition, the checked form and the materials deferred."""
    transition = CASE_LIFECYCLE.check("submit", state=case.status, actor=actor, obj=case)
    if case.joint_id is not None and not joint_member:
        raise DomainError(_("该申请属于一件事联办件，请在联办件中统一提交。"))
    deferred = _deferral(case, actor, deferral, commitment)
    return transition, _checked_application(case, excused=frozenset(deferred)), deferred


@transaction.atomic
def _submit(draft: Case, actor: Any, checked: tuple[Transition, dict[str, Any], list[str]], *, key: str, number: str,
            now: dt.datetime, deferral: list[str] | None, commitment: str, joint_member: bool, refusal: str) -> Case:
    locked = _relock(draft)
    if locked.idempotency_key == key:
        return locked  # a retry that waited for the lock while the first attempt committed
    # What the checks read is the case row and its materials, and every change to either stamps
    # the row's `updated_at` (attaching and detaching too): an unchanged stamp keeps their verdict.
    if locked.updated_at != draft.updated_at:
        checked = _submission(locked, actor, deferral, commitment, joint_member)
    transition, locked.form_data, deferred = checked
    before = _move(locked, transition)
    today = timezone.localdate(now)
    locked.number = number
    locked.query_code = numbering.query_code()
    locked.idempotency_key = key
    locked.submitted_at = now
    locked.acceptance_due = workdays.add_working_days(today, ACCEPTANCE_DAYS, region=locked.region).date
    # What is asked for 容缺 is what the submission says, whatever a saved draft chose.
    locked.deferral_requested = deferred
    if deferred:
        locked.commitment = commitment.strip()
        locked.committed_at = now
    _issue_document(locked, DocumentKind.RECEIPT, actor, submitted_at=now.isoformat(),
                    acceptance_due=str(locked.acceptance_due), deferral=deferred)
    _record(locked, actor, "submit", before, deferral=deferred)
    # 秒批: an item with approval rules is judged in the same transaction, under the same lock;
    # the case row is written once, and a decided applicant hears of the decision only.
    if locked.joint_id is None and hooks.may_auto_decide(locked.item_id):
        _judge(locked, refusal)
    try:
        update(locked)
    except IntegrityError:
        # Another case of the applicant holds the key (a retry of the same case waits for the
        # lock and finds its key above); the refusal rolls the whole submission back, so no
        # savepoint is needed to go on after the error.
        raise DomainError(_("这个幂等键已用于另一件申请。"), field="idempotency_key") from None
    if locked.status == S.SUBMITTED:
        _tell_applicant(locked, _("申请已提交"), _("您的申请（办件编号 %(number)s，查询码 %(code)s）已提交，"
                                              "窗口将在 %(due)s 前作出受理决定。")
                        % {"number": locked.number, "code": locked.query_code, "due": locked.acceptance_due})
    return locked


@transaction.atomic
def case_supply(*, actor: Any, case: Case) -> Case:
    """Hand in what the one-time notice asked for; the case waits for acceptance again, and
    the window's 5 working days run from this receipt."""
    locked, transition = _act("supply", case, actor)
    locked.form_data = _checked_application(locked, excused=frozenset(locked.deferral_requested))
    before = _move(locked, transition)
    locked.acceptance_due = workdays.add_working_days(_today(), ACCEPTANCE_DAYS, region=locked.region).date
    update(locked)
    locked.supplement_notices.filter(answered_at__isnull=True).update(answered_at=timezone.now())
    _record(locked, actor, "supply", before)
    return locked


@transaction.atomic
def case_withdraw(*, actor: Any, case: Case, reason: str) -> Case:
    locked, transition = _act("withdraw", case, actor)
    text = _text(reason, field="reason", message=_("撤回须写明原因。"), max_length=1000)
    before = _move(locked, transition)
    locked.ended_reason = text
    locked.paused_since = None
    update(locked)
    locked.steps.exclude(status=StepStatus.DONE).update(status=StepStatus.DONE, finished_at=timezone.now(),
                                                        outcome=StepOutcome.OTHER, opinion=text)
    _record(locked, actor, "withdraw", before, note=text, reason=text)
    return locked


# --- acceptance (受理) ------------------------------------------------------------------------------


def _start_steps(case: Case, when: dt.datetime, actor: Any) -> None:
    """The acceptance step is done by acceptance; the next step of the template opens."""
    steps = case.version.content.get("steps", [])
    first = steps[0]
    done = CaseStep(case=case, position=0, key=first["key"], name=first["name"], kind=first["kind"],
                    role=first["role"], limit_days=first["limit_days"], status=StepStatus.DONE,
                    assignee=actor if getattr(actor, "pk", None) else None, started_at=case.submitted_at,
                    due=case.acceptance_due, finished_at=when, outcome=StepOutcome.PASS,
                    opinion=_("予以受理") if actor else _("逾期未作处理，自收到申请之日起即为受理"))
    insert(done, _step_at(case, 1, timezone.localdate(when)))


def _step_at(case: Case, position: int, start: dt.date) -> CaseStep:
    """The step at `position` of the case's template, opening on `start` (not yet written)."""
    template = case.version.content["steps"][position]
    return CaseStep(case=case, position=position, key=template["key"], name=template["name"],
                    kind=template["kind"], role=template["role"], limit_days=template["limit_days"],
                    started_at=timezone.now(), due=clock.step_due(start, template["limit_days"], case.region))


def _open_step_at(case: Case, position: int, start: dt.date) -> CaseStep:
    step = _step_at(case, position, start)
    insert(step)
    return step


def _start_clock(case: Case, when: dt.datetime) -> None:
    case.clock_start = timezone.localdate(when)
    clock.set_due_dates(case)


@transaction.atomic
def case_accept(*, actor: Any, case: Case, deferred_due: dt.date | None = None) -> Case:
    """受理: the clock starts; the acceptance notice states the promised completion date.

    When the applicant asked for 容缺 and those materials are still missing, they are accepted
    as missing with a supply deadline (by default the promised completion date, never later),
    and a 容缺受理通知书 says what, how and by when, and what happens if they are not supplied.
    """
    locked, transition = _act("accept", case, actor)
    now = timezone.now()
    before = _move(locked, transition)
    locked.accepted_at = now
    locked.accepted_by = actor
    _start_clock(locked, now)
    present = {material["material_key"] for material in _ATTACHED_READ.rows(case=locked.pk)}
    still_missing = [key for key in locked.deferral_requested if key not in present]
    deferred_names: list[str] = []
    if still_missing:
        restriction = hooks.credit_restriction(locked.applicant, locked.enterprise)
        if restriction:
            raise DomainError(_("申请人有失信记录，不能容缺受理：%(reason)s") % {"reason": restriction})
        due = deferred_due or locked.promised_due
        if due is None or due < timezone.localdate(now):
            raise InvalidInput(_("请设定不早于今天的容缺材料补交期限。"), field="deferred_due")
        if locked.promised_due is not None and due > locked.promised_due:
            raise InvalidInput(_("容缺材料补交期限不能晚于承诺办结日期 %(date)s。") % {"date": locked.promised_due},
                               field="deferred_due")
        materials = _materials(locked)
        for key in still_missing:
            DeferredMaterial.objects.create(case=locked, material_key=key, name=materials[key]["name"], due=due)
            deferred_names.append(materials[key]["name"])
        _issue_document(locked, DocumentKind.DEFERRAL, actor, materials=deferred_names, due=str(due),
                        commitment=locked.commitment,
                        consequence=str(_("逾期未补交的，终止办理，已作出的审批结果不予发放。")))
    update(locked)
    _start_steps(locked, now, actor)
    _issue_document(locked, DocumentKind.ACCEPTANCE, actor, accepted_at=now.isoformat(),
                    promised_due=str(locked.promised_due or ""), legal_due=str(locked.legal_due or ""))
    _record(locked, actor, "accept", before, promised_due=str(locked.promised_due or ""), deferred=deferred_names)
    _tell_applicant(locked, _("申请已受理"), _("您的申请 %(number)s 已受理，承诺办结日期 %(due)s。")
                    % {"number": locked.number, "due": locked.promised_due or "—"})
    return locked


@transaction.atomic
def case_refuse(*, actor: Any, case: Case, reasons: str, basis: str) -> Case:
    """不予受理: in writing, with reasons and the legal basis."""
    locked, transition = _act("refuse", case, actor)
    locked.refusal_reasons = _text(reasons, field="reasons", message=_("不予受理须写明理由。"))
    locked.refusal_basis = _text(basis, field="basis", message=_("不予受理须写明法律依据。"))
    before = _move(locked, transition)
    update(locked)
    _issue_document(locked, DocumentKind.REFUSAL, actor, reasons=locked.refusal_reasons, basis=locked.refusal_basis,
                    remedy=str(_("如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
                                 "或者在六个月内依法提起行政诉讼。")))
    _record(locked, actor, "refuse", before, note=locked.refusal_reasons, basis=locked.refusal_basis)
    _tell_applicant(locked, _("申请不予受理"), _("您的申请 %(number)s 不予受理，理由：%(reasons)s")
                    % {"number": locked.number, "reasons": locked.refusal_reasons})
    return locked


@transaction.atomic
def case_request_supplement(
    *, actor: Any, case: Case, missing: list[dict[str, str]], note: str = ""
) -> SupplementNotice:
    """补正告知书: everything missing, in one notice. A second notice on the same application
    breaks the one-time rule: it is issued (the applicant must know) but flagged for supervision."""
    locked, transition = _act("request_supplement", case, actor)
    materials = _materials(locked)
    if not isinstance(missing, list) or not missing:
        raise InvalidInput(_("请列明需要补正的全部材料或事项。"), field="missing")
    items = []
    for entry in missing:
        key = entry.get("material_key", "") if isinstance(entry, dict) else ""
        reason = entry.get("reason", "") if isinstance(entry, dict) else ""
        if key and key not in materials:
            raise InvalidInput(_("办事指南中没有材料“%(key)s”。") % {"key": key}, field="missing")
        items.append({"material_key": key, "name": materials[key]["name"] if key else "",
                      "reason": _text(reason, field="missing", message=_("每一项都须写明补正要求。"), max_length=500)})
    submission = locked.events.filter(action__in=["submit", "supply"]).count()
    # Everything missing must be told at once: any further notice on the application is flagged.
    repeated = locked.supplement_notices.exists()
    text = _text(note, field="note", message="", max_length=1000, required=False)
    notice = SupplementNotice.objects.create(case=locked, submission=submission, missing=items, note=text,
                                             issued_by=actor, repeated=repeated)
    before = _move(locked, transition)
    update(locked)
    _issue_document(locked, DocumentKind.SUPPLEMENT, actor, missing=items, note=text)
    _record(locked, actor, "request_supplement", before, missing=[i["name"] or i["reason"] for i in items],
            repeated=repeated)
    _tell_applicant(locked, _("请补正申请材料"), _("您的申请 %(number)s 需要补正：%(items)s")
                    % {"number": locked.number,
                       "items": listing(f"{i['name']} {i['reason']}".strip() for i in items)})
    return notice


@transaction.atomic
def case_accept_on_receipt(*, case: Case) -> Case:
    """The window let the 5 working days pass: the case counts as accepted from receipt."""
    locked = _lock(case)
    if locked.status != S.SUBMITTED or locked.acceptance_due is None or locked.acceptance_due >= _today():
        return locked
    before = locked.status
    locked.status = S.IN_REVIEW
    locked.accepted_at = locked.submitted_at
    locked.accepted_on_receipt = True
    _start_clock(locked, locked.submitted_at)
    update(locked)
    _start_steps(locked, timezone.now(), None)
    _issue_document(locked, DocumentKind.ACCEPTANCE, None, accepted_at=locked.submitted_at.isoformat(),
                    promised_due=str(locked.promised_due or ""), legal_due=str(locked.legal_due or ""),
                    on_receipt=True)
    _record(locked, None, "accept_on_receipt", before, promised_due=str(locked.promised_due or ""))
    _tell_applicant(locked, _("申请已视为受理"), _("窗口未在法定期限内作出处理，您的申请 %(number)s 自收到之日起即为受理。")
                    % {"number": locked.number})
    return locked


@sweep(every_seconds=3600)
def accept_on_receipt_sweep() -> int:
    due = Case.objects.filter(status=S.SUBMITTED, acceptance_due__lt=_today())
    return sum(1 for case in due.only("pk") if case_accept_on_receipt(case=case).accepted_on_receipt)


# --- review steps (审查) ------------------------------------------------------------------------


# A case's open step, locked.
_OPEN_STEP_LOCK_READ = PreparedRead(
    lambda case: _open_steps(case).select_for_update(of=("self",)).values_list(*columns(CaseStep))[:1], case=int)


def _act_on_step(action: str, case: Case, actor: Any, step: CaseStep | None) -> tuple[Case, Transition, CaseStep]:
    """Lock the case and its open step, which must be the one the actor acted on (a page left
    open while a colleague acted names another: that is said before anything else), then check
    the action is allowed now and for this actor."""
    locked = _lock(case)
    current = None
    if locked.status in CASE_LIFECYCLE.transition(action).sources:
        current = next((loaded(CaseStep, row) for row in _OPEN_STEP_LOCK_READ.rows(case=locked.pk)), None)
        if current is None or (step is not None and step.pk != current.pk):
            raise DomainError(_("该环节已由他人办理，请刷新后查看。"))
        locked.locked_open_step = current
    try:
        transition = CASE_LIFECYCLE.check(action, state=locked.status, actor=actor, obj=locked)
    finally:
        locked.__dict__.pop("locked_open_step", None)  # the step changes next; nobody may read it stale
    return locked, transition, current


@transaction.atomic
def step_claim(*, actor: Any, case: Case, step: CaseStep | None = None) -> CaseStep:
    """Take the open step from the department's pool of its role."""
    locked, _transition, current = _act_on_step("claim", case, actor, step)
    if current.status == StepStatus.CLAIMED:
        raise DomainError(_("该环节已被 %(name)s 认领。") % {"name": current.assignee})
    current.status = StepStatus.CLAIMED
    current.assignee = actor
    current.save(update_fields=["status", "assignee"])
    _record(locked, actor, "claim", locked.status, step=current.name)
    return current


@transaction.atomic
def step_transfer(*, actor: Any, case: Case, to: User, reason: str, step: CaseStep | None = None) -> CaseStep:
    """Hand the open step to a colleague who holds its role (or back to the pool with to=None)."""
    locked, _transition, current = _act_on_step("transfer", case, actor, step)
    if _claimed_by_other(current, actor):
        raise DomainError(_("该环节已被 %(name)s 认领，只有认领人可以转办。") % {"name": current.assignee})
    text = _text(reason, field="reason", message=_("转办须写明原因。"), max_length=500)
    if to is not None and not may_act_on_step(to, locked, current):
        raise InvalidInput(_("接收人没有办理该环节的权限。"), field="to")
    current.assignee = to
    current.status = StepStatus.CLAIMED if to is not None else StepStatus.WAITING
    current.save(update_fields=["status", "assignee"])
    _record(locked, actor, "transfer", locked.status, note=text, step=current.name,
            to=to.get_username() if to else "")
    return current


def _finish_step(step: CaseStep, actor: Any, outcome: str, opinion: str) -> None:
    step.status = StepStatus.DONE
    step.assignee = actor
    step.finished_at = timezone.now()
    step.outcome = outcome
    step.opinion = opinion
    update(step)


def _claimed_by_other(step: CaseStep, actor: Any) -> bool:
    return step.status == StepStatus.CLAIMED and step.assignee_id != actor.pk


@transaction.atomic
def step_pass(*, actor: Any, case: Case, opinion: str, step: CaseStep | None = None) -> CaseStep:
    """通过: record the opinion and open the next step. The decision step ends with `case_decide`."""
    locked, _transition, current = _act_on_step("pass_step", case, actor, step)
    if current.kind == StepKind.DECIDE:
        raise DomainError(_("决定环节须作出准予或不予许可的决定。"))
    if _claimed_by_other(current, actor):
        raise DomainError(_("该环节已被 %(name)s 认领。") % {"name": current.assignee})
    text = _text(opinion, field="opinion", message=_("请填写审查意见。"))
    _finish_step(current, actor, StepOutcome.PASS, text)
    following = _open_step_at(locked, current.position + 1, _today())
    _record(locked, actor, "pass_step", locked.status, note=text, step=current.name, next=following.name)
    return following


@transaction.atomic
def step_return(*, actor: Any, case: Case, to_key: str, reason: str, step: CaseStep | None = None) -> CaseStep:
    """退回: send the case back to an earlier review step (not to acceptance), with the reason."""
    locked, _transition, current = _act_on_step("return_step", case, actor, step)
    if _claimed_by_other(current, actor):
        raise DomainError(_("该环节已被 %(name)s 认领。") % {"name": current.assignee})
    text = _text(reason, field="reason", message=_("退回须写明理由。"))
    template = locked.version.content["steps"]
    positions = {entry["key"]: position for position, entry in enumerate(template)}
    target = positions.get(to_key)
    if target is None or not 0 < target < current.position:
        raise InvalidInput(_("只能退回到本环节之前的审查环节。"), field="to_key")
    _finish_step(current, actor, StepOutcome.RETURN, text)
    reopened = _open_step_at(locked, target, _today())
    _record(locked, actor, "return_step", locked.status, note=text, step=current.name, to=reopened.name)
    return reopened


# --- special procedures and extension (特别程序、延长审批) ---------------------------------------------


def _published_procedure(case: Case, name: str, *, extension: bool) -> dict[str, Any]:
    for procedure in case.version.content.get("special_procedures", []):
        is_extension = procedure.get("kind") == SpecialProcedureKind.EXTENSION
        if procedure.get("name") == name and is_extension == extension:
            return procedure
    raise InvalidInput(_("办事指南未公布该特别程序，没有法定依据不得启动。"), field="name")


@transaction.atomic
def case_start_special(*, actor: Any, case: Case, name: str, reason: str,
                       step: CaseStep | None = None) -> SpecialProcedureRun:
    """现场勘察、听证、检验检测检疫、专家评审 …: only a procedure the guide publishes (with its
    legal basis and longest duration); the clock pauses until it ends."""
    locked, transition, _current = _act_on_step("start_special", case, actor, step)
    procedure = _published_procedure(locked, name, extension=False)
    text = _text(reason, field="reason", message=_("请写明启动特别程序的理由。"), max_length=1000)
    run = SpecialProcedureRun.objects.create(
        case=locked, kind=procedure["kind"], name=procedure["name"], max_days=procedure["max_days"],
        basis=procedure.get("basis", ""), reason=text, started_at=timezone.now(), started_by=actor,
    )
    before = _move(locked, transition)
    locked.paused_since = _today()
    update(locked)
    _record(locked, actor, "start_special", before, note=text, procedure=run.name, max_days=run.max_days)
    _tell_applicant(locked, _("办件进入特别程序"), _("您的申请 %(number)s 进入“%(name)s”，所需时间不计入办理时限，最长 %(days)s 个工作日。")
                    % {"number": locked.number, "name": run.name, "days": run.max_days})
    return run


@transaction.atomic
def case_end_special(*, actor: Any, case: Case, result: str, step: CaseStep | None = None) -> SpecialProcedureRun:
    """The procedure ends with its result; the clock runs again, the paused working days added
    to the case's and the open step's due dates. A procedure that took longer than its
    published maximum is recorded as such (supervision looks at `days_used > max_days`)."""
    locked, transition, _current = _act_on_step("end_special", case, actor, step)
    text = _text(result, field="result", message=_("请填写特别程序的结果。"))
    run = locked.special_procedures.filter(ended_at__isnull=True).exclude(kind=SpecialProcedureKind.EXTENSION).get()
    today = _today()
    used = clock.paused_working_days(locked.paused_since, today, locked.region)
    run.ended_at = timezone.now()
    run.ended_by = actor
    run.days_used = used
    run.result = text
    run.save(update_fields=["ended_at", "ended_by", "days_used", "result"])
    before = _move(locked, transition)
    locked.paused_days += used
    locked.paused_since = None
    clock.set_due_dates(locked)
    update(locked)
    step = _open_step(locked)
    if step is not None and step.due is not None and used:
        step.due = workdays.add_working_days(step.due, used, region=locked.region).date
        step.save(update_fields=["due"])
    _record(locked, actor, "end_special", before, note=text, procedure=run.name, days_used=used,
            over_limit=used > run.max_days, promised_due=str(locked.promised_due or ""))
    return run


@transaction.atomic
def case_extend(*, actor: Any, case: Case, days: int, reason: str, step: CaseStep | None = None) -> SpecialProcedureRun:
    """延长审批: a chief representative extends the limits by working days, within what the
    guide's extension procedure allows in total, with the reason recorded and told."""
    locked, _transition, _current = _act_on_step("extend", case, actor, step)
    procedures = [p for p in locked.version.content.get("special_procedures", [])
                  if p.get("kind") == SpecialProcedureKind.EXTENSION]
    if not procedures:
        raise DomainError(_("该事项的办事指南没有延长审批的规定，不能延长。"))
    allowed = max(p["max_days"] for p in procedures)
    if days.__class__ is not int or days < 1:
        raise InvalidInput(_("延长的工作日数须为正整数。"), field="days")
    if locked.extension_days + days > allowed:
        raise InvalidInput(_("累计延长不能超过 %(n)s 个工作日。") % {"n": allowed}, field="days")
    text = _text(reason, field="reason", message=_("延长审批须写明理由。"), max_length=1000)
    procedure = max(procedures, key=lambda p: p["max_days"])
    now = timezone.now()
    run = SpecialProcedureRun.objects.create(
        case=locked, kind=SpecialProcedureKind.EXTENSION, name=procedure["name"], max_days=allowed,
        basis=procedure.get("basis", ""), reason=text, started_at=now, started_by=actor, ended_at=now,
        ended_by=actor, days_used=days, result=_("延长 %(n)s 个工作日") % {"n": days},
    )
    locked.extension_days += days
    clock.set_due_dates(locked)
    update(locked)
    _record(locked, actor, "extend", locked.status, note=text, days=days, promised_due=str(locked.promised_due or ""),
            legal_due=str(locked.legal_due or ""))
    _tell_applicant(locked, _("办理期限延长"), _("您的申请 %(number)s 经批准延长 %(days)s 个工作日，理由：%(reason)s")
                    % {"number": locked.number, "days": days, "reason": text})
    return run


# --- decision, completion, delivery, archive ------------------------------------------------------


def _decide(locked: Case, actor: Any, decision: str, opinion: str, reasons: str, basis: str) -> None:
    """Record an approval (result issued) or a denial (reasons, legal basis, denial filing)."""
    if decision not in Decision.values:
        raise InvalidInput(_("请选择准予许可或不予许可。"), field="decision")
    now = timezone.now()
    locked.decision = decision
    locked.decided_at = now
    locked.decided_by = actor
    content = locked.version.content
    if decision == Decision.DENIED:
        locked.decision_opinion = _text(reasons, field="reasons", message=_("不予许可须写明理由。"))
        locked.decision_basis = _text(basis, field="basis", message=_("不予许可须写明法律依据。"))
        DenialFiling.objects.create(case=locked, department=locked.department, reasons=locked.decision_opinion,
                                    basis=locked.decision_basis, filed_by=actor)
        _issue_document(locked, DocumentKind.DENIAL, actor, reasons=locked.decision_opinion,
                        basis=locked.decision_basis,
                        remedy=str(_("如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
                                     "或者在六个月内依法提起行政诉讼。")))
        return
    locked.decision_opinion = _text(opinion, field="opinion", message=_("请填写决定意见。"))
    locked.result_name = content.get("result_name") or content.get("name", "")
    # 多证合一: the members' results are issued as one licence when the joint case concludes.
    merged = locked.joint_id is not None and locked.joint.composite.merge_results
    issued = None if merged else hooks.issue_result(locked)
    document = _issue_document(locked, DocumentKind.APPROVAL, actor, opinion=locked.decision_opinion,
                               result_name=locked.result_name, licence_number=issued.number if issued else "")
    locked.result_number = issued.number if issued else document.number
    locked.result_valid_until = issued.valid_until if issued else None


@transaction.atomic
def case_decide(
    *, actor: Any, case: Case, decision: str, opinion: str = "", reasons: str = "", basis: str = "",
    step: CaseStep | None = None,
) -> Case:
    """The decision step: approve (the result is issued: a licence through the licence library,
    or the approval document) or deny (with reasons and legal basis, filed for supervision)."""
    locked, transition, current = _act_on_step("decide", case, actor, step)
    if current.kind != StepKind.DECIDE:
        raise DomainError(_("办件尚未进入决定环节。"))
    if _claimed_by_other(current, actor):
        raise DomainError(_("该环节已被 %(name)s 认领。") % {"name": current.assignee})
    _decide(locked, actor, decision, opinion, reasons, basis)
    before = _move(locked, transition)
    update(locked)
    _finish_step(current, actor, StepOutcome.PASS if decision == Decision.APPROVED else StepOutcome.OTHER,
                 locked.decision_opinion)
    _record(locked, actor, "decide", before, decision=decision, note=locked.decision_opinion,
            basis=locked.decision_basis, result_number=locked.result_number)
    _tell_applicant(locked, _("办件已作出决定"), _("您的申请 %(number)s：%(decision)s。")
                    % {"number": locked.number, "decision": Decision(locked.decision).label})
    return locked


@transaction.atomic
def denial_filing_mark_reviewed(
    *, actor: Any, filing: DenialFiling, opinion: str, audited_by_caller: bool = False
) -> DenialFiling:
    """Record the review of a denial filing (否定报备): who, when and the opinion, once only. A
    supervisor of the filing's department or a platform administrator; anyone else gets NotFound.
    Supervision's denial review calls it inside its own service and records the whole review in
    its own audit entry (`audited_by_caller`), so that one review leaves one entry."""
    locked = (DenialFiling.objects.select_for_update(of=("self",)).select_related("case", "department__region")
              .filter(pk=getattr(filing, "pk", None)).first())
    if locked is None or not (is_platform_admin(actor)
                              or has_role(actor, Role.SUPERVISOR, department=locked.department)):
        raise NotFound(_("没有找到该否定报备。"))
    opinion = _text(opinion, field="opinion", message=_("请填写审查意见。"))
    if locked.reviewed_at is not None:
        raise DomainError(_("该否定报备已审查。"))
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = actor
    locked.review_opinion = opinion
    locked.save(update_fields=["reviewed_at", "reviewed_by", "review_opinion", "updated_at"])
    if not audited_by_caller:
        audit.record(actor=actor, action="cases.denial_filing.review", target=locked.case,
                     after={"number": locked.case.number, "filing": locked.pk, "opinion": opinion})
    return locked


def _decide_at_once(locked: Case, actor: Any, transition: Transition, decision: str, opinion: str, reasons: str,
                    basis: str) -> str:
    """Accepted, decided and completed in one go: every step of the template done at once. The
    caller saves the case."""
    now = timezone.now()
    locked.accepted_at = now
    locked.accepted_by = actor
    _start_clock(locked, now)
    _decide(locked, actor, decision, opinion, reasons, basis)
    before = _move(locked, transition)
    locked.completed_at = now
    assignee = actor if getattr(actor, "pk", None) else None
    insert(*[
        CaseStep(case=locked, position=position, key=template["key"], name=template["name"], kind=template["kind"],
                 role=template["role"], limit_days=template["limit_days"], status=StepStatus.DONE, assignee=assignee,
                 started_at=now, due=locked.clock_start, finished_at=now, outcome=StepOutcome.PASS,
                 opinion=locked.decision_opinion)
        for position, template in enumerate(locked.version.content["steps"])
    ])
    return before


@transaction.atomic
def case_decide_on_spot(*, actor: Any, case: Case, decision: str, opinion: str = "", reasons: str = "",
                        basis: str = "") -> Case:
    """即办件: accepted, decided and completed at the window in one go, by a clerk who may decide
    the item (the template's decision step is the window's, or the clerk is an authorised chief
    representative)."""
    locked, transition = _act("decide_on_spot", case, actor)
    if locked.version.content.get("case_type") != CaseType.IMMEDIATE:
        raise DomainError(_("只有即办件可以当场办结。"))
    decide_step = locked.version.content["steps"][-1]
    allowed = (may_decide(actor, locked.department, locked.item.impl_code)
               if decide_step["role"] == Role.APPROVER else has_role(actor, decide_step["role"], department=locked.department))
    if not allowed:
        raise PermissionDenied(_("您没有该事项的决定权限。"))
    before = _decide_at_once(locked, actor, transition, decision, opinion, reasons, basis)
    update(locked)
    _record(locked, actor, "decide_on_spot", before, decision=decision, result_number=locked.result_number)
    _tell_applicant(locked, _("办件已当场办结"), _("您的申请 %(number)s 已当场办结：%(decision)s。")
                    % {"number": locked.number, "decision": Decision(locked.decision).label})
    return locked


def case_auto_decide(*, case: Case) -> Case:
    """智慧审批: the item's approval rules look at a submitted case once. A submission is judged
    as it is made (`case_submit`); this is for the sweep, when that moment was lost (the rules
    were published while the case waited, or the process stopped). When they decide, the case is
    accepted, decided and completed without a person, the explanation of every rule on the case;
    when a rule cannot be evaluated, the item does not allow an automatic denial or the decision
    cannot be carried out, the explanation is recorded and the window handles the case as usual.
    Any other case is returned unchanged."""
    if not hooks.may_auto_decide(case.item_id):  # no rules for the item: not even a transaction
        return case
    return _judged(lambda refusal: _auto_decide(case, refusal))


@transaction.atomic
def _auto_decide(case: Case, refusal: str) -> Case:
    locked = _lock(case)
    # A member of a joint case is accepted by the lead window with the others (一口受理).
    if locked.status != S.SUBMITTED or locked.auto_checked_at is not None or locked.joint_id is not None:
        return locked
    _judge(locked, refusal)
    update(locked)
    return locked


class _DecisionRefused(Exception):
    """The rules decided, and carrying the decision out was refused (its licence cannot be
    issued, say): the transaction that tried is rolled back whole and the case judged again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _judged(attempt: Callable[[str], Case]) -> Case:
    """`attempt(refusal)`, a transaction that judges a case: once with no refusal, and, when
    the decision it reached was refused, once more with the reason, so that the case goes to the
    window with it. A refusal is rare; rolling back and redoing the transaction then spares every
    decision a savepoint."""
    try:
        return attempt("")
    except _DecisionRefused as refused:
        return attempt(refused.reason)


def _judge(locked: Case, refusal: str) -> None:
    """The rules' verdict on a submitted case, locked in the caller's transaction, carried out;
    the caller saves the case (a submission writes its row once, submitted and decided). With a
    `refusal` (`_judged`) a decision of the rules is not carried out again: the reason joins the
    explanation and the window handles the case."""
    locked.auto_checked_at = timezone.now()
    verdict = hooks.auto_decision(locked)
    if verdict is None:  # the item has no rules
        return
    explanation = "\n".join(verdict.explanation) or str(_("（规则未给出说明）"))
    if verdict.outcome in (Decision.APPROVED, Decision.DENIED):
        if not refusal:
            try:
                _decide_by_rules(locked, verdict, explanation)
            except DomainError as refused:
                raise _DecisionRefused(refused.message) from refused
            return
        explanation = f"{explanation}\n{refusal}"
    transition = CASE_LIFECYCLE.check("auto_check", state=locked.status, actor=None, obj=locked)
    _record(locked, None, transition.action, locked.status, note=explanation, rule_set=verdict.rule_set,
            explanation=verdict.explanation)


def _decide_by_rules(locked: Case, verdict: hooks.AutoDecision, explanation: str) -> None:
    transition = CASE_LIFECYCLE.check("auto_decide", state=locked.status, actor=None, obj=locked)
    basis = locked.version.content.get("legal_basis") or verdict.rule_set
    before = _decide_at_once(locked, None, transition, verdict.outcome, explanation, explanation, basis)
    _record(locked, None, transition.action, before, note=explanation, decision=verdict.outcome,
            rule_set=verdict.rule_set, explanation=verdict.explanation, result_number=locked.result_number)
    _tell_applicant(locked, _("办件已智能审批办结"), _("您的申请 %(number)s 已按审批规则自动办结：%(decision)s。")
                    % {"number": locked.number, "decision": Decision(locked.decision).label})


@sweep(every_seconds=60)
def auto_decide_sweep() -> int:
    """Submitted cases whose rules were not looked at (the process stopped right after a
    submission): the rules look at them now."""
    since = hooks.rules_since()
    if not since:
        return 0
    # Only cases submitted while their item had rules: the others were never meant for them.
    with_rules = reduce(operator.or_, (Q(item_id=item, submitted_at__gte=moment)
                                                 for item, moment in since.items()))
    waiting = Case.objects.filter(with_rules, status=S.SUBMITTED, auto_checked_at__isnull=True,
                                  joint__isnull=True).order_by("submitted_at")[:200]
    return sum(case_auto_decide(case=case).status != S.SUBMITTED for case in waiting)


# The 容缺 materials a case still waits for.
_OUTSTANDING_READ = PreparedRead(
    lambda case: DeferredMaterial.objects.filter(case_id=case, supplied_at__isnull=True)
    .order_by(*DeferredMaterial._meta.ordering).values_list("name"),
    case=int,
)


@transaction.atomic
def case_complete(*, actor: Any, case: Case) -> Case:
    """办结: the result is made (licence printed, document sealed) and ready to deliver. An
    approval with 容缺 materials still outstanding cannot be completed."""
    locked, transition = _act("complete", case, actor)
    outstanding = [material["name"] for material in _OUTSTANDING_READ.rows(case=locked.pk)]
    if locked.decision == Decision.APPROVED and outstanding:
        raise DomainError(_("容缺材料尚未补齐：%(names)s。") % {"names": listing(outstanding)})
    before = _move(locked, transition)
    locked.completed_at = timezone.now()
    update(locked)
    _record(locked, actor, "complete", before, result_number=locked.result_number)
    _tell_applicant(locked, _("办件已办结"), _("您的申请 %(number)s 已办结，请按选择的方式领取结果。")
                    % {"number": locked.number})
    return locked


@transaction.atomic
def case_deliver(
    *, actor: Any, case: Case, method: str, address: str = "", recipient: str = "", carrier: str = "",
    tracking_number: str = "",
) -> Case:
    """送达: window pickup (a trip to the hall), post (address, carrier, tracking number) or
    electronic delivery, in a way the guide offers."""
    locked, transition = _act("deliver", case, actor)
    offered = locked.version.content.get("delivery_methods") or []
    if method not in DeliveryMethod.values:
        raise InvalidInput(_("送达方式无效。"), field="method")
    if method not in offered:
        raise InvalidInput(_("该事项不提供“%(method)s”。") % {"method": DeliveryMethod(method).label}, field="method")
    if method == DeliveryMethod.POST:
        locked.delivery_address = _text(address, field="address", message=_("请填写送达地址。"), max_length=300)
        locked.delivery_recipient = _text(recipient, field="recipient", message=_("请填写收件人。"), max_length=50)
        locked.carrier = _text(carrier, field="carrier", message=_("请填写物流公司。"), max_length=50)
        locked.tracking_number = _text(tracking_number, field="tracking_number", message=_("请填写物流单号。"),
                                       max_length=50)
    if method == DeliveryMethod.WINDOW:
        locked.visits += 1
    before = _move(locked, transition)
    locked.delivery_method = method
    locked.delivered_at = timezone.now()
    update(locked)
    _record(locked, actor, "deliver", before, method=method, carrier=locked.carrier,
            tracking_number=locked.tracking_number)
    _tell_applicant(locked, _("办理结果已送达"), _("您的申请 %(number)s 的结果已%(method)s。")
                    % {"number": locked.number, "method": DeliveryMethod(method).label})
    return locked


@transaction.atomic
def case_archive(*, actor: Any, case: Case) -> CaseArchive:
    """归档: the case's electronic archive, a manifest of everything with hashes, sealed by the
    manifest's hash on the audit ledger."""
    locked, transition = _act("archive", case, actor)
    if not locked.number:
        raise DomainError(_("未提交的申请无需归档。"))
    before = _move(locked, transition)
    now = timezone.now()
    locked.archived_at = now
    update(locked)
    # Stored as the JSON it is hashed as (dates as ISO text), so the stored copy re-hashes the same.
    encoded = archive.manifest_bytes(archive.build_manifest(locked, archived_at=now))
    manifest = json.loads(encoded)
    digest = hashlib.sha256(encoded).hexdigest()
    record = CaseArchive.objects.create(case=locked, manifest=manifest, manifest_sha256=digest, created_at=now,
                                        created_by=actor)
    _record(locked, actor, "archive", before, manifest_sha256=digest)
    return record


@transaction.atomic
def case_record_visit(*, actor: Any, case: Case) -> Case:
    """The applicant came to the hall for this case (跑动次数)."""
    locked, _transition = _act("record_visit", case, actor)
    locked.visits += 1
    update(locked)
    _record(locked, actor, "record_visit", locked.status, visits=locked.visits)
    return locked


# --- 容缺 deadlines ------------------------------------------------------------------------------


@transaction.atomic
def case_terminate(*, case: Case, reason: str) -> Case:
    """终止: 容缺 materials not supplied by their deadline end the case."""
    locked, transition = _act("terminate", case, None)
    before = _move(locked, transition)
    locked.ended_reason = reason
    locked.paused_since = None
    update(locked)
    locked.steps.exclude(status=StepStatus.DONE).update(status=StepStatus.DONE, finished_at=timezone.now(),
                                                        outcome=StepOutcome.OTHER, opinion=reason)
    _issue_document(locked, DocumentKind.TERMINATION, None, reason=reason)
    _record(locked, None, "terminate", before, note=reason)
    _tell_applicant(locked, _("办件已终止"), _("您的申请 %(number)s 已终止办理：%(reason)s")
                    % {"number": locked.number, "reason": reason})
    return locked


@sweep(every_seconds=3600)
def deferral_sweep() -> int:
    """Remind applicants before a 容缺 deadline; end cases whose deadline passed unsupplied."""
    today = _today()
    warn_by = workdays.add_working_days(today, DEFERRAL_WARNING_DAYS).date
    handled = 0
    reminders = DeferredMaterial.objects.filter(supplied_at__isnull=True, warned_at__isnull=True, due__lte=warn_by,
                                                due__gte=today, case__status__in=(S.IN_REVIEW, S.SPECIAL))
    for deferred in reminders.select_related("case", "case__applicant"):
        handled += _remind_deferral(deferred)
    late = (Case.objects.filter(status__in=(S.IN_REVIEW, S.SPECIAL),
                                deferred_materials__supplied_at__isnull=True, deferred_materials__due__lt=today)
            .distinct())
    for case in late.only("pk"):
        names = listing(case.deferred_materials.filter(supplied_at__isnull=True).values_list("name", flat=True))
        case_terminate(case=case, reason=_("容缺材料（%(names)s）逾期未补交。") % {"names": names})
        handled += 1
    return handled


@transaction.atomic
def _remind_deferral(deferred: DeferredMaterial) -> int:
    # Conditional update: two workers running the sweep remind once.
    if not DeferredMaterial.objects.filter(pk=deferred.pk, warned_at__isnull=True).update(warned_at=timezone.now()):
        return 0
    case = deferred.case
    audit.record(actor=None, action="cases.remind_deferral", target=case,
                 after={"material": deferred.material_key, "due": str(deferred.due)})
    _tell_applicant(case, _("请按时补交容缺材料"), _("您的申请 %(number)s 须在 %(due)s 前补交“%(name)s”，逾期将终止办理。")
                    % {"number": case.number, "due": deferred.due, "name": deferred.name})
    return 1


# --- joint handling of a composite service (一件事联办) ----------------------------------------------

# A member case has its outcome: decided (or decided at once), or ended without a decision.
MEMBER_ENDS = frozenset({S.DECIDED, S.COMPLETED, S.DELIVERED, S.ARCHIVED, S.NOT_ACCEPTED, S.WITHDRAWN,
                         S.TERMINATED})
JOINT_KEY_SUFFIX = 4  # "-01" … : the member's idempotency key is the joint key and its position


def _lock_joint(joint: JointCase) -> JointCase:
    return (JointCase.objects.select_for_update(of=("self",))
            .select_related("composite", "lead_department", "lead_department__region", "applicant").get(pk=joint.pk))


def _joint_members(joint: JointCase) -> list[Case]:
    return list(joint.members.select_related("item").order_by("pk"))


def _record_joint(joint: JointCase, actor: Any, action: str, before: str, **facts: Any) -> None:
    audit.record(actor=actor, action=f"cases.joint.{action}", target=joint, before={"status": before},
                 after={"status": joint.status, "number": joint.number or "", **facts})


def _own_joint(actor: Any, joint: JointCase) -> None:
    if getattr(actor, "pk", None) != joint.applicant_id:
        raise NotFound(_("没有找到该联办件。"))


@transaction.atomic
def joint_start(*, actor: Any, composite_service: CompositeService, enterprise: Enterprise | None = None) -> JointCase:
    """One application for every member item of a published composite: a draft member case per
    item, filled in and handed in through the joint case."""
    if composite_service.status != CompositeStatus.PUBLISHED:
        raise NotFound(_("没有找到该一件事，或它尚未发布。"))
    members = [member.item for member in composite_service.members.select_related("item")]
    joint = JointCase.objects.create(composite=composite_service, lead_department=composite_service.lead_department,
                                     applicant=actor, enterprise=enterprise)
    for item in members:
        case = case_start(actor=actor, item=item, enterprise=enterprise)
        case.joint = joint
        case.save(update_fields=["joint"])
    _record_joint(joint, actor, "start", "", items=[item.impl_code for item in members])
    return joint


def joint_application(joint: JointCase) -> combining.CombinedApplication:
    """The combined form and material list the member cases were started with."""
    return combining.combine([combining.Member(case.item_id, case.item.name, case.version.content)
                              for case in joint.members.select_related("item", "version").order_by("pk")])


@transaction.atomic
def joint_save_form(*, actor: Any, joint: JointCase, data: dict[str, Any]) -> JointCase:
    """Save the combined form: each member case gets the fields of its own form."""
    _own_joint(actor, joint)
    locked = _lock_joint(joint)
    if locked.status != JointStatus.DRAFT:
        raise DomainError(_("联办件已提交，不能再修改申请表。"))
    if not isinstance(data, dict):
        raise InvalidInput(_("申请表内容格式不对。"), field="form_data")
    known = {field["key"] for field in joint_application(locked).fields}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(_("申请表中没有这些字段：%(keys)s。") % {"keys": "、".join(unknown)}, field="form_data")
    for case in _joint_members(locked):
        own = {field["key"] for field in case.version.content.get("form", {}).get("fields", [])}
        case_save_form(actor=actor, case=case, data={key: value for key, value in data.items() if key in own})
    locked.form_data = data
    locked.save(update_fields=["form_data", "updated_at"])
    _record_joint(locked, actor, "save_form", locked.status)
    return locked


@transaction.atomic
def joint_attach(*, actor: Any, joint: JointCase, material_key: str, uploaded_file: Any) -> JointCase:
    """Hand in a material of the combined list once: it is attached to every member asking for it."""
    _own_joint(actor, joint)
    locked = _lock_joint(joint)
    material = next((m for m in joint_application(locked).materials if m.key == material_key), None)
    if material is None:
        raise InvalidInput(_("材料清单中没有该材料。"), field="material_key")
    # Before submission every member takes it; after a joint supplement notice, those told to.
    open_states = (S.DRAFT,) if locked.status == JointStatus.DRAFT else (S.SUPPLEMENT,)
    cases = {case.item_id: case for case in _joint_members(locked) if case.status in open_states}
    receiving = [(cases[item_id], member_key) for item_id, member_key in material.members if item_id in cases]
    if not receiving:
        raise DomainError(_("联办件当前不能添加该材料。"))
    for case, member_key in receiving:
        uploaded_file.seek(0)
        case_attach(actor=actor, case=case, material_key=member_key, uploaded_file=uploaded_file)
    _record_joint(locked, actor, "attach", locked.status, material=material.name, members=len(material.members))
    return locked


@transaction.atomic
def joint_submit(*, actor: Any, joint: JointCase, idempotency_key: str) -> JointCase:
    """Submit every member at once; a retry with the same key returns the submitted joint case.
    A member that cannot be submitted (a required material missing) stops them all."""
    _own_joint(actor, joint)
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if not 8 <= len(key) <= 64 - JOINT_KEY_SUFFIX:
        raise InvalidInput(_("提交须带8至60个字符的幂等键。"), field="idempotency_key")
    locked = _lock_joint(joint)
    if locked.idempotency_key == key:
        return locked
    if locked.status != JointStatus.DRAFT:
        raise DomainError(_("该联办件已经提交。"))
    for position, case in enumerate(_joint_members(locked), start=1):
        case_submit(actor=actor, case=case, idempotency_key=f"{key}-{position:02d}", joint_member=True)
    now = timezone.now()
    locked.number = f"{locked.composite.code}{timezone.localdate(now):%Y%m%d}" \
                    f"{numbering.next_serial(locked.composite.code, timezone.localdate(now)):04d}"
    locked.query_code = numbering.query_code()
    locked.idempotency_key = key
    locked.submitted_at = now
    locked.status = JointStatus.SUBMITTED
    update(locked)
    _record_joint(locked, actor, "submit", JointStatus.DRAFT)
    _tell_applicant(locked, _("一件事申请已提交"), _("您的“%(name)s”申请（联办件编号 %(number)s）已提交，"
                                                "将由牵头部门统一受理。") % {"name": locked.composite.name,
                                                                      "number": locked.number})
    return locked


@transaction.atomic
def joint_accept(*, actor: Any, joint: JointCase) -> JointCase:
    """一口受理: the lead department's window accepts every member at once; each member case runs
    in its own department under its own clock, all within the joint promised date."""
    locked = _lock_joint(joint)
    if not has_role(actor, Role.WINDOW_CLERK, department=locked.lead_department):
        raise PermissionDenied(_("只有牵头部门的窗口人员可以受理联办件。"))
    if locked.status != JointStatus.SUBMITTED:
        raise DomainError(_("该联办件不在待受理状态。"))
    members = _joint_members(locked)
    if all(case.status in MEMBER_ENDS for case in members):
        raise DomainError(_("联办件的全部事项都已不予受理或撤回，无可受理的事项。"))
    for case in members:
        if case.status not in MEMBER_ENDS:  # a member refused or withdrawn on its own stays so
            case_accept(actor=actor, case=case)
    now = timezone.now()
    locked.accepted_at = now
    locked.accepted_by = actor
    locked.joint_due = workdays.add_working_days(timezone.localdate(now), locked.composite.joint_limit_days,
                                                 region=locked.lead_department.region).date
    locked.status = JointStatus.IN_PROGRESS
    update(locked)
    _record_joint(locked, actor, "accept", JointStatus.SUBMITTED, joint_due=str(locked.joint_due))
    return locked


@transaction.atomic
def joint_request_supplement(*, actor: Any, joint: JointCase, missing: list[dict[str, str]],
                             note: str = "") -> list[SupplementNotice]:
    """One one-time notice for the whole joint application, from the lead department's window: a
    missing material (by its key in the combined list) is asked of every member that needs it;
    a point without a material, of every member."""
    locked = _lock_joint(joint)
    if not has_role(actor, Role.WINDOW_CLERK, department=locked.lead_department):
        raise PermissionDenied(_("只有牵头部门的窗口人员可以一次性告知补正。"))
    if locked.status != JointStatus.SUBMITTED:
        raise DomainError(_("该联办件不在待受理状态。"))
    if not isinstance(missing, list) or not missing:
        raise InvalidInput(_("请列明需要补正的全部材料或事项。"), field="missing")
    materials = {material.key: material for material in joint_application(locked).materials}
    cases = {case.item_id: case for case in _joint_members(locked)}
    asked: dict[int, list[dict[str, str]]] = {}
    for entry in missing:
        key = entry.get("material_key", "") if isinstance(entry, dict) else ""
        reason = entry.get("reason", "") if isinstance(entry, dict) else ""
        if key and key not in materials:
            raise InvalidInput(_("材料清单中没有材料“%(key)s”。") % {"key": key}, field="missing")
        targets = materials[key].members if key else [(item_id, "") for item_id in cases]
        for item_id, member_key in targets:
            asked.setdefault(item_id, []).append({"material_key": member_key, "reason": reason})
    notices = [case_request_supplement(actor=actor, case=cases[item_id], missing=entries, note=note)
               for item_id, entries in asked.items()]
    _record_joint(locked, actor, "request_supplement", locked.status,
                  members=[cases[item_id].number for item_id in asked])
    return notices


@transaction.atomic
def joint_supply(*, actor: Any, joint: JointCase) -> JointCase:
    """Hand in what the joint notice asked for: every member told to supply goes back to the window."""
    _own_joint(actor, joint)
    locked = _lock_joint(joint)
    supplying = [case for case in _joint_members(locked) if case.status == S.SUPPLEMENT]
    if locked.status != JointStatus.SUBMITTED or not supplying:
        raise DomainError(_("该联办件没有待补正的事项。"))
    for case in supplying:
        case_supply(actor=actor, case=case)
    _record_joint(locked, actor, "supply", locked.status, members=[case.number for case in supplying])
    return locked


@transaction.atomic
def joint_record_meeting(*, actor: Any, joint: JointCase, held_on: dt.date, departments: list[Any],
                         conclusion: str) -> JointMeeting:
    """联席会商: where member departments must agree, the lead department records who met and
    what they concluded, on the joint case."""
    locked = _lock_joint(joint)
    lead_staff = locked.lead_department.pk in staff_department_ids(actor)
    if not lead_staff:
        raise PermissionDenied(_("只有牵头部门的工作人员可以记录联席会商。"))
    if locked.status != JointStatus.IN_PROGRESS:
        raise DomainError(_("只有并联办理中的联办件可以记录联席会商。"))
    member_departments = {case.department_id for case in _joint_members(locked)}
    chosen = {department.pk for department in departments}
    if len(chosen) < 2 or not chosen <= member_departments | {locked.lead_department_id}:
        raise InvalidInput(_("请选择参加会商的至少两个成员部门。"), field="departments")
    if not isinstance(held_on, dt.date) or held_on > _today():
        raise InvalidInput(_("会商日期不能晚于今天。"), field="held_on")
    text = _text(conclusion, field="conclusion", message=_("请填写会商结论。"), max_length=4000)
    meeting = JointMeeting.objects.create(joint=locked, held_on=held_on, conclusion=text, recorded_by=actor)
    meeting.departments.set(sorted(chosen))
    _record_joint(locked, actor, "meeting", locked.status, held_on=str(held_on), departments=sorted(chosen))
    return meeting


def _joint_progress(member: Case) -> None:
    """A member has its outcome; once every member has one, the joint case has its own: done,
    partly done, or denied as a whole where the composite says one denial denies all."""
    joint = _lock_joint(member.joint)
    if joint.status != JointStatus.IN_PROGRESS:
        return
    members = _joint_members(joint)
    outcomes = {case.pk: (member if case.pk == member.pk else case) for case in members}
    if any(case.status not in MEMBER_ENDS for case in outcomes.values()):
        return
    granted = [case for case in outcomes.values() if case.decision == Decision.APPROVED]
    if not granted or (len(granted) < len(members) and joint.composite.denial_rule == MemberDenialRule.DENY_ALL):
        joint.status = JointStatus.DENIED
    else:
        joint.status = JointStatus.COMPLETED if len(granted) == len(members) else JointStatus.PARTIAL
    joint.completed_at = timezone.now()
    joint.save(update_fields=["status", "completed_at", "updated_at"])
    merged = _merge_results(joint, granted) if joint.status != JointStatus.DENIED else None
    _record_joint(joint, None, "conclude", JointStatus.IN_PROGRESS, granted=[case.number for case in granted],
                  merged_result=merged or "")
    _tell_applicant(joint, _("一件事办理完毕"), _("您的“%(name)s”（联办件编号 %(number)s）：%(status)s。")
                    % {"name": joint.composite.name, "number": joint.number, "status": joint.get_status_display()})


def _merge_results(joint: JointCase, granted: list[Case]) -> str | None:
    """多证合一: where the composite merges its results, the granted members' results become one
    licence (the library issues it), and each member's result is that licence."""
    if not joint.composite.merge_results:
        return None
    issued = hooks.issue_merged_result(joint, granted)
    if issued is None:  # no member's result is a licence: each keeps its approval document
        return None
    for case in granted:
        case.result_number, case.result_valid_until = issued.number, issued.valid_until
    Case.objects.bulk_update(granted, ["result_number", "result_valid_until"])
    return issued.number


@transaction.atomic
def joint_deliver(*, actor: Any, joint: JointCase, method: str, **delivery: str) -> JointCase:
    """All results handed over together by the lead department (统一出件). Where one denial denies
    the whole joint case, no result is handed over."""
    locked = _lock_joint(joint)
    if not has_role(actor, Role.WINDOW_CLERK, department=locked.lead_department):
        raise PermissionDenied(_("只有牵头部门的窗口人员可以统一送达。"))
    if locked.status not in (JointStatus.COMPLETED, JointStatus.PARTIAL):
        raise DomainError(_("联办件尚未办结，或整体不予许可，不能送达结果。"))
    delivered = []
    for case in _joint_members(locked):
        if case.decision != Decision.APPROVED:
            continue
        if case.status == S.DECIDED:
            case = case_complete(actor=actor, case=case)
        if case.status == S.COMPLETED:
            delivered.append(case_deliver(actor=actor, case=case, method=method, **delivery).number)
    before = locked.status
    locked.status = JointStatus.DELIVERED
    locked.delivered_at = timezone.now()
    locked.save(update_fields=["status", "delivered_at", "updated_at"])
    _record_joint(locked, actor, "deliver", before, method=method, delivered=delivered)
    return locked
