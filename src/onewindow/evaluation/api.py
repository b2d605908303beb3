"""/api/evaluation/: ratings, rectification of bad reviews, figures.

Applicants rate their finished cases (一事一评) and change a rating within the change window;
a visit is rated by the person served or with the code on the ticket (一次一评), signed in or
not. Department staff work their rectification items; supervisors decide appeals. Figures per
staff member, window, department or item follow the staff scope; the public satisfaction
figures need no sign-in. A refusal is a 4xx with a translated `detail`.
"""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from onewindow.accounts.auth import api_auth
from onewindow.cases.models import Case
from onewindow.core.api import ACTION_ERRORS, ErrorOut, ValidationErrorOut
from onewindow.core.errors import InvalidInput
from onewindow.evaluation import selectors, services
from onewindow.evaluation.choices import EvaluationChannel, FigureGrouping
from onewindow.evaluation.models import Evaluation, Rectification
from onewindow.hall.models import QueueTicket

router = Router(tags=["evaluation"], auth=api_auth)

MAX_ID = 2**63 - 1
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 12, 31)




ERRORS = ACTION_ERRORS
PUBLIC_ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut}


class RatingIn(Schema):
    level: int = Field(ge=1, le=5, description="满意度代码: 1 非常满意 … 5 非常不满意")
    indicators: dict[str, int] = Field(
        default_factory=dict, description="分项评价, indicator code → level"
    )
    comment: str = Field("", max_length=1000, description="Required for levels 4 and 5")
    channel: EvaluationChannel = EvaluationChannel.PC


class VisitRatingIn(RatingIn):
    channel: EvaluationChannel = EvaluationChannel.QR_CODE
    token: str = Field(
        "", max_length=500, description="The code printed on the ticket (QR code)"
    )


class RatingChangeIn(Schema):
    level: int = Field(ge=1, le=5)
    indicators: dict[str, int] = Field(default_factory=dict)
    comment: str = Field("", max_length=1000)


class EvaluationOut(Schema):
    id: int
    subject: str
    case_number: str | None
    item: str
    item_name: str
    department_name: str
    level: int
    level_label: str
    indicators: dict[str, int]
    comment: str
    channel: str
    rated_at: dt.datetime
    changeable_until: dt.datetime
    times: int
    counted: bool
    rectification_id: int | None


class CallBackIn(Schema):
    reached: bool
    note: str = Field(min_length=1, max_length=2000)


class FixIn(Schema):
    outcome: str = Field(description="fixed | explained")
    result: str = Field(min_length=1, max_length=2000)


class AppealIn(Schema):
    kind: str = Field(description="mistaken | malicious")
    reason: str = Field(min_length=1, max_length=2000)


class AppealDecisionIn(Schema):
    upheld: bool
    opinion: str = Field(min_length=1, max_length=2000)


class AssignIn(Schema):
    handler_id: int = Field(ge=1, le=MAX_ID)


class CallBackOut(Schema):
    at: dt.datetime
    reached: bool
    note: str


class RectificationOut(Schema):
    id: int
    status: str
    status_label: str
    department_name: str
    handler_id: int | None
    item_name: str
    level: int
    comment: str
    real_name: bool
    fix_due: dt.date
    overdue: bool
    call_back_required: bool
    called_back_at: dt.datetime | None
    outcome: str
    result: str
    closed_at: dt.datetime | None
    closed_late: bool
    appeal_kind: str
    appeal_reason: str
    appeal_upheld: bool | None
    appeal_opinion: str
    call_backs: list[CallBackOut]


class SatisfactionFigureOut(Schema):
    key: int | None
    name: str
    total: int
    by_level: dict[int, int]
    satisfied: int
    satisfaction: float | None
    bad: int
    rectified: int


def _evaluation_out(evaluation: Evaluation) -> dict[str, Any]:
    rectification = (
        Rectification.objects.filter(evaluation=evaluation)
        .values_list("pk", flat=True)
        .first()
    )
    return {
        "id": evaluation.pk,
        "subject": evaluation.subject,
        "case_number": evaluation.case.number if evaluation.case_id else None,
        "item": evaluation.item.impl_code,
        "item_name": evaluation.item.name,
        "department_name": evaluation.department.name,
        "level": evaluation.level,
        "level_label": evaluation.get_level_display(),
        "indicators": evaluation.indicators,
        "comment": evaluation.comment,
        "channel": evaluation.channel,
        "rated_at": evaluation.rated_at,
        "changeable_until": evaluation.changeable_until,
        "times": evaluation.times,
        "counted": evaluation.counted,
        "rectification_id": rectification,
    }


