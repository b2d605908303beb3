"""/api/cases/: applications and cases (办件) for other front ends (mobile apps, hall kiosks)
and the province platform.

Every operation needs a bearer token or a browser session, as /api/accounts/ does, except the
public progress lookup by case number and query code. A caller sees exactly what the web shows
them (`cases.selectors`): a case outside their scope is a 404, never its data. An action the
caller may not take on a case they can see is a 403; one the case's state does not allow is a
409 saying why; bad input is a 400 naming the `field`; a malformed request (wrong type, id out
of range) is a 422.

Field descriptions name the GB/T 39046-2020 data element a field carries (§6.2 办事申请,
§6.3 事项受理, §6.4 事项办理, §6.5 事项办结).

Submitting is idempotent: the key comes in the `Idempotency-Key` header or the body's
`idempotency_key`, and a retry with the same key answers 200 with the same case. Step actions
take an optional `step_id`, the step the caller's screen showed: if someone else has moved the
case on since, the action is refused (409) instead of landing on a step the caller never saw.
"""

import datetime as dt
import re
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import (
    Body,
    Field,
    File,
    Form,
    Header,
    Path,
    Query,
    Router,
    Schema,
    Status,
    UploadedFile,
)

from onewindow.accounts.auth import api_auth
from onewindow.accounts.choices import AccountKind
from onewindow.accounts.models import User
from onewindow.accounts.selectors import enterprise_get
from onewindow.cases import clock, selectors, services
from onewindow.cases.choices import CaseStatus, Channel, Decision, DeliveryMethod, StepStatus, Urgency
from onewindow.cases.models import (
    Case,
    CaseArchive,
    CaseDocument,
    CaseEvent,
    CaseMaterial,
    CaseStep,
    DeferredMaterial,
    SpecialProcedureRun,
    SupplementNotice,
)
from onewindow.catalogue import selectors as catalogue_selectors
from onewindow.catalogue.choices import CaseType
from onewindow.catalogue.guide import choice_label
from onewindow.core.api import (
    ACTION_ERRORS,
    AUTH_ERRORS,
    READ_ERRORS,
    ErrorOut,
    ValidationErrorOut,
)
from onewindow.core.errors import InvalidInput, NotFound

router = Router(tags=["cases"], auth=api_auth)

MAX_ID = 2**63 - 1
MAX_LIMIT = 100
MAX_OFFSET = 100_000
_IMPL_CODE = re.compile(r"[0-9A-Za-z-]{1,36}")


# --- input types --------------------------------------------------------------------------------


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _case_id() -> Any:
    return Path(..., ge=1, le=MAX_ID, description="The case's id")


class StartIn(Schema):
    impl_code: str = Field(description="实施编码 of a published item (GB/T 39046 §6.2)")
    enterprise_id: Id | None = Field(None, description="Apply in the name of this enterprise (you must be its handler)")


class WindowFilingIn(Schema):
    impl_code: str = Field(description="实施编码 of a published item of your department")
    id_number: str = Field(description="The applicant's identity document number (证件号码), checked at the window")
    real_name: str = Field(description="The applicant's name as on the document")


class FormIn(Schema):
    form_data: dict[str, Any] = Field(description="The application form (申请表) as typed so far, by field key")


class SubmitIn(Schema):
    idempotency_key: str | None = Field(
        None, description="8–64 characters, new for each application; the Idempotency-Key header may carry it instead"
    )
    deferral: list[str] = Field([], description="Keys of secondary materials to hand in later (容缺受理)")
    commitment: str = Field("", description="The applicant's signed undertaking for 容缺受理")


class ReasonIn(Schema):
    reason: str = ""


class AcceptIn(Schema):
    deferred_due: dt.date | None = Field(
        None, description="Deadline for 容缺 materials (default and latest: the promised completion date)"
    )


class RefuseIn(Schema):
    reasons: str = Field("", description="不予受理理由")
    basis: str = Field("", description="不予受理依据 (the legal basis)")


class MissingIn(Schema):
    material_key: str = Field("", description="A material of the guide, or empty for something else")
    reason: str = Field("", description="What must be corrected or supplied")


class SupplementIn(Schema):
    missing: list[MissingIn] = Field([], description="Everything missing, all at once (一次性告知)")
    note: str = ""


class StepIn(Schema):
    step_id: Id | None = Field(None, description="The open step the caller acts on; a stale one is refused (409)")


class TransferIn(StepIn):
    to_user_id: Id | None = Field(None, description="The colleague to hand the step to; none returns it to the pool")
    reason: str = ""


class PassIn(StepIn):
    opinion: str = Field("", description="处理意见 (GB/T 39046 §6.4)")


class ReturnIn(StepIn):
    to_key: str = Field("", description="Key of an earlier review step of the process")
    reason: str = ""


class SpecialStartIn(StepIn):
    name: str = Field("", description="特别程序名称, one the guide publishes")
    reason: str = Field("", description="理由或依据")


class SpecialEndIn(StepIn):
    result: str = Field("", description="特别程序结果")


