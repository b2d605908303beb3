"""/api/publicity/: published decisions (public), the department's pending publications, the
publication check and penalty entry (staff), and the open-data catalogue (public)."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from onewindow.accounts.auth import api_auth
from onewindow.core.api import ACTION_ERRORS, ErrorOut, ValidationErrorOut
from onewindow.core.errors import InvalidInput
from onewindow.core.models import Department
from onewindow.publicity import opendata, selectors, services
from onewindow.publicity.choices import DecisionKind, HolderKind
from onewindow.publicity.models import Publication

router = Router(tags=["publicity"], auth=api_auth)

MAX_ID = 2**63 - 1




ERRORS = ACTION_ERRORS


class DecisionOut(Schema):
    id: int
    kind: str
    kind_label: str
    decision_number: str
    title: str
    holder_kind: str
    holder_name: str = Field(
        description="An organisation's name; a person's name masked (张*)"
    )
    holder_code: str
    content: str
    basis: str
    department: str
    decided_on: dt.date
    valid_until: dt.date | None
    published_at: dt.datetime | None


class StaffDecisionOut(DecisionOut):
    status: str
    due: dt.date
    late: bool
    overdue: bool


class PenaltyIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID)
    decision_number: str = Field(max_length=100)
    title: str = Field(max_length=200)
    holder_kind: HolderKind
    holder_name: str = Field(max_length=200)
    holder_code: str = Field("", max_length=18)
    content: str = Field(max_length=2000)
    basis: str = Field(max_length=2000)
    decided_on: dt.date


class WithdrawIn(Schema):
    reason: str = Field(max_length=2000)


class DatasetOut(Schema):
    slug: str
    title: str
    description: str
    columns: list[str]
    updated: str
    csv_url: str
    json_url: str


def decision_out(publication: Publication) -> dict[str, Any]:
    return {
        "id": publication.pk,
        "kind": publication.kind,
        "kind_label": publication.get_kind_display(),
        "decision_number": publication.decision_number,
        "title": publication.title,
        "holder_kind": publication.holder_kind,
        "holder_name": publication.holder_name,
        "holder_code": publication.holder_code,
        "content": publication.content,
        "basis": publication.basis,
        "department": publication.department.name,
        "decided_on": publication.decided_on,
        "valid_until": publication.valid_until,
        "published_at": publication.published_at,
    }


def _staff_out(publication: Publication) -> dict[str, Any]:
    return {
        **decision_out(publication),
        "status": publication.status,
        "due": publication.due,
        "late": publication.late,
        "overdue": publication.status == "pending"
        and publication.due < timezone.localdate(),
    }


@router.get(
    "/decisions",
    auth=None,
    response={200: list[DecisionOut], 400: ErrorOut, 422: ValidationErrorOut},
    summary="Published licensing and penalty decisions",
)
def decisions(
    request: HttpRequest,
    kind: DecisionKind | None = Query(None),
    q: str = Query("", max_length=50),
    page: int = Query(1, ge=1, le=10**6),
    page_size: int = Query(50, ge=1, le=500),
) -> list[dict]:
    found = selectors.published(kind=kind or "", q=q)
    return [decision_out(p) for p in found[(page - 1) * page_size : page * page_size]]


@router.get(
    "/decisions/{publication_id}",
    auth=None,
    response={200: DecisionOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="One published decision",
)
def decision(
    request: HttpRequest, publication_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    return decision_out(selectors.published_one(publication_id))


@router.get(
    "/staff/decisions",
    response={200: list[StaffDecisionOut], **ERRORS},
    summary="Publications of my departments and regions",
)
def staff_decisions(
    request: HttpRequest, status: str = Query("", max_length=10)
) -> list[dict[str, Any]]:
    return [
        _staff_out(p) for p in selectors.for_staff(request.auth, status=status)[:500]
    ]


@router.get(
    "/staff/late",
    response={200: list[StaffDecisionOut], **ERRORS},
    summary="The publication check: unpublished past due, or published late",
)
def staff_late(request: HttpRequest) -> list[dict[str, Any]]:
    return [_staff_out(p) for p in selectors.late(request.auth)[:500]]


@router.post(
    "/staff/decisions/{publication_id}/publish",
    response={200: StaffDecisionOut, **ERRORS},
    summary="Publish",
)
def publish(
    request: HttpRequest, publication_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    found = selectors.publication_for(request.auth, publication_id)
    return _staff_out(
        services.publication_publish(actor=request.auth, publication=found)
    )


@router.post(
    "/staff/decisions/{publication_id}/withdraw",
    response={200: StaffDecisionOut, **ERRORS},
    summary="Withdraw a publication",
)
def withdraw(
    request: HttpRequest,
    payload: WithdrawIn,
    publication_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict:
    found = selectors.publication_for(request.auth, publication_id)
    return _staff_out(
        services.publication_withdraw(
            actor=request.auth, publication=found, reason=payload.reason
        )
    )


@router.post(
    "/staff/penalties",
    response={201: StaffDecisionOut, **ERRORS},
    summary="Enter a penalty decision",
)
def penalty(request: HttpRequest, payload: PenaltyIn) -> Status:
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise InvalidInput(_("请选择启用中的决定机关。"), field="department_id")
    publication = services.penalty_create(
        actor=request.auth,
        department=department,
        decision_number=payload.decision_number,
        title=payload.title,
        holder_kind=payload.holder_kind,
        holder_name=payload.holder_name,
        holder_code=payload.holder_code,
        content=payload.content,
        basis=payload.basis,
        decided_on=payload.decided_on,
    )
    return Status(201, _staff_out(publication))


@router.get(
    "/datasets",
    auth=None,
    response={200: list[DatasetOut]},
    summary="The open-data catalogue",
)
def datasets(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "slug": d.slug,
            "title": str(d.title),
            "description": str(d.description),
            "columns": list(d.columns),
            "updated": str(d.updated),
            "csv_url": reverse("publicity:dataset", args=[d.slug, "csv"]),
            "json_url": reverse("publicity:dataset", args=[d.slug, "json"]),
        }
        for d in opendata.DATASETS.values()
    ]
