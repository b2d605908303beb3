"""/api/supervision/: the board, the red/yellow lists, supervision items and notices, denial
filing reviews, spot checks, and the charge and result reports other systems send.

Scoped as on the web: supervisors see the departments of their regions (outsiders get 404),
a department's staff read and answer the notices addressed to it, the payment and licence
systems report with the token of an account of the department. Every operation needs a bearer
token or a browser session (401 without); a refusal is a 4xx with a translated `detail`.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from onewindow.accounts.auth import api_auth
from onewindow.catalogue.models import ImplementationItem
from onewindow.core.api import ACTION_ERRORS
from onewindow.core.errors import NotFound
from onewindow.core.models import Department
from onewindow.supervision import selectors, services
from onewindow.supervision.choices import (
    DenialOutcome,
    ItemStatus,
    NoticeStatus,
    SignalKind,
)
from onewindow.supervision.models import Signal, SupervisionItem, SupervisionNotice

router = Router(tags=["supervision"], auth=api_auth)

MAX_ID = 2**63 - 1
REGION_CODE = r"^[0-9]{6,12}$"
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2200, 12, 31)




ERRORS = ACTION_ERRORS


class SignalOut(Schema):
    kind: str = Field(description="case | step | joint (a joint case in progress, as its most urgent member)")
    colour: str = Field(description="red | yellow | green")
    case_id: int = Field(description="The case; for a joint signal, the member case that sets its colour")
    case_number: str
    step_name: str | None
    joint_id: int | None = Field(description="The joint case (联办件) of a joint signal")
    joint_number: str | None
    item: str = Field(description="实施编码")
    item_name: str
    department_id: int
    department_name: str
    due: dt.date | None
    responsible: str | None
    changed_at: dt.datetime


class CountOut(Schema):
    id: int
    name: str
    red: int
    yellow: int
    green: int


class BoardOut(Schema):
    region: str | None
    red: int
    yellow: int
    green: int
    departments: list[CountOut]
    items: list[CountOut]
    red_list: list[SignalOut]


class ItemOut(Schema):
    id: int
    number: str
    rule: str | None = Field(description="监察规则编号")
    case_number: str | None
    department_id: int
    subject: str
    description: str
    status: str
    opened_at: dt.datetime


class NoticeIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID, description="被督办机构")
    content: str = Field(min_length=1, max_length=2000)
    deadline: dt.date = Field(
        ge=EARLIEST, le=LATEST, description="整改期限, not before today"
    )
    item_id: int | None = Field(None, ge=1, le=MAX_ID)


class NoticeOut(Schema):
    id: int
    number: str
    department_id: int
    department_name: str
    item_id: int | None
    case_number: str | None
    content: str
    deadline: dt.date
    status: str
    issued_at: dt.datetime
    answer: str
    answered_at: dt.datetime | None
    conclusion: str


class TextIn(Schema):
    text: str = Field(min_length=1, max_length=2000)


class DenialReviewIn(Schema):
    outcome: DenialOutcome
    opinion: str = Field(min_length=1, max_length=2000)


class DenialOut(Schema):
    id: int
    case_number: str
    department_id: int
    reasons: str
    basis: str
    filed_at: dt.datetime
    reviewed_at: dt.datetime | None
    review_opinion: str


class SpotCheckIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID)
    period_from: dt.date = Field(ge=EARLIEST, le=LATEST)
    period_to: dt.date = Field(ge=EARLIEST, le=LATEST)
    sample_size: int = Field(ge=1, le=200)
    seed: str = Field(
        "", max_length=64, description="Leave empty for a fresh random seed (recorded)"
    )


class SampleOut(Schema):
    id: int
    position: int
    case_number: str
    result: str
    findings: str


class SpotCheckOut(Schema):
    id: int
    number: str
    department_id: int
    period_from: dt.date
    period_to: dt.date
    population: int
    sample_size: int
    seed: str
    status: str
    checklist: list[dict]
    samples: list[SampleOut]


class SampleIn(Schema):
    answers: dict[str, bool] = Field(
        description="Every checklist key: true when it holds"
    )
    findings: str = Field("", max_length=2000)


class ChargeIn(Schema):
    case_number: str = Field(min_length=1, max_length=60)
    fee_name: str = Field(min_length=1, max_length=200)
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class ResultIn(Schema):
    department_id: int = Field(ge=1, le=MAX_ID)
    result_name: str = Field(min_length=1, max_length=200)
    result_number: str = Field(min_length=1, max_length=100)
    case_number: str = Field("", max_length=60)
    issued_on: dt.date | None = Field(None, ge=EARLIEST, le=LATEST)


class ReportOut(Schema):
    id: int
    findings: list[ItemOut] = Field(description="Supervision items the report opened")


def _signal_out(signal: Signal) -> dict[str, Any]:
    person = signal.responsible
    return {
        "kind": signal.kind,
        "colour": signal.colour,
        "case_id": signal.case_id,
        "case_number": signal.case.number or "",
        "step_name": signal.step.name if signal.step else None,
        "joint_id": signal.joint_id,
        "joint_number": signal.joint.number if signal.joint else None,
        "item": signal.item.impl_code,
        "item_name": signal.item.name,
        "department_id": signal.department_id,
        "department_name": signal.department.name,
        "due": signal.due,
        "responsible": (person.real_name or person.username) if person else None,
        "changed_at": signal.changed_at,
    }


def _item_out(item: SupervisionItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "number": item.number,
        "rule": item.rule.code if item.rule else None,
        "case_number": item.case.number if item.case else None,
        "department_id": item.department_id,
        "subject": item.subject,
        "description": item.description,
        "status": item.status,
        "opened_at": item.opened_at,
    }


def _notice_out(notice: SupervisionNotice) -> dict[str, Any]:
    return {
        "id": notice.pk,
        "number": notice.number,
        "department_id": notice.department_id,
        "department_name": notice.department.name,
        "item_id": notice.item_id,
        "case_number": notice.case.number if notice.case else None,
        "content": notice.content,
        "deadline": notice.deadline,
        "status": notice.status,
        "issued_at": notice.issued_at,
        "answer": notice.answer,
        "answered_at": notice.answered_at,
        "conclusion": notice.conclusion,
    }


# --- the board and the lists ---------------------------------------------------------------------


@router.get(
    "/board",
    response={200: BoardOut, **ERRORS},
    summary="The live board of the caller's region",
)
def board(
    request: HttpRequest, region: str | None = Query(None, pattern=REGION_CODE)
) -> dict[str, Any]:
    found = selectors.supervised_region(request.auth, region) if region else None
    result = selectors.board(request.auth, region=found)

    def rows(entries: list) -> list[dict[str, Any]]:
        return [
            {
                "id": r.key,
                "name": r.name,
                "red": r.red,
                "yellow": r.yellow,
                "green": r.green,
            }
            for r in entries
        ]

    return {
        "region": found.code if found else None,
        "red": result.totals.red,
        "yellow": result.totals.yellow,
        "green": result.totals.green,
        "departments": rows(result.departments),
        "items": rows(result.items),
        "red_list": [_signal_out(s) for s in result.red_list],
    }


@router.get(
    "/warnings",
    response={200: list[SignalOut], **ERRORS},
    summary="The red list, then the yellow list",
)
def warnings(
    request: HttpRequest,
    department_id: int | None = Query(None, ge=1, le=MAX_ID),
    kind: SignalKind | None = Query(None),
    limit: int = Query(200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Most overdue first; for one department when given (404 outside the caller's scope)."""
    department = (
        selectors.supervised_department(request.auth, department_id)
        if department_id
        else None
    )
    return [
        _signal_out(s)
        for s in selectors.warning_list(
            request.auth, department=department, kind=kind, limit=limit
        )
    ]