class ExtendIn(StepIn):
    days: int = Field(description="Working days to add to the time limits (延长审批)")
    reason: str = ""


class DecideIn(Schema):
    decision: str = Field("", description='"approved" (准予许可) or "denied" (不予许可)')
    opinion: str = Field("", description="决定意见, for an approval")
    reasons: str = Field("", description="不予许可理由, for a denial")
    basis: str = Field("", description="不予许可的法律依据, for a denial")


class DecideStepIn(DecideIn, StepIn):
    pass


class DeliverIn(Schema):
    method: str = Field("", description='送达方式: "window", "post" or "electronic", as the guide offers')
    address: str = Field("", description="送达地址 (post)")
    recipient: str = Field("", description="收件人 (post)")
    carrier: str = Field("", description="物流公司 (post)")
    tracking_number: str = Field("", description="物流单号 (post)")


# --- output schemas -----------------------------------------------------------------------------




class ItemRef(Schema):
    impl_code: str = Field(description="实施编码")
    name: str = Field(description="事项名称")
    case_type: str = Field(description="办件类型 code (GB/T 39046 A.6): 1 即办件, 2 承诺件, 9 其他")
    case_type_label: str


class CaseDepartmentRef(Schema):
    id: int
    name: str = Field(description="受理单位名称 (GB/T 39046 §6.3)")
    uscc: str = Field(description="受理单位统一社会信用代码")


class PersonRef(Schema):
    id: int
    name: str


class CaseOut(Schema):
    id: int
    number: str | None = Field(description="办件编号 (GB/T 39046 §6.2): 实施编码 + yyyyMMdd + daily serial; null for a draft")
    query_code: str = Field(description="查询码 for the public progress lookup; empty for a draft")
    status: str = Field(description="Case status code")
    status_label: str
    item: ItemRef
    department: CaseDepartmentRef
    region_code: str = Field(description="行政区划 (GB/T 2260)")
    applicant: PersonRef = Field(description="申请者")
    enterprise_id: int | None = Field(description="The enterprise applied for, if any")
    channel: str = Field(description="申报来源")
    channel_label: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None = Field(description="申请时间 (§6.2)")
    acceptance_due: dt.date | None = Field(description="受理期限: 5 working days from receipt")
    accepted_at: dt.datetime | None = Field(description="受理时间 (§6.3)")
    accepted_on_receipt: bool = Field(description="Counted as accepted because the window did not act in time")
    promised_due: dt.date | None = Field(description="承诺办结时间 (§6.3), pushed back by paused working days and extensions")
    legal_due: dt.date | None = Field(description="法定办结日期")
    due_confirmed: bool = Field(
        description="False while a due date rests on a year whose holidays are not yet confirmed"
    )
    remaining_days: int | None = Field(
        description="Working days left to the running deadline (acceptance while waiting for it, the promised date "
                    "in review); 0 on the day, negative once passed, null when no deadline runs"
    )
    legal_remaining_days: int | None = Field(description="Working days left to the legal due date while in review")
    urgency: str = Field(description='"normal", "near", "overdue" or "paused"')
    urgency_label: str
    paused_since: dt.date | None = Field(description="特别程序 under way since (the clock is paused)")
    paused_days: int = Field(description="Working days special procedures took out of the clock")
    extension_days: int = Field(description="Working days added by 延长审批")
    decision: str = Field(description='"approved" (准予许可), "denied" (不予许可) or empty')
    decision_label: str
    decided_at: dt.datetime | None
    decision_opinion: str = Field(description="办件结果描述 (§6.5): the opinion, or the reasons of a denial")
    result_name: str = Field(description="结果证照名称 (§6.5)")
    result_number: str = Field(description="结果证照编号 (§6.5)")
    result_valid_until: dt.date | None = Field(description="证照有效期限 (§6.5)")
    completed_at: dt.datetime | None = Field(description="办结时间 (§6.5)")
    delivery_method: str = Field(description="送达方式")
    delivery_method_label: str
    carrier: str = Field(description="物流公司")
    tracking_number: str = Field(description="物流单号")
    delivered_at: dt.datetime | None
    archived_at: dt.datetime | None
    ended_reason: str = Field(description="Why the case was withdrawn or terminated")
    visits: int = Field(description="跑动次数: trips to the hall for this case")


class CasePageOut(Schema):
    total: int
    limit: int
    offset: int
    items: list[CaseOut]


class StepOut(Schema):
    id: int
    position: int = Field(description="Position in the item's process template (0 = acceptance)")
    key: str
    name: str = Field(description="环节名称 (GB/T 39046 §6.4)")
    kind: str
    role: str
    role_label: str
    status: str = Field(description='"waiting" (in the pool), "claimed" or "done"')
    status_label: str
    status_code: str = Field(description="环节办理状态代码 (§6.4): 1 待办, 2 已办")
    assignee: PersonRef | None = Field(description="环节处理人")
    started_at: dt.datetime = Field(description="环节开始时间")
    due: dt.date | None = Field(description="The step's time limit")
    remaining_days: int | None = Field(description="Working days left to the step's due date while it is open")
    finished_at: dt.datetime | None = Field(description="环节结束时间")
    outcome: str = Field(description='业务动作 (§6.4): "pass" 通过, "return" 退回, "other" 其他')
    outcome_label: str
    opinion: str = Field(description="处理意见")


