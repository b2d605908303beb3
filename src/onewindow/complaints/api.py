"""/api/complaints/: our own API for consultations and complaints, richer than Open311.

Citizens file and follow their requests, rate answers and ask to reopen; 12345 operators file
calls and mailbox letters, dispatch, and keep the routing rules; departments transfer, extend
and answer. The progress lookup by number and query code and the exposure column are public.
Every refusal is a 4xx with a translated `detail` (429 for too many submissions).
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from onewindow.accounts.auth import api_auth
from onewindow.catalogue.models import ImplementationItem
from onewindow.complaints import reference, selectors, services
from onewindow.complaints.choices import Kind, Source
from onewindow.complaints.models import Complaint, RoutingRule, Topic
from onewindow.core.api import ACTION_ERRORS, ErrorOut, ValidationErrorOut
from onewindow.core.errors import InvalidInput
from onewindow.core.models import Department, Region
from onewindow.core.selectors.regions import region_by_code

router = Router(tags=["complaints"], auth=api_auth)

MAX_ID = 2**63 - 1




ERRORS = {**ACTION_ERRORS, 429: ErrorOut}


class ComplaintIn(Schema):
    kind: Kind
    title: str = Field(max_length=100)
    content: str = Field(max_length=4000)
    source: Source = Source.PORTAL
    topic: str | None = Field(
        None, max_length=40, description="诉求类别代码 (Open311 service_code)"
    )
    item: str | None = Field(
        None, max_length=36, description="实施编码 of the item concerned"
    )
    region: str | None = Field(
        None, pattern=r"^[0-9]{6,12}$", description="行政区划代码"
    )
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    long: float | None = Field(None, ge=-180, le=180)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    contact_email: str = Field("", max_length=254)
    respondent: str = Field("", max_length=100)
    attributes: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(None, max_length=64)


class PublicUpdateOut(Schema):
    """A step of the history as anyone with the number and query code sees it: what happened and
    where, not what was written (answers and transfer reasons reach the requester in person)."""

    at: dt.datetime
    kind: str
    kind_label: str
    status: str
    department: str | None


class UpdateOut(PublicUpdateOut):
    summary: str


class ComplaintOut(Schema):
    id: int
    number: str
    query_code: str
    kind: str
    source: str
    status: str
    status_label: str
    topic: str | None
    title: str
    content: str
    department: str | None
    received_at: dt.datetime
    promised_days: int
    due: dt.date | None
    extension_days: int
    extension_reason: str
    overdue_days: int = Field(
        description="Working days past the due date (at the answer, or today while open)"
    )
    answer: str
    answered_at: dt.datetime | None
    rating: int | None
    reopen_count: int


class ComplaintProgressOut(Schema):
    number: str
    status: str
    status_label: str
    department: str | None
    received_at: dt.datetime
    due: dt.date | None
    answered_at: dt.datetime | None
    history: list[PublicUpdateOut]


class DispatchIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID)
    promised_days: int | None = Field(None, ge=1, le=60)


class ComplaintTransferIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(max_length=1000)


class ComplaintExtendIn(Schema):
    days: int = Field(ge=1, le=60)
    reason: str = Field(max_length=1000)


class AnswerIn(Schema):
    answer: str = Field(max_length=4000)


class RateIn(Schema):
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=1000)


class ReopenIn(Schema):
    reason: str = Field(max_length=1000)


class RoutingRuleIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID)
    priority: int = Field(100, ge=0, le=32767)
    topic: str | None = Field(None, max_length=40)
    item: str | None = Field(None, max_length=36)
    region: str | None = Field(None, pattern=r"^[0-9]{6,12}$")
    keyword: str = Field("", max_length=50)
    promised_days: int | None = Field(None, ge=1, le=60)
    is_active: bool = True


class RoutingRuleOut(Schema):
    id: int
    priority: int
    topic: str | None
    item: str | None
    region: str | None
    keyword: str
    department_id: int
    department: str
    promised_days: int | None
    is_active: bool


class ExposureOut(Schema):
    id: int
    title: str
    problem: str
    result: str
    department: str
    published_at: dt.datetime


class ExposureIn(Schema):
    title: str = Field(max_length=100)
    problem: str = Field(max_length=4000)
    result: str = Field(max_length=4000)


def _public_update_out(update: Any) -> dict[str, Any]:
    return {
        "at": update.at,
        "kind": update.kind,
        "kind_label": update.get_kind_display(),
        "status": update.status,
        "department": update.department.name if update.department_id else None,
    }


def _update_out(update: Any) -> dict[str, Any]:
    return {**_public_update_out(update), "summary": update.summary}


def complaint_out(complaint: Complaint) -> dict[str, Any]:
    overdue = (
        complaint.overdue_days
        if complaint.answered_at
        else services.overdue_days(complaint, timezone.localdate())
    )
    return {
        "id": complaint.pk,
        "number": complaint.number,
        "query_code": complaint.query_code,
        "kind": complaint.kind,
        "source": complaint.source,
        "status": complaint.status,
        "status_label": complaint.get_status_display(),
        "topic": complaint.topic.code if complaint.topic_id else None,
        "title": complaint.title,
        "content": complaint.content,
        "department": complaint.department.name if complaint.department_id else None,
        "received_at": complaint.received_at,
        "promised_days": complaint.promised_days,
        "due": complaint.due,
        "extension_days": complaint.extension_days,
        "extension_reason": complaint.extension_reason,
        "overdue_days": overdue,
        "answer": complaint.answer,
        "answered_at": complaint.answered_at,
        "rating": complaint.rating,
        "reopen_count": complaint.reopen_count,
    }


def _rule_out(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "priority": rule.priority,
        "topic": rule.topic.code if rule.topic_id else None,
        "item": rule.item.impl_code if rule.item_id else None,
        "region": rule.region.code if rule.region_id else None,
        "keyword": rule.keyword,
        "department_id": rule.department_id,
        "department": rule.department.name,
        "promised_days": rule.promised_days,
        "is_active": rule.is_active,
    }


def _lookup(queryset: Any, field: str, value: Any, message: str, name: str) -> Any:
    if value in (None, ""):
        return None
    found = queryset.filter(**{field: value}).first()
    if found is None:
        raise InvalidInput(message, field=name)
    return found


def _topic(code: str | None) -> Topic | None:
    if not code:
        return None
    found = reference.current().topics.get(code)
    if found is None:
        raise InvalidInput(_("诉求类别无效。"), field="topic")
    return found


def _item(code: str | None) -> ImplementationItem | None:
    return _lookup(
        ImplementationItem.objects.all(),
        "impl_code",
        code.upper() if code else code,
        _("没有找到该事项。"),
        "item",
    )


def _region(code: str | None) -> Region | None:
    if not code:
        return None
    found = region_by_code(code)
    if found is None:
        raise InvalidInput(_("行政区划代码无效。"), field="region")
    return found


def _department(pk: int, field: str = "department_id") -> Department:
    return _lookup(
        Department.objects.all(), "pk", pk, _("请选择启用中的承办单位。"), field
    )


# --- intake and my requests --------------------------------------------------------------------------


@router.post(
    "/",
    response={201: ComplaintOut, **ERRORS},
    summary="File a consultation or complaint",
)
def submit(request: HttpRequest, payload: ComplaintIn) -> Status:
    """Citizens (source portal or mailbox) and 12345 operators (any source). 429 when an account
    files too many in an hour; the same idempotency key returns the first request."""
    complaint = services.complaint_submit(
        actor=request.auth,
        kind=payload.kind,
        title=payload.title,
        content=payload.content,
        source=payload.source,
        topic=_topic(payload.topic),
        item=_item(payload.item),
        region=_region(payload.region),
        address=payload.address,
        lat=payload.lat,
        long=payload.long,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        contact_email=payload.contact_email,
        respondent=payload.respondent,
        attributes=payload.attributes,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, complaint_out(complaint))


@router.get(
    "/mine", response={200: list[ComplaintOut], **ERRORS}, summary="My requests"
)
def mine(request: HttpRequest) -> list[dict[str, Any]]:
    return [complaint_out(c) for c in selectors.my_complaints(request.auth)[:200]]


@router.get(
    "/progress",
    url_name="complaints_progress",
    auth=None,
    response={
        200: ComplaintProgressOut,
        404: ErrorOut,
        422: ValidationErrorOut,
        429: ErrorOut,
    },
    summary="Progress by number and query code (no personal data); 429 after ten wrong pairs an hour",
)
def progress(
    request: HttpRequest,
    number: str = Query(..., max_length=20),
    code: str = Query(..., max_length=8),
) -> dict[str, Any]:
    found, history = selectors.public_progress(number, code)
    return {
        "number": found.number,
        "status": found.status,
        "status_label": found.get_status_display(),
        "department": found.department.name if found.department_id else None,
        "received_at": found.received_at,
        "due": found.due,
        "answered_at": found.answered_at,
        "history": [_public_update_out(u) for u in history],
    }


@router.get(
    "/exposure",
    auth=None,
    response={200: list[ExposureOut]},
    summary="The exposure column (曝光纠错)",
)
def exposure_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": e.pk,
            "title": e.title,
            "problem": e.problem,
            "result": e.result,
            "department": e.department_name,
            "published_at": e.published_at,
        }
        for e in selectors.exposures()[:200]
    ]


# --- categories and routing rules -----------------------------------------------------------------------------------------


class TopicIn(Schema):
    code: str = Field(pattern=r"^[-a-zA-Z0-9_]{1,40}$")
    name: str = Field(max_length=100)
    department_id: int | None = Field(None, ge=1, le=MAX_ID)
    promised_days: int = Field(5, ge=1, le=60)
    group: str = Field("", max_length=50)
    description: str = Field("", max_length=500)
    keywords: str = Field("", max_length=300)
    attributes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Open311 attribute definitions: code, datatype, required, description, values",
    )
    is_active: bool = True


class TopicOut(Schema):
    code: str
    name: str
    department: str | None
    promised_days: int
    group: str
    is_active: bool


@router.get(
    "/topics",
    auth=None,
    response={200: list[TopicOut]},
    summary="Categories (诉求类别)",
)
def topics(request: HttpRequest) -> list[dict[str, Any]]:
    return [_topic_out(topic) for topic in selectors.topics()]


def _topic_out(topic: Topic) -> dict[str, Any]:
    return {
        "code": topic.code,
        "name": topic.name,
        "department": topic.department.name if topic.department_id else None,
        "promised_days": topic.promised_days,
        "group": topic.group,
        "is_active": topic.is_active,
    }


@router.put(
    "/topics",
    response={200: TopicOut, **ERRORS},
    summary="Create or change a category (platform administrator)",
)
def topic_save(request: HttpRequest, payload: TopicIn) -> dict[str, Any]:
    department = _department(payload.department_id) if payload.department_id else None
    topic = services.topic_save(
        actor=request.auth,
        code=payload.code,
        name=payload.name,
        department=department,
        promised_days=payload.promised_days,
        group=payload.group,
        description=payload.description,
        keywords=payload.keywords,
        attributes=payload.attributes,
        is_active=payload.is_active,
    )
    return _topic_out(topic)


@router.get(
    "/rules",
    response={200: list[RoutingRuleOut], **ERRORS},
    summary="Routing rules (12345 centre)",
)
def rules(request: HttpRequest) -> list[dict[str, Any]]:
    return [_rule_out(rule) for rule in selectors.routing_rules(request.auth)]


def _rule_fields(payload: RoutingRuleIn) -> dict[str, Any]:
    return {
        "department": _department(payload.department_id),
        "priority": payload.priority,
        "topic": _topic(payload.topic),
        "item": _item(payload.item),
        "region": _region(payload.region),
        "keyword": payload.keyword,
        "promised_days": payload.promised_days,
        "is_active": payload.is_active,
    }


@router.post("/rules", response={201: RoutingRuleOut, **ERRORS}, summary="Add a routing rule")
def rule_create(request: HttpRequest, payload: RoutingRuleIn) -> Status:
    return Status(
        201,
        _rule_out(
            services.routing_rule_save(actor=request.auth, **_rule_fields(payload))
        ),
    )


@router.put(
    "/rules/{rule_id}",
    response={200: RoutingRuleOut, **ERRORS},
    summary="Change a routing rule",
)
def rule_update(
    request: HttpRequest, payload: RoutingRuleIn, rule_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict:
    rule = selectors.routing_rule(request.auth, rule_id)
    return _rule_out(
        services.routing_rule_save(
            actor=request.auth, rule=rule, **_rule_fields(payload)
        )
    )


@router.delete(
    "/rules/{rule_id}", response={204: None, **ERRORS}, summary="Delete a routing rule"
)
def rule_delete(
    request: HttpRequest, rule_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status:
    services.routing_rule_delete(
        actor=request.auth, rule=selectors.routing_rule(request.auth, rule_id)
    )
    return Status(204, None)


# --- handling -----------------------------------------------------------------------------------------------


@router.get(
    "/",
    response={200: list[ComplaintOut], **ERRORS},
    summary="Requests in my scope (staff)",
)
def staff_queue(
    request: HttpRequest,
    status: str = Query("", max_length=10),
    overdue: bool = Query(False),
) -> list[dict[str, Any]]:
    return [
        complaint_out(c)
        for c in selectors.queue(request.auth, status=status, overdue=overdue)[:500]
    ]


def _visible(request: HttpRequest, complaint_id: int) -> Complaint:
    """A request the caller may see: their own, or one in their staff scope."""
    found = selectors.my_complaints(request.auth).filter(pk=complaint_id).first()
    return found or selectors.complaint_for(request.auth, complaint_id)


@router.get(
    "/{complaint_id}", response={200: ComplaintOut, **ERRORS}, summary="One request"
)
def detail(
    request: HttpRequest, complaint_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    return complaint_out(_visible(request, complaint_id))


@router.get(
    "/{complaint_id}/history",
    response={200: list[UpdateOut], **ERRORS},
    summary="Update history",
)
def history(
    request: HttpRequest, complaint_id: int = Path(..., ge=1, le=MAX_ID)
) -> list[dict[str, Any]]:
    return [
        _update_out(u)
        for u in selectors.public_history(_visible(request, complaint_id))
    ]


def _act(
    request: HttpRequest, complaint_id: int, action: Any, **kwargs: Any
) -> dict[str, Any]:
    return complaint_out(
        action(actor=request.auth, complaint=_visible(request, complaint_id), **kwargs)
    )


@router.post(
    "/{complaint_id}/dispatch",
    response={200: ComplaintOut, **ERRORS},
    summary="Dispatch (12345 centre)",
)
def dispatch(
    request: HttpRequest,
    payload: DispatchIn,
    complaint_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        complaint_id,
        services.complaint_dispatch,
        department=_department(payload.department_id),
        promised_days=payload.promised_days,
    )


@router.post(
    "/{complaint_id}/transfer",
    response={200: ComplaintOut, **ERRORS},
    summary="Transfer to another department",
)
def transfer(
    request: HttpRequest,
    payload: ComplaintTransferIn,
    complaint_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        complaint_id,
        services.complaint_transfer,
        department=_department(payload.department_id),
        reason=payload.reason,
    )


@router.post(
    "/{complaint_id}/extend",
    response={200: ComplaintOut, **ERRORS},
    summary="Extend the answer time",
)
def extend(
    request: HttpRequest,
    payload: ComplaintExtendIn,
    complaint_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        complaint_id,
        services.complaint_extend,
        days=payload.days,
        reason=payload.reason,
    )


@router.post(
    "/{complaint_id}/answer", response={200: ComplaintOut, **ERRORS}, summary="Answer"
)
def answer(
    request: HttpRequest,
    payload: AnswerIn,
    complaint_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(request, complaint_id, services.complaint_answer, answer=payload.answer)


@router.post(
    "/{complaint_id}/rate",
    response={200: ComplaintOut, **ERRORS},
    summary="Rate the answer",
)
def rate(
    request: HttpRequest,
    payload: RateIn,
    complaint_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        complaint_id,
        services.complaint_rate,
        rating=payload.rating,
        comment=payload.comment,
    )


@router.post(
    "/{complaint_id}/reopen",
    response={200: ComplaintOut, **ERRORS},
    summary="Ask to reopen",
)
def reopen(
    request: HttpRequest,
    payload: ReopenIn,
    complaint_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(request, complaint_id, services.complaint_reopen, reason=payload.reason)


@router.post(
    "/{complaint_id}/exposure",
    response={201: ExposureOut, **ERRORS},
    summary="Publish in the exposure column",
)
def exposure_publish(
    request: HttpRequest,
    payload: ExposureIn,
    complaint_id: int = Path(..., ge=1, le=MAX_ID),
) -> Status:
    exposure = services.exposure_publish(
        actor=request.auth,
        complaint=_visible(request, complaint_id),
        title=payload.title,
        problem=payload.problem,
        result=payload.result,
    )
    return Status(
        201,
        {
            "id": exposure.pk,
            "title": exposure.title,
            "problem": exposure.problem,
            "result": exposure.result,
            "department": exposure.department_name,
            "published_at": exposure.published_at,
        },
    )