# --- items and notices -----------------------------------------------------------------------------


@router.get(
    "/items", response={200: list[ItemOut], **ERRORS}, summary="Supervision items"
)
def items_list(
    request: HttpRequest, status: ItemStatus | None = Query(None)
) -> list[dict[str, Any]]:
    return [
        _item_out(item) for item in selectors.items(request.auth, status=status or "")
    ]


@router.get(
    "/notices", response={200: list[NoticeOut], **ERRORS}, summary="Supervision notices"
)
def notices_list(
    request: HttpRequest, status: NoticeStatus | None = Query(None)
) -> list[dict[str, Any]]:
    """Those the caller supervises, and those addressed to the caller's department."""
    return [
        _notice_out(n) for n in selectors.notices(request.auth, status=status or "")
    ]


@router.post(
    "/notices", response={201: NoticeOut, **ERRORS}, summary="Issue a notice (督办)"
)
def notices_issue(request: HttpRequest, payload: NoticeIn) -> Status:
    """404 for a department unknown or outside the caller's region; 400 for a deadline in the past."""
    item = selectors.item(request.auth, payload.item_id) if payload.item_id else None
    notice = services.notice_issue(
        actor=request.auth,
        department=payload.department_id,
        content=payload.content,
        deadline=payload.deadline,
        item=item,
    )
    return Status(201, _notice_out(notice))