class StepActionOut(Schema):
    case: CaseOut
    step: StepOut = Field(description="The step acted on, or the one opened by the action")


class StepQueueItemOut(Schema):
    step: StepOut
    case: CaseOut


class StepPageOut(Schema):
    total: int
    limit: int
    offset: int
    items: list[StepQueueItemOut]


class FileOut(Schema):
    name: str
    kind: str
    size: int
    sha256: str


class MaterialOut(Schema):
    id: int
    material_key: str
    name: str = Field(description="材料名称 from the guide")
    file: FileOut | None
    licence_number: str = Field(description="电子证照编号, when an electronic licence stands in for the file")
    licence_type: str
    created_at: dt.datetime


class DocumentOut(Schema):
    id: int
    kind: str
    kind_label: str
    number: str = Field(description="文书编号 (受理文书编号 for an acceptance notice, §6.3)")
    issued_at: dt.datetime
    facts: dict = Field(description="What the document said when it was issued")


class EventOut(Schema):
    at: dt.datetime
    action: str
    action_label: str
    from_status: str = Field(description="Status code before the action (empty when the case was created)")
    from_status_label: str
    to_status: str = Field(description="Status code after the action")
    to_status_label: str
    actor: PersonRef | None = Field(description="Who acted; null for the system")
    note: str


class SpecialProcedureOut(Schema):
    id: int
    kind: str = Field(description="特别程序种类 (GB/T 39046 A.7): 1 延长审批, 2 其他")
    kind_label: str
    name: str = Field(description="特别程序名称")
    max_days: int = Field(description="Longest duration the guide allows, in working days")
    basis: str = Field(description="设定依据")
    reason: str = Field(description="理由或依据")
    started_at: dt.datetime = Field(description="特别程序开始时间")
    ended_at: dt.datetime | None = Field(description="特别程序结束时间")
    days_used: int | None
    result: str = Field(description="特别程序结果")


class SpecialActionOut(Schema):
    case: CaseOut
    procedure: SpecialProcedureOut


class SupplementNoticeOut(Schema):
    id: int
    submission: int = Field(description="Which submission the notice answers")
    missing: list[dict] = Field(description="Everything to correct or supply: material_key, name, reason")
    note: str
    repeated: bool = Field(description="A second notice on one application (against the one-time rule)")
    created_at: dt.datetime
    answered_at: dt.datetime | None


class SupplementActionOut(Schema):
    case: CaseOut
    notice: SupplementNoticeOut


class DeferredMaterialOut(Schema):
    material_key: str
    name: str
    due: dt.date
    supplied_at: dt.datetime | None


class ArchiveOut(Schema):
    manifest_sha256: str = Field(description="SHA-256 of the archive manifest, also on the audit ledger")
    created_at: dt.datetime


class ArchiveActionOut(Schema):
    case: CaseOut
    archive: ArchiveOut


class CaseDetailOut(CaseOut):
    form_data: dict = Field(description="申请表")
    refusal_reasons: str = Field(description="不予受理理由")
    refusal_basis: str = Field(description="不予受理依据")
    deferral_requested: list[str] = Field(description="Materials the applicant asked to hand in later (容缺)")
    commitment: str = Field(description="容缺受理承诺")
    open_step: StepOut | None = Field(description="The step the case waits on, if any")
    steps: list[StepOut] = Field(description="Every run of every step, in order (GB/T 39046 §6.4)")
    materials: list[MaterialOut]
    documents: list[DocumentOut]
    special_procedures: list[SpecialProcedureOut]
    supplement_notices: list[SupplementNoticeOut]
    deferred_materials: list[DeferredMaterialOut]
    timeline: list[EventOut]


class CountersOut(Schema):
    acceptance: int = Field(description="Submitted cases waiting for your acceptance")
    steps: int = Field(description="Open steps in your pool or claimed by you")
    mine: int = Field(description="Steps you claimed")
    paused: int = Field(description="Cases of your departments in a special procedure")
    completion: int = Field(description="Decided or completed cases waiting to be completed or delivered")
    archive: int = Field(description="Finished cases waiting to be archived")
    total: int


class ProgressStepOut(Schema):
    name: str = Field(description="环节名称")
    status: str
    status_label: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class ProgressOut(Schema):
    number: str = Field(description="办件编号")
    item: ItemRef
    department_name: str = Field(description="受理单位名称")
    status: str
    status_label: str
    submitted_at: dt.datetime | None = Field(description="申请时间")
    accepted_at: dt.datetime | None = Field(description="受理时间")
    promised_due: dt.date | None = Field(description="承诺办结时间")
    remaining_days: int | None
    completed_at: dt.datetime | None = Field(description="办结时间")
    delivered_at: dt.datetime | None
    steps: list[ProgressStepOut]




