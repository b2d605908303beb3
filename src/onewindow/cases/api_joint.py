"""/api/joint-cases/: applications for composite services (一件事联办) for other front ends.

The applicant starts one joint application for a published composite, fills in the combined
form once, hands in each material of the combined list once, and submits; the lead department's
window accepts it once (or issues one supplement notice for all members), records joint
meetings, and delivers every result together. Member cases are ordinary cases (/api/cases/{id}).
Scoping and errors are those of /api/cases/.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Body, File, Form, Header, Path, Router, Schema, Status, UploadedFile
from pydantic import Field

from onewindow.accounts.auth import api_auth
from onewindow.cases import selectors, services
from onewindow.cases.api import ACTION_ERRORS, MAX_ID, READ_ERRORS, DeliverIn, FormIn, Id, SupplementIn
from onewindow.cases.models import JointCase
from onewindow.catalogue import selectors as catalogue_selectors
from onewindow.core.models import Department

router = Router(tags=["joint cases"], auth=api_auth)


def _joint_id() -> Any:
    return Path(..., ge=1, le=MAX_ID, description="The joint case's id")


class JointStartIn(Schema):
    composite_code: str = Field(description="一件事编码 of a published composite service")


class MeetingIn(Schema):
    held_on: dt.date = Field(description="会商日期")
    department_ids: list[Id] = Field(description="参加会商的部门 (at least two member departments)")
    conclusion: str = Field(description="会商结论")


class MeetingOut(Schema):
    id: int
    held_on: dt.date
    conclusion: str


class MemberOut(Schema):
    id: int
    number: str | None
    item: str
    department: str
    status: str
    status_label: str
    decision: str
    promised_due: dt.date | None


class CombinedFieldOut(Schema):
    key: str
    label: str
    type: str
    required: bool


class CombinedMaterialOut(Schema):
    key: str
    name: str
    required: bool


class JointOut(Schema):
    id: int
    number: str | None
    composite_code: str
    composite_name: str
    lead_department: str
    status: str
    status_label: str
    form_data: dict[str, Any]
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    joint_due: dt.date | None = Field(description="联办承诺办结日期")
    completed_at: dt.datetime | None
    fields: list[CombinedFieldOut] = Field(description="The combined form: shared fields once")
    materials: list[CombinedMaterialOut] = Field(description="The combined material list: each material once")
    members: list[MemberOut]


def _out(joint: JointCase) -> dict[str, Any]:
    application = services.joint_application(joint)
    members = joint.members.select_related("item", "department").order_by("pk")
    return {
        "id": joint.pk, "number": joint.number, "composite_code": joint.composite.code,
        "composite_name": joint.composite.name, "lead_department": joint.lead_department.name,
        "status": joint.status, "status_label": joint.get_status_display(), "form_data": joint.form_data,
        "submitted_at": joint.submitted_at, "accepted_at": joint.accepted_at, "joint_due": joint.joint_due,
        "completed_at": joint.completed_at,
        "fields": [{"key": f["key"], "label": f.get("label", f["key"]), "type": f.get("type", ""),
                    "required": bool(f.get("required"))} for f in application.fields],
        "materials": [{"key": m.key, "name": m.name, "required": m.required} for m in application.materials],
        "members": [{"id": case.pk, "number": case.number, "item": case.item.name, "department": case.department.name,
                     "status": case.status, "status_label": case.get_status_display(), "decision": case.decision,
                     "promised_due": case.promised_due} for case in members],
    }


def _joint(request: HttpRequest, joint_id: int) -> JointCase:
    return selectors.joint_case_for(request.auth, joint_id)


@router.post("/", response={201: JointOut, **ACTION_ERRORS}, summary="Start one application for a composite service")
def joint_start(request: HttpRequest, payload: JointStartIn):
    composite = catalogue_selectors.published_composite(payload.composite_code)
    return Status(201, _out(services.joint_start(actor=request.auth, composite_service=composite)))


@router.get("/{joint_id}", response={200: JointOut, **READ_ERRORS}, summary="A joint case and its member cases")
def joint_get(request: HttpRequest, joint_id: int = _joint_id()):
    return _out(_joint(request, joint_id))


@router.put("/{joint_id}/form", response={200: JointOut, **ACTION_ERRORS}, summary="Save the combined form")
def joint_save_form(request: HttpRequest, payload: FormIn, joint_id: int = _joint_id()):
    return _out(services.joint_save_form(actor=request.auth, joint=_joint(request, joint_id), data=payload.form_data))


@router.post("/{joint_id}/materials", response={200: JointOut, **ACTION_ERRORS},
             summary="Hand in a material of the combined list once, for every member that asks for it")
def joint_attach(request: HttpRequest, joint_id: int = _joint_id(),
                 material_key: str = Form(..., description="The material's key in the combined list"),
                 file: UploadedFile = File(..., description="PDF, JPG, PNG, OFD, DOCX or XLSX")):
    return _out(services.joint_attach(actor=request.auth, joint=_joint(request, joint_id), material_key=material_key,
                                      uploaded_file=file))


@router.post("/{joint_id}/submit", response={200: JointOut, **ACTION_ERRORS},
             summary="Submit every member at once (idempotent with the Idempotency-Key header)")
def joint_submit(request: HttpRequest, joint_id: int = _joint_id(),
                 key: str = Header("", alias="Idempotency-Key", max_length=200)):
    return _out(services.joint_submit(actor=request.auth, joint=_joint(request, joint_id), idempotency_key=key))


@router.post("/{joint_id}/supply", response={200: JointOut, **ACTION_ERRORS},
             summary="Hand in what the joint supplement notice asked for")
def joint_supply(request: HttpRequest, joint_id: int = _joint_id()):
    return _out(services.joint_supply(actor=request.auth, joint=_joint(request, joint_id)))


@router.post("/{joint_id}/accept", response={200: JointOut, **ACTION_ERRORS},
             summary="一口受理: the lead department accepts every member at once")
def joint_accept(request: HttpRequest, joint_id: int = _joint_id()):
    return _out(services.joint_accept(actor=request.auth, joint=_joint(request, joint_id)))


@router.post("/{joint_id}/request-supplement", response={200: JointOut, **ACTION_ERRORS},
             summary="One one-time supplement notice covering every member")
def joint_request_supplement(request: HttpRequest, payload: SupplementIn, joint_id: int = _joint_id()):
    joint = _joint(request, joint_id)
    services.joint_request_supplement(actor=request.auth, joint=joint, note=payload.note,
                                      missing=[{"material_key": m.material_key, "reason": m.reason}
                                               for m in payload.missing])
    return _out(JointCase.objects.get(pk=joint.pk))


@router.post("/{joint_id}/meetings", response={201: MeetingOut, **ACTION_ERRORS},
             summary="Record a joint meeting (联席会商)")
def joint_meeting(request: HttpRequest, payload: MeetingIn, joint_id: int = _joint_id()):
    departments = list(Department.objects.filter(pk__in=payload.department_ids))
    meeting = services.joint_record_meeting(actor=request.auth, joint=_joint(request, joint_id), held_on=payload.held_on,
                                            departments=departments, conclusion=payload.conclusion)
    return Status(201, {"id": meeting.pk, "held_on": meeting.held_on, "conclusion": meeting.conclusion})


@router.post("/{joint_id}/deliver", response={200: JointOut, **ACTION_ERRORS},
             summary="统一出件: deliver every granted result together")
def joint_deliver(request: HttpRequest, payload: DeliverIn = Body(...), joint_id: int = _joint_id()):
    joint = services.joint_deliver(actor=request.auth, joint=_joint(request, joint_id), method=payload.method,
                                   address=payload.address, recipient=payload.recipient, carrier=payload.carrier,
                                   tracking_number=payload.tracking_number)
    return _out(joint)
