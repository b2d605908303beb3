"""/api/licences/: issuing, querying (scoped) and verifying electronic licences.

Public (no sign-in): verification by number or by data file (rate-limited per address), the
trusted-issuer registry and the departments' status lists. Holders list their licences, fetch
the signed data file, make a copy with facts hidden and read who used each licence. Staff of
the issuing department issue (one by one or by bulk import with a dry run), change, renew,
suspend, reinstate, revoke and cancel; staff of another department look a licence up only for
a case they handle, with the purpose. A refusal is a 4xx with a translated `detail`.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status, UploadedFile

from onewindow.accounts.auth import api_auth
from onewindow.core.api import ACTION_ERRORS, ErrorOut, ValidationErrorOut
from onewindow.core.errors import NotFound
from onewindow.core.models import Department
from onewindow.licences import imports, ratelimit, selectors, services
from onewindow.licences.models import Licence

router = Router(tags=["licences"], auth=api_auth)

NUMBER = r"^[0-9A-Za-z-]{1,40}$"
TYPE_CODE = r"^[a-z0-9][a-z0-9_-]{0,49}$"
USCC = r"^[0-9A-Z]{18}$"




ERRORS = ACTION_ERRORS
PUBLIC_ERRORS = {400: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut}


class LicenceOut(Schema):
    number: str
    licence_type: str
    licence_type_name: str
    department_uscc: str
    department_name: str
    holder_kind: str
    holder_id: str
    holder_name: str
    fields: dict[str, Any]
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None = Field(description="null: 长期有效")
    status: str
    status_label: str
    status_reason: str
    version: int
    case_number: str


class IssueIn(Schema):
    licence_type: str = Field(pattern=TYPE_CODE)
    holder_id: str = Field(
        max_length=20, description="ID number (person) or USCC (legal person)"
    )
    holder_name: str = Field(max_length=200)
    fields: dict[str, Any] = Field(default_factory=dict)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    issued_on: dt.date | None = None
    case_number: str = Field("", max_length=50)
    legacy_number: str = Field("", max_length=100)


class LicenceChangeIn(Schema):
    fields: dict[str, Any] = Field(default_factory=dict)
    holder_name: str | None = Field(None, max_length=200)
    case_number: str = Field("", max_length=50)
    note: str = Field("", max_length=300)


class RenewIn(Schema):
    valid_until: dt.date | None = None
    case_number: str = Field("", max_length=50)
    note: str = Field("", max_length=300)


class StatusIn(Schema):
    reason: str = Field(max_length=300)
    case_number: str = Field("", max_length=50)


class LookupIn(Schema):
    case_number: str = Field(
        max_length=50, description="A case your department is handling"
    )
    purpose: str = Field(max_length=300)


class ShareIn(Schema):
    hide: list[str] = Field(
        default_factory=list,
        max_length=100,
        description='Facts to hide, e.g. "field.address", "holder.id"',
    )


class AccessOut(Schema):
    at: dt.datetime
    kind: str
    kind_label: str
    actor: str
    department: str
    case_number: str
    purpose: str


class CheckOut(Schema):
    name: str = Field(description="integrity | status | issuer")
    label: str
    result: str = Field(description="valid | invalid | skipped")
    message: str


class VerifyOut(Schema):
    valid: bool
    checks: list[CheckOut]
    facts: dict[str, Any]
    hidden_facts: int


class RotateIn(Schema):
    department_uscc: str = Field(pattern=USCC)
    algorithm: str = Field("ed25519", pattern=r"^(ed25519|sm2)$")


class KeyOut(Schema):
    key_id: str
    algorithm: str
    public_key: str
    status: str


class ImportErrorOut(Schema):
    row: int
    field: str
    message: str


class ImportOut(Schema):
    rows: int
    dry_run: bool
    ok: bool
    errors: list[ImportErrorOut]
    numbers: list[str]


def _out(licence: Licence) -> dict[str, Any]:
    return {
        "number": licence.number,
        "licence_type": licence.licence_type.code,
        "licence_type_name": licence.licence_type.name,
        "department_uscc": licence.department.uscc,
        "department_name": licence.department.name,
        "holder_kind": licence.holder_kind,
        "holder_id": licence.holder_id,
        "holder_name": licence.holder_name,
        "fields": licence.fields,
        "issued_on": licence.issued_on,
        "valid_from": licence.valid_from,
        "valid_until": licence.valid_until,
        "status": licence.status,
        "status_label": licence.get_status_display(),
        "status_reason": licence.status_reason,
        "version": licence.version,
        "case_number": licence.case_number,
    }


def _json_file(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content.encode(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- public ------------------------------------------------------------------------------------------


@router.get(
    "/verify/{number}",
    auth=None,
    response={200: VerifyOut, **PUBLIC_ERRORS},
    summary="Verify a licence by its number (the QR code): integrity, status, issuer",
)
def verify_number(request: HttpRequest, number: str = Path(..., pattern=NUMBER)) -> Any:
    address = request.META.get("REMOTE_ADDR")
    ratelimit.check_lookup(address)
    report = selectors.verify_number(number)
    if report is None:
        ratelimit.record_miss(address)
        return Status(404, {"detail": _("电子证照库中没有这个证照编号。")})
    return {**report.as_dict(), "facts": selectors.public_facts(report)}


@router.post(
    "/verify",
    auth=None,
    response={200: VerifyOut, **PUBLIC_ERRORS},
    summary="Verify a licence data file (the request body is the file)",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "The signed data file, byte for byte",
        }
    },
)
def verify_file(request: HttpRequest) -> Any:
    ratelimit.check_lookup(request.META.get("REMOTE_ADDR"))
    report = selectors.verify_file(request.body)
    return {**report.as_dict(), "facts": selectors.public_facts(report)}


@router.get(
    "/issuers",
    auth=None,
    response={200: list[dict[str, Any]]},
    summary="The trusted-issuer registry: every department's signing keys",
)
def issuers(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.issuer_registry()


@router.get(
    "/status-lists/{uscc}",
    auth=None,
    response={200: dict[str, Any], **PUBLIC_ERRORS},
    summary="A department's revocation and suspension lists (W3C Bitstring Status List), signed",
)
def status_list(
    request: HttpRequest, uscc: str = Path(..., pattern=USCC)
) -> dict[str, Any]:
    return selectors.status_list_credential(uscc)


# --- holders -------------------------------------------------------------------------------------------


@router.get(
    "/mine",
    response={200: list[LicenceOut], **ERRORS},
    summary="My licences (both directories)",
)
def mine(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(licence) for licence in selectors.my_licences(request.auth)[:500]]


@router.get(
    "/mine/{number}/data",
    response={200: None, **ERRORS},
    summary="My licence's signed data file",
)
def mine_data(
    request: HttpRequest, number: str = Path(..., pattern=NUMBER)
) -> HttpResponse:
    licence = selectors.my_licence(request.auth, number)
    services.licence_record_download(actor=request.auth, licence=licence, what="data")
    return _json_file(licence.current_version.document, f"{licence.number}.json")


@router.post(
    "/mine/{number}/share",
    response={200: None, **ERRORS},
    summary="A verifiable copy of my licence with some facts hidden",
)
def mine_share(
    request: HttpRequest, payload: ShareIn, number: str = Path(..., pattern=NUMBER)
) -> HttpResponse:
    licence = selectors.my_licence(request.auth, number)
    copy = services.shared_copy(licence, payload.hide)
    services.licence_record_download(
        actor=request.auth, licence=licence, what="shared copy"
    )
    return _json_file(copy, f"{licence.number}-shared.json")


@router.get(
    "/mine/{number}/accesses",
    response={200: list[AccessOut], **ERRORS},
    summary="Who used my licence, when, for which case and why",
)
def mine_accesses(
    request: HttpRequest, number: str = Path(..., pattern=NUMBER)
) -> list[dict[str, Any]]:
    licence = selectors.my_licence(request.auth, number)
    return [
        {
            "at": access.at,
            "kind": access.kind,
            "kind_label": access.get_kind_display(),
            "actor": (access.actor.real_name or access.actor.username)
            if access.actor
            else "",
            "department": access.department.name if access.department else "",
            "case_number": access.case_number,
            "purpose": access.purpose,
        }
        for access in selectors.accesses(licence)[:500]
    ]


# --- staff -------------------------------------------------------------------------------------------------


@router.get(
    "/department",
    response={200: list[LicenceOut], **ERRORS},
    summary="Licences my departments issued (search by number, holder identifier or name)",
)
def department_list(
    request: HttpRequest,
    q: str = Query("", max_length=200),
    limit: int = Query(50, ge=1, le=500),
) -> list[dict[str, Any]]:
    return [
        _out(licence)
        for licence in selectors.search_department(request.auth, q)[:limit]
    ]


@router.post(
    "/",
    response={201: LicenceOut, **ERRORS},
    summary="Issue a licence (the issuing department)",
)
def issue(request: HttpRequest, payload: IssueIn) -> Status:
    licence_type = selectors.licence_type(request.auth, payload.licence_type)
    licence = services.licence_issue(
        actor=request.auth,
        licence_type=licence_type,
        holder_id=payload.holder_id,
        holder_name=payload.holder_name,
        fields=payload.fields,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        issued_on=payload.issued_on,
        case_number=payload.case_number,
        legacy_number=payload.legacy_number,
    )
    return Status(201, _out(licence))


@router.post(
    "/import",
    response={200: ImportOut, **ERRORS},
    summary="Bulk import of existing licences (.xlsx, .csv, .json); dry run by default",
)
def bulk_import(
    request: HttpRequest,
    licence_type: str = Form(..., pattern=TYPE_CODE),
    dry_run: bool = Form(True),
    file: UploadedFile = File(...),
) -> dict[str, Any]:
    found = selectors.licence_type(request.auth, licence_type)
    rows = imports.read_rows(file.read(), file.name or "")
    report = services.licence_import(
        actor=request.auth, licence_type=found, rows=rows, dry_run=dry_run
    )
    return {
        "rows": report.rows,
        "dry_run": report.dry_run,
        "ok": report.ok,
        "errors": report.errors,
        "numbers": report.numbers,
    }


@router.get(
    "/department/{number}",
    response={200: LicenceOut, **ERRORS},
    summary="A licence my department issued",
)
def department_detail(
    request: HttpRequest, number: str = Path(..., pattern=NUMBER)
) -> dict[str, Any]:
    return _out(selectors.department_licence(request.auth, number))


@router.post(
    "/department/{number}/change",
    response={200: LicenceOut, **ERRORS},
    summary="变更: a new version",
)
def change(
    request: HttpRequest, payload: LicenceChangeIn, number: str = Path(..., pattern=NUMBER)
) -> dict[str, Any]:
    licence = selectors.department_licence(request.auth, number)
    return _out(
        services.licence_change(
            actor=request.auth,
            licence=licence,
            fields=payload.fields,
            holder_name=payload.holder_name,
            case_number=payload.case_number,
            note=payload.note,
        )
    )


@router.post(
    "/department/{number}/renew",
    response={200: LicenceOut, **ERRORS},
    summary="延续: extend the validity",
)
def renew(
    request: HttpRequest, payload: RenewIn, number: str = Path(..., pattern=NUMBER)
) -> dict[str, Any]:
    licence = selectors.department_licence(request.auth, number)
    return _out(
        services.licence_renew(
            actor=request.auth,
            licence=licence,
            valid_until=payload.valid_until,
            case_number=payload.case_number,
            note=payload.note,
        )
    )


STATUS_ACTIONS = {
    "suspend": lambda actor, licence, p: services.licence_suspend(
        actor=actor, licence=licence, reason=p.reason
    ),
    "reinstate": lambda actor, licence, p: services.licence_reinstate(
        actor=actor, licence=licence, reason=p.reason
    ),
    "revoke": lambda actor, licence, p: services.licence_revoke(
        actor=actor, licence=licence, reason=p.reason, case_number=p.case_number
    ),
    "cancel": lambda actor, licence, p: services.licence_cancel(
        actor=actor, licence=licence, reason=p.reason, case_number=p.case_number
    ),
}


@router.post(
    "/department/{number}/{action}",
    response={200: LicenceOut, **ERRORS},
    summary="Suspend, reinstate, revoke (吊销) or cancel (注销) a licence",
)
def change_status(
    request: HttpRequest,
    payload: StatusIn,
    number: str = Path(..., pattern=NUMBER),
    action: str = Path(..., pattern=r"^(suspend|reinstate|revoke|cancel)$"),
) -> dict[str, Any]:
    licence = selectors.department_licence(request.auth, number)
    return _out(STATUS_ACTIONS[action](request.auth, licence, payload))


@router.post(
    "/lookup/{number}",
    response={200: LicenceOut, **ERRORS},
    summary="Look up another department's licence for a case you handle (logged for the holder)",
)
def lookup(
    request: HttpRequest, payload: LookupIn, number: str = Path(..., pattern=NUMBER)
) -> dict[str, Any]:
    return _out(
        services.licence_lookup(
            actor=request.auth,
            number=number,
            case_number=payload.case_number,
            purpose=payload.purpose,
        )
    )


@router.post(
    "/keys/rotate",
    response={201: KeyOut, **ERRORS},
    summary="Rotate a department's signing key (its administrator); old signatures stay verifiable",
)
def rotate_key(request: HttpRequest, payload: RotateIn) -> Status:
    department = Department.objects.filter(
        uscc=payload.department_uscc, is_active=True
    ).first()
    if department is None:
        raise NotFound(_("没有找到该部门。"))
    key = services.signing_key_rotate(
        actor=request.auth, department=department, algorithm=payload.algorithm
    )
    return Status(
        201,
        {
            "key_id": key.key_id,
            "algorithm": key.algorithm,
            "public_key": key.public_key,
            "status": key.status,
        },
    )