# --- conversion ---------------------------------------------------------------------------------


_STEP_STATUS_CODES = {StepStatus.WAITING: "1", StepStatus.CLAIMED: "1", StepStatus.DONE: "2"}


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.real_name or user.username}


def _case_out(case: Case, today: dt.date) -> dict[str, Any]:
    item, department, region = case.item, case.department, case.region
    if case.status == CaseStatus.SUBMITTED:
        running = case.acceptance_due
    elif case.status in (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL):
        running = case.promised_due
    else:
        running = None
    in_review = case.status in (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL)
    urgency = clock.case_urgency(case, today=today)
    return {
        "id": case.pk,
        "number": case.number,
        "query_code": case.query_code,
        "status": case.status,
        "status_label": choice_label(CaseStatus, case.status),
        "item": {"impl_code": item.impl_code, "name": item.name, "case_type": item.case_type,
                 "case_type_label": choice_label(CaseType, item.case_type)},
        "department": {"id": department.pk, "name": department.name, "uscc": department.uscc},
        "region_code": region.code,
        "applicant": _person(case.applicant),
        "enterprise_id": case.enterprise_id,
        "channel": case.channel,
        "channel_label": choice_label(Channel, case.channel),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "submitted_at": case.submitted_at,
        "acceptance_due": case.acceptance_due,
        "accepted_at": case.accepted_at,
        "accepted_on_receipt": case.accepted_on_receipt,
        "promised_due": case.promised_due,
        "legal_due": case.legal_due,
        "due_confirmed": case.due_confirmed,
        "remaining_days": clock.remaining_days(running, today=today, region=region),
        "legal_remaining_days": clock.remaining_days(case.legal_due, today=today, region=region) if in_review else None,
        "urgency": urgency,
        "urgency_label": str(Urgency(urgency).label),
        "paused_since": case.paused_since,
        "paused_days": case.paused_days,
        "extension_days": case.extension_days,
        "decision": case.decision,
        "decision_label": choice_label(Decision, case.decision),
        "decided_at": case.decided_at,
        "decision_opinion": case.decision_opinion,
        "result_name": case.result_name,
        "result_number": case.result_number,
        "result_valid_until": case.result_valid_until,
        "completed_at": case.completed_at,
        "delivery_method": case.delivery_method,
        "delivery_method_label": choice_label(DeliveryMethod, case.delivery_method),
        "carrier": case.carrier,
        "tracking_number": case.tracking_number,
        "delivered_at": case.delivered_at,
        "archived_at": case.archived_at,
        "ended_reason": case.ended_reason,
        "visits": case.visits,
    }


def _step_out(step: CaseStep, today: dt.date, region: Any) -> dict[str, Any]:
    is_open = step.status != StepStatus.DONE
    return {
        "id": step.pk,
        "position": step.position,
        "key": step.key,
        "name": step.name,
        "kind": step.kind,
        "role": step.role,
        "role_label": step.get_role_display(),
        "status": step.status,
        "status_label": step.get_status_display(),
        "status_code": _STEP_STATUS_CODES.get(step.status, ""),
        "assignee": _person(step.assignee) if step.assignee_id else None,
        "started_at": step.started_at,
        "due": step.due,
        "remaining_days": clock.remaining_days(step.due, today=today, region=region) if is_open else None,
        "finished_at": step.finished_at,
        "outcome": step.outcome,
        "outcome_label": step.get_outcome_display() if step.outcome else "",
        "opinion": step.opinion,
    }


def _step_action(step: CaseStep) -> dict[str, Any]:
    today = timezone.localdate()
    return {"case": _case_out(step.case, today), "step": _step_out(step, today, step.case.region)}


def _material_out(material: CaseMaterial, names: dict[str, str]) -> dict[str, Any]:
    stored = material.file
    return {
        "id": material.pk,
        "material_key": material.material_key,
        "name": names.get(material.material_key, ""),
        "file": {"name": stored.original_name, "kind": stored.kind, "size": stored.size, "sha256": stored.sha256}
        if stored is not None else None,
        "licence_number": material.licence_number,
        "licence_type": material.licence_type,
        "created_at": material.created_at,
    }


def _material_names(case: Case) -> dict[str, str]:
    return {m.get("key", ""): m.get("name", "") for m in case.version.content.get("materials", [])}


def _procedure_out(run: SpecialProcedureRun) -> dict[str, Any]:
    return {
        "id": run.pk, "kind": run.kind, "kind_label": run.get_kind_display(), "name": run.name,
        "max_days": run.max_days, "basis": run.basis, "reason": run.reason, "started_at": run.started_at,
        "ended_at": run.ended_at, "days_used": run.days_used, "result": run.result,
    }