def _rectification_out(rectification: Rectification) -> dict[str, Any]:
    evaluation = rectification.evaluation
    pending = rectification.status in ("open", "called_back")
    return {
        "id": rectification.pk,
        "status": rectification.status,
        "status_label": rectification.get_status_display(),
        "department_name": rectification.department.name,
        "handler_id": rectification.handler_id,
        "item_name": evaluation.item.name,
        "level": evaluation.level,
        "comment": evaluation.comment,
        "real_name": evaluation.real_name,
        "fix_due": rectification.fix_due,
        "overdue": pending and rectification.fix_due < timezone.localdate(),
        "call_back_required": rectification.call_back_required,
        "called_back_at": rectification.called_back_at,
        "outcome": rectification.outcome,
        "result": rectification.result,
        "closed_at": rectification.closed_at,
        "closed_late": rectification.closed_late,
        "appeal_kind": rectification.appeal_kind,
        "appeal_reason": rectification.appeal_reason,
        "appeal_upheld": rectification.appeal_upheld,
        "appeal_opinion": rectification.appeal_opinion,
        "call_backs": [
            {"at": c.at, "reached": c.reached, "note": c.note}
            for c in rectification.call_backs.all()
        ],
    }


def _figure_out(row: selectors.FigureRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "total": row.total,
        "by_level": row.by_level,
        "satisfied": row.satisfied,
        "satisfaction": row.satisfaction,
        "bad": row.bad,
        "rectified": row.rectified,
    }


# --- raters ---------------------------------------------------------------------------------------------


