"""Core JSON API (/api/core/): regions, departments and an identifier checker.

All endpoints are public and read-only. A malformed region code is a 400 and an unknown one
a 404, both with a translated `detail`; out-of-range numbers and missing parameters are
rejected by the schema (422).
"""

import contextlib
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import register_converter
from django.urls.converters import StringConverter
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from onewindow.core.choices import RegionLevel
from onewindow.core.identifiers import parse_id_number, parse_uscc, upgrade_id_number_15
from onewindow.core.models import Department, Region
from onewindow.core.selectors.regions import (
    departments_visible_to,
    region_ancestors,
    region_get,
    regions_list,
)

router = Router(tags=["core"])

MAX_PAGE = 100_000
MAX_PAGE_SIZE = 200
# The shape is documented but not enforced by the schema layer: a code of any other shape
# gets the selector's translated 400 rather than a generic 422.
RegionCode = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^[0-9]{6}([0-9]{3}){0,2}$", "examples": ["520302"]})
]


class _AnyText(StringConverter):
    """Matches any non-empty text, slashes and newlines included, so that every malformed
    region code reaches the handler and gets a JSON 400 instead of an HTML 404."""

    regex = r"[\s\S]+"


register_converter(_AnyText, "ow_any_text")


class ErrorOut(Schema):
    """A refusal: why, in the caller's language, and the input field it concerns, if one."""

    detail: str
    field: str | None = None


class ValidationErrorOut(Schema):
    detail: list[dict[str, Any]]


# The error answers every app's API declares: not signed in / not allowed; not found or a
# malformed request; and for actions also bad input and a state that does not allow it.
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}
READ_ERRORS = {**AUTH_ERRORS, 404: ErrorOut, 422: ValidationErrorOut}
ACTION_ERRORS = {400: ErrorOut, **AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut}


class RegionOut(Schema):
    code: str = Field(..., pattern=r"^[0-9]{6}([0-9]{6})?$")
    name: str
    level: int = Field(..., ge=1, le=5)
    level_label: str
    parent_code: str | None
    path: str


class RegionDetailOut(RegionOut):
    ancestors: list[RegionOut]
    children_count: int


class RegionPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[RegionOut]


class DepartmentOut(Schema):
    id: int
    name: str
    short_name: str
    uscc: str
    region_code: str
    region_name: str
    parent_id: int | None
    is_active: bool


class DepartmentPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DepartmentOut]


class IdentifierCheckOut(Schema):
    kind: Literal["id_number", "uscc"]
    valid: bool
    normalised: str | None
    errors: list[str]
    warnings: list[str]
    facts: dict[str, str]


ERRORS = {400: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


def _region_out(region: Region) -> dict[str, Any]:
    codes = [code for code in region.path.split("/") if code]
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "level_label": str(RegionLevel(region.level).label),
        "parent_code": codes[-2] if len(codes) > 1 else None,
        "path": region.path,
    }


def _department_out(department: Department) -> dict[str, Any]:
    return {
        "id": department.pk,
        "name": department.name,
        "short_name": department.short_name,
        "uscc": department.uscc,
        "region_code": department.region.code,
        "region_name": department.region.name,
        "parent_id": department.parent_id,
        "is_active": department.is_active,
    }


def _page(queryset: QuerySet, page: int, page_size: int, convert: Callable[[Model], dict]) -> dict[str, Any]:
    start = (page - 1) * page_size
    return {
        "count": queryset.count(),
        "page": page,
        "page_size": page_size,
        "items": [convert(obj) for obj in queryset[start : start + page_size]],
    }


@router.get("/regions", response={200: RegionPage, **ERRORS}, summary="List administrative regions")
def list_regions(
    request: HttpRequest,
    parent: RegionCode = Query(None, description="Only the direct children of this region (6, 9 or 12 digits)."),
    level: int | None = Query(None, ge=1, le=5, description="1 province, 2 city, 3 county, 4 township, 5 village."),
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
):
    """Regions in tree order, paginated."""
    parent_region = region_get(parent) if parent is not None else None
    return _page(regions_list(parent=parent_region, level=level), page, page_size, _region_out)


@router.get(
    "/regions/{ow_any_text:code}",
    response={200: RegionDetailOut, 400: ErrorOut, 404: ErrorOut},
    summary="One administrative region with its ancestors",
)
def get_region(request: HttpRequest, code: RegionCode):
    """Accepts 6-, 9- or 12-digit codes; "520302000000" finds 520302."""
    region = region_get(code)
    return {
        **_region_out(region),
        "ancestors": [_region_out(r) for r in region_ancestors(region)],
        "children_count": region.children.count(),
    }


@router.get("/departments", response={200: DepartmentPage, **ERRORS}, summary="List departments")
def list_departments(
    request: HttpRequest,
    region: RegionCode = Query(None, description="Only departments of this region code."),
    descendants: bool = Query(False, description="Include departments of every region below `region`."),
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
):
    """Active departments (inactive ones too for department managers), paginated."""
    scope = region_get(region) if region is not None else None
    departments = departments_visible_to(request.user, region=scope)
    if scope is not None and not descendants:
        departments = departments.filter(region=scope)
    return _page(departments, page, page_size, _department_out)


@router.get(
    "/identifiers/check",
    response={200: IdentifierCheckOut, 422: ValidationErrorOut},
    summary="Check a resident ID number or a unified social credit code",
)
def check_identifier(request: HttpRequest, kind: Literal["id_number", "uscc"], value: str):
    """Always 200 for any value: `valid` says whether it passed, `errors` why not."""
    facts: dict[str, str] = {}
    try:
        if kind == "id_number":
            parsed = parse_id_number(value)
            facts = {
                "region_code": parsed.region_code,
                "birth_date": parsed.birth_date.isoformat(),
                "sequence": f"{parsed.sequence:03d}",
                "sex": parsed.sex,
            }
            warnings: tuple[str, ...] = ()
        else:
            parsed = parse_uscc(value)
            facts = {
                "registration_authority": parsed.registration_authority,
                "institution_category": parsed.institution_category,
                "region_code": parsed.region_code,
                "organisation_code": parsed.organisation_code,
            }
            warnings = parsed.warnings
    except ValidationError as exc:
        if exc.code == "id_legacy_15":
            # Old 15-digit numbers are refused, but the caller learns the 18-digit form.
            with contextlib.suppress(ValidationError):
                facts = {"upgraded_number": upgrade_id_number_15(value)}
        return {
            "kind": kind, "valid": False, "normalised": None, "errors": exc.messages, "warnings": [], "facts": facts
        }
    return {
        "kind": kind,
        "valid": True,
        "normalised": parsed.number,
        "errors": [],
        "warnings": list(warnings),
        "facts": facts,
    }