def _notice_out(notice: SupplementNotice) -> dict[str, Any]:
    return {
        "id": notice.pk, "submission": notice.submission, "missing": notice.missing, "note": notice.note,
        "repeated": notice.repeated, "created_at": notice.created_at, "answered_at": notice.answered_at,
    }


def _document_out(document: CaseDocument) -> dict[str, Any]:
    return {"id": document.pk, "kind": document.kind, "kind_label": document.get_kind_display(),
            "number": document.number, "issued_at": document.issued_at, "facts": document.facts}


def _action_label(action: str) -> str:
    transition = services.CASE_LIFECYCLE.transitions.get(action)
    if transition is not None:
        return str(transition.label)
    return {
        "start": _("创建申请"),
        "file_at_window": _("窗口收件"),
        "file_by_agent": _("代办员代为申报"),
        "accept_on_receipt": _("逾期视为受理"),
    }.get(action, action)


def _event_out(event: CaseEvent, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "at": event.at, "action": event.action, "action_label": _action_label(event.action),
        "from_status": event.from_status, "from_status_label": labels.get(event.from_status, event.from_status),
        "to_status": event.to_status, "to_status_label": labels.get(event.to_status, event.to_status),
        "actor": _person(event.actor) if event.actor_id else None, "note": event.note,
    }


def _deferred_out(deferred: DeferredMaterial) -> dict[str, Any]:
    return {"material_key": deferred.material_key, "name": deferred.name, "due": deferred.due,
            "supplied_at": deferred.supplied_at}


def _detail(case: Case) -> dict[str, Any]:
    today = timezone.localdate()
    steps = [_step_out(step, today, case.region) for step in case.steps.select_related("assignee")]
    names = _material_names(case)
    labels = {value: str(label) for value, label in CaseStatus.choices}
    return {
        **_case_out(case, today),
        "form_data": case.form_data,
        "refusal_reasons": case.refusal_reasons,
        "refusal_basis": case.refusal_basis,
        "deferral_requested": list(case.deferral_requested or []),
        "commitment": case.commitment,
        "open_step": next((step for step in steps if step["status"] != StepStatus.DONE), None),
        "steps": steps,
        "materials": [_material_out(m, names) for m in case.materials.select_related("file")],
        "documents": [_document_out(d) for d in case.documents.all()],
        "special_procedures": [_procedure_out(run) for run in case.special_procedures.all()],
        "supplement_notices": [_notice_out(notice) for notice in case.supplement_notices.all()],
        "deferred_materials": [_deferred_out(d) for d in case.deferred_materials.all()],
        "timeline": [_event_out(e, labels) for e in case.events.select_related("actor")],
    }


# --- lookups ------------------------------------------------------------------------------------


def _case(request: HttpRequest, case_id: int) -> Case:
    return selectors.case_for(request.auth, case_id)


def _case_to_act_on(request: HttpRequest, case_id: int) -> Case:
    return selectors.case_to_act_on(request.auth, case_id)


def _item(impl_code: str) -> Any:
    code = impl_code.strip()
    if not _IMPL_CODE.fullmatch(code):
        raise NotFound(_("没有找到该事项，或它尚未发布。"))
    return catalogue_selectors.public_item(code.upper())


def _step(case: Case, step_id: int | None) -> CaseStep | None:
    """The step of this case the caller's screen showed (the services refuse it if it is stale)."""
    if step_id is None:
        return None
    step = selectors.case_step(case, step_id)
    if step is None:
        raise NotFound(_("没有找到该环节。"))
    return step


def _colleague(user_id: int | None) -> User | None:
    """The staff member a step is handed to; whether they may handle it is the service's check."""
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True, kind=AccountKind.STAFF).first()
    if user is None:
        raise InvalidInput(_("接收人没有办理该环节的权限。"), field="to_user_id")
    return user


def _page(queryset: Any, limit: int, offset: int) -> tuple[int, list[Any]]:
    return queryset.count(), list(queryset[offset : offset + limit])


# --- the applicant ------------------------------------------------------------------------------