@router.post(
    "/cases/{case_id}",
    response={201: EvaluationOut, **ERRORS},
    summary="Rate my finished case (一事一评)",
)
def rate_case(
    request: HttpRequest, payload: RatingIn, case_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status:
    """404 for a case that is not the caller's; 409 before the case is finished or when already rated."""
    evaluation = services.evaluation_rate_case(
        actor=request.auth,
        case=Case(pk=case_id),
        level=payload.level,
        indicators=payload.indicators,
        comment=payload.comment,
        channel=payload.channel,
    )
    return Status(201, _evaluation_out(evaluation))


@router.post(
    "/visits/{ticket_id}",
    auth=[*api_auth, lambda request: True],
    response={201: EvaluationOut, **ERRORS},
    summary="Rate a visit to a window (一次一评)",
)
def rate_visit(
    request: HttpRequest,
    payload: VisitRatingIn,
    ticket_id: int = Path(..., ge=1, le=MAX_ID),
) -> Status:
    """Signed in as the person served, or with the ticket's code (anonymous allowed)."""
    actor = request.auth if request.auth is not True else None
    evaluation = services.evaluation_rate_visit(
        actor=actor,
        ticket=QueueTicket(pk=ticket_id),
        level=payload.level,
        indicators=payload.indicators,
        comment=payload.comment,
        channel=payload.channel,
        token=payload.token,
    )
    return Status(201, _evaluation_out(evaluation))


@router.get(
    "/mine", response={200: list[EvaluationOut], **ERRORS}, summary="My ratings"
)
def mine(request: HttpRequest) -> list[dict[str, Any]]:
    return [_evaluation_out(e) for e in selectors.my_evaluations(request.auth)[:200]]


@router.put(
    "/mine/{evaluation_id}",
    response={200: EvaluationOut, **ERRORS},
    summary="Change my rating",
)
def change(
    request: HttpRequest,
    payload: RatingChangeIn,
    evaluation_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    evaluation = selectors.my_evaluation(request.auth, evaluation_id)
    return _evaluation_out(
        services.evaluation_change(
            actor=request.auth,
            evaluation=evaluation,
            level=payload.level,
            indicators=payload.indicators,
            comment=payload.comment,
        )
    )


# --- rectification ------------------------------------------------------------------------------------------


@router.get(
    "/rectifications",
    response={200: list[RectificationOut], **ERRORS},
    summary="Rectification items",
)
def rectification_list(
    request: HttpRequest,
    status: str = Query("", max_length=12),
    overdue: bool = Query(False),
) -> list[dict[str, Any]]:
    found = selectors.rectifications(
        request.auth, status=status, overdue=overdue
    ).prefetch_related("call_backs")
    return [_rectification_out(r) for r in found[:500]]


@router.get(
    "/rectifications/{rectification_id}",
    response={200: RectificationOut, **ERRORS},
    summary="One rectification item",
)
def rectification_detail(
    request: HttpRequest, rectification_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict:
    return _rectification_out(
        selectors.rectification_for(request.auth, rectification_id)
    )


def _act(
    request: HttpRequest, rectification_id: int, action: Any, **kwargs: Any
) -> dict[str, Any]:
    found = selectors.rectification_for(request.auth, rectification_id)
    action(actor=request.auth, rectification=found, **kwargs)
    return _rectification_out(
        selectors.rectification_for(request.auth, rectification_id)
    )


@router.post(
    "/rectifications/{rectification_id}/assign",
    response={200: RectificationOut, **ERRORS},
    summary="Name the handler (department administrator)",
)
def rectification_assign(
    request: HttpRequest,
    payload: AssignIn,
    rectification_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    handler = get_user_model().objects.filter(pk=payload.handler_id).first()
    if handler is None:
        raise InvalidInput(_("整改责任人须为责任部门的工作人员。"), field="handler_id")
    return _act(
        request, rectification_id, services.rectification_assign, handler=handler
    )


@router.post(
    "/rectifications/{rectification_id}/call-backs",
    response={200: RectificationOut, **ERRORS},
    summary="Record a call-back to the rater",
)
def rectification_call_back(
    request: HttpRequest,
    payload: CallBackIn,
    rectification_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        rectification_id,
        services.rectification_call_back,
        reached=payload.reached,
        note=payload.note,
    )


@router.post(
    "/rectifications/{rectification_id}/fix",
    response={200: RectificationOut, **ERRORS},
    summary="Close the item: fixed or explained",
)
def rectification_fix(
    request: HttpRequest,
    payload: FixIn,
    rectification_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        rectification_id,
        services.rectification_fix,
        outcome=payload.outcome,
        result=payload.result,
    )


@router.post(
    "/rectifications/{rectification_id}/appeal",
    response={200: RectificationOut, **ERRORS},
    summary="Appeal a mistaken or malicious rating",
)
def rectification_appeal(
    request: HttpRequest,
    payload: AppealIn,
    rectification_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        rectification_id,
        services.rectification_appeal,
        kind=payload.kind,
        reason=payload.reason,
    )


@router.post(
    "/rectifications/{rectification_id}/appeal-decision",
    response={200: RectificationOut, **ERRORS},
    summary="Decide an appeal (supervisor)",
)
def rectification_decide_appeal(
    request: HttpRequest,
    payload: AppealDecisionIn,
    rectification_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    return _act(
        request,
        rectification_id,
        services.rectification_decide_appeal,
        upheld=payload.upheld,
        opinion=payload.opinion,
    )


# --- figures -------------------------------------------------------------------------------------------------


@router.get(
    "/figures", response={200: list[SatisfactionFigureOut], **ERRORS}, summary="Figures in my scope"
)
def figures(
    request: HttpRequest,
    by: FigureGrouping = Query(...),
    date_from: dt.date = Query(..., ge=EARLIEST, le=LATEST),
    date_to: dt.date = Query(..., ge=EARLIEST, le=LATEST),
) -> list[dict[str, Any]]:
    rows = selectors.figures(request.auth, by=by, date_from=date_from, date_to=date_to)
    return [_figure_out(row) for row in rows]


@router.get(
    "/public-figures",
    auth=None,
    response={200: list[SatisfactionFigureOut], **PUBLIC_ERRORS},
    summary="Public satisfaction figures per department or item",
)
def public_figures(
    request: HttpRequest,
    by: FigureGrouping = Query(FigureGrouping.DEPARTMENT),
    date_from: dt.date = Query(..., ge=EARLIEST, le=LATEST),
    date_to: dt.date = Query(..., ge=EARLIEST, le=LATEST),
) -> list[dict[str, Any]]:
    return [
        _figure_out(row)
        for row in selectors.public_figures(by=by, date_from=date_from, date_to=date_to)
    ]