def _notice_action(
    request: HttpRequest, notice_id: int, action: Any, **kwargs: Any
) -> dict[str, Any]:
    notice = selectors.notice(request.auth, notice_id)
    return _notice_out(action(actor=request.auth, notice=notice, **kwargs))


@router.post(
    "/notices/{notice_id}/answer",
    response={200: NoticeOut, **ERRORS},
    summary="Answer a notice (the department)",
)
def notices_answer(
    request: HttpRequest, payload: TextIn, notice_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    return _notice_action(
        request, notice_id, services.notice_answer, answer=payload.text
    )


@router.post(
    "/notices/{notice_id}/close",
    response={200: NoticeOut, **ERRORS},
    summary="Close an answered notice",
)
def notices_close(
    request: HttpRequest, payload: TextIn, notice_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    return _notice_action(
        request, notice_id, services.notice_close, conclusion=payload.text
    )


@router.post(
    "/notices/{notice_id}/escalate",
    response={200: NoticeOut, **ERRORS},
    summary="Escalate a notice",
)
def notices_escalate(
    request: HttpRequest, payload: TextIn, notice_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    return _notice_action(
        request, notice_id, services.notice_escalate, reason=payload.text
    )


# --- denial filings and spot checks ----------------------------------------------------------------


def _denial_out(filing: Any) -> dict[str, Any]:
    return {
        "id": filing.pk,
        "case_number": filing.case.number,
        "department_id": filing.department_id,
        "reasons": filing.reasons,
        "basis": filing.basis,
        "filed_at": filing.created_at,
        "reviewed_at": filing.reviewed_at,
        "review_opinion": filing.review_opinion,
    }


@router.get(
    "/denials",
    response={200: list[DenialOut], **ERRORS},
    summary="Denial filings (否定报备)",
)
def denials_list(
    request: HttpRequest, pending: bool = Query(True)
) -> list[dict[str, Any]]:
    return [
        _denial_out(f) for f in selectors.denial_filings(request.auth, pending=pending)
    ]


@router.post(
    "/denials/{filing_id}/review",
    response={200: DenialOut, **ERRORS},
    summary="Review a denial filing",
)
def denials_review(
    request: HttpRequest,
    payload: DenialReviewIn,
    filing_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict[str, Any]:
    filing = selectors.denial_filing(request.auth, filing_id)
    services.denial_review(
        actor=request.auth,
        filing=filing,
        outcome=payload.outcome,
        opinion=payload.opinion,
    )
    return _denial_out(selectors.denial_filing(request.auth, filing_id))


def _check_out(check: Any) -> dict[str, Any]:
    return {
        "id": check.pk,
        "number": check.number,
        "department_id": check.department_id,
        "period_from": check.period_from,
        "period_to": check.period_to,
        "population": check.population,
        "sample_size": check.sample_size,
        "seed": check.seed,
        "status": check.status,
        "checklist": check.checklist,
        "samples": [
            {
                "id": s.pk,
                "position": s.position,
                "case_number": s.case.number,
                "result": s.result,
                "findings": s.findings,
            }
            for s in check.samples.select_related("case")
        ],
    }


@router.post(
    "/spot-checks", response={201: SpotCheckOut, **ERRORS}, summary="Draw a spot check"
)
def spot_checks_draw(request: HttpRequest, payload: SpotCheckIn) -> Status:
    """400 for a period with no completed case of the department; the seed is recorded."""
    check = services.spot_check_draw(
        actor=request.auth,
        department=payload.department_id,
        period_from=payload.period_from,
        period_to=payload.period_to,
        sample_size=payload.sample_size,
        seed=payload.seed,
    )
    return Status(201, _check_out(check))


@router.get(
    "/spot-checks/{check_id}",
    response={200: SpotCheckOut, **ERRORS},
    summary="A spot check and its samples",
)
def spot_checks_get(
    request: HttpRequest, check_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    return _check_out(selectors.spot_check(request.auth, check_id))


@router.post(
    "/spot-checks/samples/{sample_id}",
    response={200: SpotCheckOut, **ERRORS},
    summary="Record a sample",
)
def spot_checks_record(
    request: HttpRequest, payload: SampleIn, sample_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    sample = selectors.spot_check_sample(request.auth, sample_id)
    services.spot_check_record(
        actor=request.auth,
        sample=sample,
        answers=payload.answers,
        findings=payload.findings,
    )
    return _check_out(selectors.spot_check(request.auth, sample.check_run_id))


# --- reports from the payment and licence systems --------------------------------------------------


def _report_out(record: Any) -> dict[str, Any]:
    return {
        "id": record.pk,
        "findings": [_item_out(record.finding)] if record.finding else [],
    }


@router.post(
    "/charges", response={201: ReportOut, **ERRORS}, summary="Report a fee collected"
)
def charges_report(request: HttpRequest, payload: ChargeIn) -> Status:
    """A fee the case's guide does not list opens a supervision item (rule A07)."""
    record = services.charge_report(
        actor=request.auth,
        case_number=payload.case_number,
        fee_name=payload.fee_name,
        amount=payload.amount,
    )
    return Status(201, _report_out(record))


@router.post(
    "/results", response={201: ReportOut, **ERRORS}, summary="Report a result issued"
)
def results_report(request: HttpRequest, payload: ResultIn) -> Status:
    """A result with no approved case of the department behind it opens an item (rule A05)."""
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise NotFound(_("没有找到该部门。"))
    record = services.result_report(
        actor=request.auth,
        department=department,
        result_name=payload.result_name,
        result_number=payload.result_number,
        case_number=payload.case_number,
        issued_on=payload.issued_on,
    )
    return Status(201, _report_out(record))


# --- configuration: rules and item settings ----------------------------------------------------------


class AnomalyRuleOut(Schema):
    code: str
    kind: str
    name: str
    description: str
    enabled: bool
    parameters: dict[str, int]


class AnomalyRuleIn(Schema):
    enabled: bool
    parameters: dict[str, int] = Field(
        default_factory=dict, description="Only the rule's own parameters"
    )


class ItemSettingIn(Schema):
    near_days: int | None = Field(
        None,
        ge=0,
        le=60,
        description="Yellow this many working days before; null: by share",
    )
    near_percent: int = Field(
        20, ge=1, le=100, description="Yellow when this share of the limit is left"
    )
    separate_accept_and_decide: bool = False


class ItemSettingOut(ItemSettingIn):
    item: str


def _rule_out(rule: Any) -> dict[str, Any]:
    return {
        "code": rule.code,
        "kind": rule.kind,
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "parameters": rule.parameters,
    }


@router.get(
    "/rules", response={200: list[AnomalyRuleOut], **ERRORS}, summary="The supervision rules"
)
def rules_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_rule_out(rule) for rule in selectors.rule_list()]


@router.put(
    "/rules/{code}",
    response={200: AnomalyRuleOut, **ERRORS},
    summary="Configure a rule (platform administrators)",
)
def rules_configure(
    request: HttpRequest,
    payload: AnomalyRuleIn,
    code: str = Path(..., pattern=r"^[AW][0-9]{2}$"),
) -> dict[str, Any]:
    rule = next((rule for rule in selectors.rule_list() if rule.code == code), None)
    if rule is None:
        raise NotFound(_("没有该监察规则。"))
    return _rule_out(
        services.rule_configure(
            actor=request.auth,
            rule=rule,
            enabled=payload.enabled,
            parameters=payload.parameters,
        )
    )


@router.put(
    "/item-settings/{impl_code}",
    response={200: ItemSettingOut, **ERRORS},
    summary="An item's warning threshold and separation of duties",
)
def item_settings_save(
    request: HttpRequest,
    payload: ItemSettingIn,
    impl_code: str = Path(..., pattern=r"^[0-9A-Za-z-]{1,36}$"),
) -> dict[str, Any]:
    """By the item department's administrator or a platform administrator (403 otherwise)."""
    item = (
        ImplementationItem.objects.select_related("department")
        .filter(impl_code=impl_code)
        .first()
    )
    if item is None:
        raise NotFound(_("没有找到该事项。"))
    setting = services.item_setting_save(
        actor=request.auth,
        item=item,
        near_days=payload.near_days,
        near_percent=payload.near_percent,
        separate_accept_and_decide=payload.separate_accept_and_decide,
    )
    return {
        "item": item.impl_code,
        "near_days": setting.near_days,
        "near_percent": setting.near_percent,
        "separate_accept_and_decide": setting.separate_accept_and_decide,
    }