@router.get("/", response={200: CasePageOut, **READ_ERRORS}, summary="My cases: applications I made or filed")
def cases_list(
    request: HttpRequest,
    status: CaseStatus | None = Query(None, description="Only cases in this status"),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    cases = selectors.my_cases(request.auth)
    if status:
        cases = cases.filter(status=status)
    total, page = _page(cases, limit, offset)
    today = timezone.localdate()
    return {"total": total, "limit": limit, "offset": offset, "items": [_case_out(c, today) for c in page]}


@router.post("/", response={201: CaseOut, **ACTION_ERRORS}, summary="Start a draft application for a published item")
def case_start(request: HttpRequest, payload: StartIn):
    item = _item(payload.impl_code)
    enterprise = (enterprise_get(actor=request.auth, enterprise_id=payload.enterprise_id)
                  if payload.enterprise_id is not None else None)
    case = services.case_start(actor=request.auth, item=item, enterprise=enterprise)
    return Status(201, _case_out(case, timezone.localdate()))


@router.post("/window", response={201: CaseOut, **ACTION_ERRORS},
             summary="窗口收件: a window clerk files an application for a person at the hall")
def case_file_at_window(request: HttpRequest, payload: WindowFilingIn):
    case = services.case_file_at_window(actor=request.auth, item=_item(payload.impl_code),
                                        id_number=payload.id_number, real_name=payload.real_name)
    return Status(201, _case_out(case, timezone.localdate()))


# --- the staff workbench (fixed paths before /{case_id}) ----------------------------------------


@router.get("/workbench/acceptance", response={200: CasePageOut, **READ_ERRORS},
            summary="Submitted cases waiting for my acceptance, the nearest deadline first")
def acceptance_queue(
    request: HttpRequest,
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    total, page = _page(selectors.acceptance_queue(request.auth), limit, offset)
    today = timezone.localdate()
    return {"total": total, "limit": limit, "offset": offset, "items": [_case_out(c, today) for c in page]}


@router.get("/workbench/steps", response={200: StepPageOut, **READ_ERRORS},
            summary="Open review steps: my roles' pool and the steps I claimed, the nearest due date first")
def step_queue(
    request: HttpRequest,
    mine: bool = Query(False, description="Only the steps I claimed"),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    total, page = _page(selectors.step_queue(request.auth, mine_only=mine), limit, offset)
    today = timezone.localdate()
    items = [{"step": _step_out(step, today, step.case.region), "case": _case_out(step.case, today)} for step in page]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/workbench/counters", response={200: CountersOut, **AUTH_ERRORS}, summary="My workbench badges")
def workbench_counters(request: HttpRequest):
    counters = selectors.counters(request.auth)
    return {"acceptance": counters.acceptance, "steps": counters.steps, "mine": counters.mine,
            "paused": counters.paused, "completion": counters.completion, "archive": counters.archive,
            "total": counters.total}


# --- public -------------------------------------------------------------------------------------


@router.get("/progress", auth=None, response={200: ProgressOut, 404: ErrorOut, 422: ValidationErrorOut},
            summary="进度查询: a case's progress by its number and query code, without personal data")
def progress(
    request: HttpRequest,
    number: str = Query(..., max_length=60, description="办件编号"),
    query_code: str = Query(..., max_length=8, description="查询码 (on every notice of the case)"),
):
    case = selectors.public_progress(number, query_code)
    running = case.promised_due if case.status in (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL) else None
    return {
        "number": case.number,
        "item": {"impl_code": case.item_impl_code, "name": case.item_name, "case_type": case.item_case_type,
                 "case_type_label": choice_label(CaseType, case.item_case_type)},
        "department_name": case.department_name,
        "status": case.status,
        "status_label": choice_label(CaseStatus, case.status),
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "promised_due": case.promised_due,
        "remaining_days": clock.remaining_days(running, today=timezone.localdate(), region=case.region),
        "completed_at": case.completed_at,
        "delivered_at": case.delivered_at,
        "steps": [
            {"name": step.name, "status": step.status, "status_label": step.get_status_display(),
             "started_at": step.started_at, "finished_at": step.finished_at}
            for step in case.steps
        ],
    }


# --- one case -----------------------------------------------------------------------------------


@router.get("/{case_id}", response={200: CaseDetailOut, **READ_ERRORS},
            summary="A case: status, deadlines, steps, materials, documents and timeline")
def case_detail(request: HttpRequest, case_id: int = _case_id()):
    return _detail(_case(request, case_id))


@router.put("/{case_id}/form", response={200: CaseOut, **ACTION_ERRORS},
            summary="Save the application form as typed so far (checked in full on submission)")
def form_save(request: HttpRequest, payload: FormIn, case_id: int = _case_id()):
    case = services.case_save_form(actor=request.auth, case=_case_to_act_on(request, case_id), data=payload.form_data)
    return _case_out(case, timezone.localdate())


@router.get("/{case_id}/materials", response={200: list[MaterialOut], **READ_ERRORS},
            summary="The files and licence references attached to a case")
def materials_list(request: HttpRequest, case_id: int = _case_id()):
    case = _case(request, case_id)
    names = _material_names(case)
    return [_material_out(m, names) for m in case.materials.select_related("file")]


@router.post("/{case_id}/materials", response={201: MaterialOut, **ACTION_ERRORS},
             summary="Attach one file to a material of the guide, or an electronic licence by its number")
def material_attach(
    request: HttpRequest,
    case_id: int = _case_id(),
    material_key: str = Form(..., description="材料编号 of the guide"),
    licence_number: str = Form("", description="电子证照编号, instead of a file"),
    file: UploadedFile | None = File(None, description="PDF, JPG, PNG, OFD, DOCX or XLSX"),
):
    if file is not None and licence_number.strip():
        raise InvalidInput(_("请上传文件或填写电子证照编号，二者选其一。"), field="file")
    case = _case_to_act_on(request, case_id)
    material = services.case_attach(actor=request.auth, case=case, material_key=material_key, uploaded_file=file,
                                    licence_number=licence_number.strip())
    return Status(201, _material_out(material, _material_names(material.case)))


@router.delete("/{case_id}/materials/{material_id}", response={200: CaseOut, **ACTION_ERRORS},
               summary="Remove a file or licence reference from a draft (or while supplementing)")
def material_detach(request: HttpRequest, case_id: int = _case_id(),
                    material_id: int = Path(..., ge=1, le=MAX_ID)):
    case = _case_to_act_on(request, case_id)
    case = services.case_detach(actor=request.auth, case=case, material=selectors.case_material(case, material_id))
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/submit", response={200: CaseOut, **ACTION_ERRORS},
             summary="Submit the application (idempotent: a retry with the same key returns the same case)")
def case_submit(
    request: HttpRequest,
    case_id: int = _case_id(),
    payload: SubmitIn = Body(None),
    header_key: str | None = Header(None, alias="Idempotency-Key", max_length=200,
                                    description="The idempotency key (or the body's idempotency_key)"),
):
    payload = payload or SubmitIn()
    key = header_key if header_key is not None else payload.idempotency_key
    if header_key is not None and payload.idempotency_key is not None and header_key != payload.idempotency_key:
        raise InvalidInput(_("请求头与请求体中的幂等键不一致。"), field="idempotency_key")
    case = services.case_submit(actor=request.auth, case=selectors.case_to_act_on(request.auth, case_id, whole=True),
                                idempotency_key=key or "", deferral=payload.deferral, commitment=payload.commitment,
                                just_read=True)
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/supply", response={200: CaseOut, **ACTION_ERRORS},
             summary="Hand in what the one-time notice asked for; the case waits for acceptance again")
def case_supply(request: HttpRequest, case_id: int = _case_id()):
    case = services.case_supply(actor=request.auth, case=_case_to_act_on(request, case_id))
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/withdraw", response={200: CaseOut, **ACTION_ERRORS},
             summary="Withdraw the application before the decision, with the reason")
def case_withdraw(request: HttpRequest, payload: ReasonIn, case_id: int = _case_id()):
    case = services.case_withdraw(actor=request.auth, case=_case_to_act_on(request, case_id), reason=payload.reason)
    return _case_out(case, timezone.localdate())


# --- acceptance (受理) ---------------------------------------------------------------------------


@router.post("/{case_id}/accept", response={200: CaseOut, **ACTION_ERRORS},
             summary="受理: accept; the clock starts and the acceptance notice is issued")
def case_accept(request: HttpRequest, case_id: int = _case_id(), payload: AcceptIn = Body(None)):
    deferred_due = payload.deferred_due if payload is not None else None
    case = services.case_accept(actor=request.auth, case=_case_to_act_on(request, case_id), deferred_due=deferred_due)
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/refuse", response={200: CaseOut, **ACTION_ERRORS},
             summary="不予受理: refuse in writing, with reasons and the legal basis")
def case_refuse(request: HttpRequest, payload: RefuseIn, case_id: int = _case_id()):
    case = services.case_refuse(actor=request.auth, case=_case_to_act_on(request, case_id), reasons=payload.reasons,
                                basis=payload.basis)
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/request-supplement", response={200: SupplementActionOut, **ACTION_ERRORS},
             summary="补正告知: tell the applicant everything missing, at once")
def case_request_supplement(request: HttpRequest, payload: SupplementIn, case_id: int = _case_id()):
    notice = services.case_request_supplement(
        actor=request.auth, case=_case_to_act_on(request, case_id),
        missing=[{"material_key": m.material_key, "reason": m.reason} for m in payload.missing], note=payload.note,
    )
    return {"case": _case_out(notice.case, timezone.localdate()), "notice": _notice_out(notice)}


# --- review steps (审查) ---------------------------------------------------------------------------


@router.post("/{case_id}/claim", response={200: StepActionOut, **ACTION_ERRORS},
             summary="Claim the open step from my role's pool")
def step_claim(request: HttpRequest, case_id: int = _case_id(), payload: StepIn = Body(None)):
    case = _case_to_act_on(request, case_id)
    step = services.step_claim(actor=request.auth, case=case, step=_step(case, payload and payload.step_id))
    return _step_action(step)


@router.post("/{case_id}/transfer", response={200: StepActionOut, **ACTION_ERRORS},
             summary="Hand the open step to a colleague who holds its role, or back to the pool")
def step_transfer(request: HttpRequest, payload: TransferIn, case_id: int = _case_id()):
    case = _case_to_act_on(request, case_id)
    step = services.step_transfer(actor=request.auth, case=case, to=_colleague(payload.to_user_id),
                                  reason=payload.reason, step=_step(case, payload.step_id))
    return _step_action(step)


@router.post("/{case_id}/pass", response={200: StepActionOut, **ACTION_ERRORS},
             summary="通过: pass the open review step with an opinion; the next step opens")
def step_pass(request: HttpRequest, payload: PassIn, case_id: int = _case_id()):
    case = _case_to_act_on(request, case_id)
    step = services.step_pass(actor=request.auth, case=case, opinion=payload.opinion,
                              step=_step(case, payload.step_id))
    return _step_action(step)


@router.post("/{case_id}/return", response={200: StepActionOut, **ACTION_ERRORS},
             summary="退回: send the case back to an earlier review step, with the reason")
def step_return(request: HttpRequest, payload: ReturnIn, case_id: int = _case_id()):
    case = _case_to_act_on(request, case_id)
    step = services.step_return(actor=request.auth, case=case, to_key=payload.to_key, reason=payload.reason,
                                step=_step(case, payload.step_id))
    return _step_action(step)


@router.post("/{case_id}/special/start", response={200: SpecialActionOut, **ACTION_ERRORS},
             summary="Start a special procedure the guide publishes; the clock pauses")
def special_start(request: HttpRequest, payload: SpecialStartIn, case_id: int = _case_id()):
    case = _case_to_act_on(request, case_id)
    run = services.case_start_special(actor=request.auth, case=case, name=payload.name, reason=payload.reason,
                                      step=_step(case, payload.step_id))
    return {"case": _case_out(run.case, timezone.localdate()), "procedure": _procedure_out(run)}


@router.post("/{case_id}/special/end", response={200: SpecialActionOut, **ACTION_ERRORS},
             summary="End the special procedure with its result; the clock runs again")
def special_end(request: HttpRequest, payload: SpecialEndIn, case_id: int = _case_id()):
    case = _case_to_act_on(request, case_id)
    run = services.case_end_special(actor=request.auth, case=case, result=payload.result,
                                    step=_step(case, payload.step_id))
    return {"case": _case_out(run.case, timezone.localdate()), "procedure": _procedure_out(run)}


@router.post("/{case_id}/extend", response={200: SpecialActionOut, **ACTION_ERRORS},
             summary="延长审批: a chief representative extends the time limits by working days")
def case_extend(request: HttpRequest, payload: ExtendIn, case_id: int = _case_id()):
    case = _case_to_act_on(request, case_id)
    run = services.case_extend(actor=request.auth, case=case, days=payload.days, reason=payload.reason,
                               step=_step(case, payload.step_id))
    return {"case": _case_out(run.case, timezone.localdate()), "procedure": _procedure_out(run)}


# --- decision, completion, delivery, archive ------------------------------------------------------


@router.post("/{case_id}/decide", response={200: CaseOut, **ACTION_ERRORS},
             summary="The decision step: approve (the result is issued) or deny (reasons and legal basis)")
def case_decide(request: HttpRequest, payload: DecideStepIn, case_id: int = _case_id()):
    case = _case_to_act_on(request, case_id)
    case = services.case_decide(actor=request.auth, case=case, decision=payload.decision, opinion=payload.opinion,
                                reasons=payload.reasons, basis=payload.basis, step=_step(case, payload.step_id))
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/decide-on-spot", response={200: CaseOut, **ACTION_ERRORS},
             summary="即办件: accept, decide and complete at the window in one go")
def case_decide_on_spot(request: HttpRequest, payload: DecideIn, case_id: int = _case_id()):
    case = services.case_decide_on_spot(actor=request.auth, case=_case_to_act_on(request, case_id),
                                        decision=payload.decision, opinion=payload.opinion, reasons=payload.reasons,
                                        basis=payload.basis)
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/complete", response={200: CaseOut, **ACTION_ERRORS},
             summary="办结: the result is made and ready to deliver")
def case_complete(request: HttpRequest, case_id: int = _case_id()):
    case = services.case_complete(actor=request.auth, case=_case_to_act_on(request, case_id))
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/deliver", response={200: CaseOut, **ACTION_ERRORS},
             summary="送达: window pickup, post or electronic delivery, as the guide offers")
def case_deliver(request: HttpRequest, payload: DeliverIn, case_id: int = _case_id()):
    case = services.case_deliver(actor=request.auth, case=_case_to_act_on(request, case_id), method=payload.method,
                                 address=payload.address, recipient=payload.recipient, carrier=payload.carrier,
                                 tracking_number=payload.tracking_number)
    return _case_out(case, timezone.localdate())


@router.post("/{case_id}/archive", response={200: ArchiveActionOut, **ACTION_ERRORS},
             summary="归档: seal the case's electronic archive")
def case_archive(request: HttpRequest, case_id: int = _case_id()):
    record: CaseArchive = services.case_archive(actor=request.auth, case=_case_to_act_on(request, case_id))
    return {"case": _case_out(record.case, timezone.localdate()),
            "archive": {"manifest_sha256": record.manifest_sha256, "created_at": record.created_at}}


@router.post("/{case_id}/visits", response={200: CaseOut, **ACTION_ERRORS},
             summary="Record that the applicant came to the hall for this case (跑动次数)")
def case_record_visit(request: HttpRequest, case_id: int = _case_id()):
    case = services.case_record_visit(actor=request.auth, case=_case_to_act_on(request, case_id))
    return _case_out(case, timezone.localdate())
