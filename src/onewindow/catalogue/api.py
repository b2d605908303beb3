"""Catalogue JSON API (/api/catalogue/): the published catalogue, public and read-only.

List and search items, read a full guide (the current or an earlier published version), its
change history, the themes, the six lists and the basic catalogue. A guide's `content` is the
catalogue's own content schema (onewindow.catalogue.schema.ItemContent), so the OpenAPI
document describes every element. An item that is not published is a 404; a malformed filter
is a 422.
"""

import re
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from onewindow.catalogue import selectors
from onewindow.catalogue.choices import Audience, CaseType, ItemList, ItemType
from onewindow.catalogue.guide import change_label, choice_label
from onewindow.catalogue.models import BasicItem, ImplementationItem, ItemVersion, Theme
from onewindow.catalogue.schema import ItemContent
from onewindow.catalogue.selectors import CatalogueFilters
from onewindow.core.api import (  # also registers the ow_any_text converter
    ErrorOut,
    ValidationErrorOut,
)
from onewindow.catalogue.api_exchange import router as exchange_router
from onewindow.core.errors import NotFound

router = Router(tags=["catalogue"])
# Import and export (POST /import, GET /export) live in their own module.
router.add_router("", exchange_router)

MAX_LIMIT = 100
MAX_OFFSET = 100_000
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1
_IMPL_CODE = re.compile(r"[0-9A-Za-z-]{1,36}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
ERRORS = {404: ErrorOut, 422: ValidationErrorOut}


class DepartmentRef(Schema):
    id: int
    name: str
    uscc: str


class RegionRef(Schema):
    code: str
    name: str


class ItemSummaryOut(Schema):
    impl_code: str
    name: str
    item_type: str
    item_type_label: str
    department: DepartmentRef
    region: RegionRef
    case_type: str
    case_type_label: str
    promised_days: int | None = Field(description="Promised time limit in working days (承诺办结时限)")
    visits: int | None = Field(description="到办事现场次数; 0 or 1 is 最多跑一次")
    online_depth: int | None = Field(description="网上办理深度, 1 to 4")
    lists: list[str] = Field(description="Codes of the six lists the item is tagged with")
    published_at: datetime | None
    url: str = Field(description="The guide page on the portal")


class ItemPageOut(Schema):
    total: int
    limit: int
    offset: int
    items: list[ItemSummaryOut]


class ItemDetailOut(Schema):
    impl_code: str = Field(description="实施编码")
    basic_code: str = Field(description="基本编码")
    handle_item_code: str = Field(description="业务办理项编码 (empty when none)")
    department: DepartmentRef
    region: RegionRef
    version: int
    is_current: bool
    published_at: datetime | None
    superseded_at: datetime | None
    change_note: str
    url: str
    pdf_url: str
    flowchart_url: str
    content: ItemContent


class ChangeOut(Schema):
    path: list[str]
    label: str
    kind: str = Field(description='"added", "removed" or "changed"')
    kind_label: str
    old: Any = None
    new: Any = None


class VersionOut(Schema):
    number: int
    is_current: bool
    urgent: bool
    published_at: datetime | None
    superseded_at: datetime | None
    change_note: str
    batch: str | None
    url: str
    changes: list[ChangeOut] = Field(description="What changed against the version before; empty for the first")


class HistoryOut(Schema):
    impl_code: str
    name: str
    versions: list[VersionOut]


class ThemeOut(Schema):
    code: str
    name: str
    audience: str
    audience_label: str


class ListOut(Schema):
    code: str
    name: str
    count: int = Field(description="Published items tagged with this list")
    url: str


class BasicItemOut(Schema):
    basic_code: str
    name: str
    item_type: str
    item_type_label: str
    exercise_level: str
    legal_basis: str


class BasicItemPageOut(Schema):
    total: int
    limit: int
    offset: int
    items: list[BasicItemOut]


def _absolute(request: HttpRequest, name: str, *args: Any) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _department(item: ImplementationItem) -> dict[str, Any]:
    return {"id": item.department.pk, "name": item.department.name, "uscc": item.department.uscc}


def _region(item: ImplementationItem) -> dict[str, str]:
    return {"code": item.region.code, "name": item.region.name}


def _summary(request: HttpRequest, item: ImplementationItem) -> dict[str, Any]:
    return {
        "impl_code": item.impl_code,
        "name": item.name,
        "item_type": item.item_type,
        "item_type_label": choice_label(ItemType, item.item_type),
        "department": _department(item),
        "region": _region(item),
        "case_type": item.case_type,
        "case_type_label": choice_label(CaseType, item.case_type),
        "promised_days": item.promised_days,
        "visits": item.visits,
        "online_depth": item.online_depth,
        "lists": [membership.list_code for membership in item.list_memberships.all()],
        "published_at": item.published_at,
        "url": _absolute(request, "catalogue:item", item.impl_code),
    }


def _item(impl_code: str) -> ImplementationItem:
    if not _IMPL_CODE.fullmatch(impl_code):
        raise NotFound(_("没有找到该事项，或它尚未发布。"))
    return selectors.public_item(impl_code.upper())


def _detail(request: HttpRequest, item: ImplementationItem, version: ItemVersion) -> dict[str, Any]:
    is_current = version.pk == item.current_version_id
    url = (
        _absolute(request, "catalogue:item", item.impl_code)
        if is_current
        else _absolute(request, "catalogue:version", item.impl_code, version.number)
    )
    flowchart = _absolute(request, "catalogue:flowchart", item.impl_code)
    return {
        "impl_code": item.impl_code,
        "basic_code": item.basic_item.basic_code,
        "handle_item_code": item.handle_item_code,
        "department": _department(item),
        "region": _region(item),
        "version": version.number,
        "is_current": is_current,
        "published_at": version.published_at,
        "superseded_at": version.superseded_at,
        "change_note": version.change_note,
        "url": url,
        "pdf_url": _absolute(request, "catalogue:item_pdf", item.impl_code),
        "flowchart_url": flowchart if is_current else f"{flowchart}?v={version.number}",
        "content": version.content,
    }


@router.get("/items", response={200: ItemPageOut, 422: ValidationErrorOut}, summary="List or search published items")
def items_list(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="Search words (Chinese or not); results ranked by relevance"),
    theme: str | None = Query(None, pattern=r"^[A-Za-z0-9_.-]{1,30}$", description="Theme code (GET /themes)"),
    audience: Audience | None = Query(None, description="Themes of this audience only"),
    department: int | None = Query(None, ge=1, le=MAX_ID, description="Department id"),
    region: str | None = Query(
        None, pattern=r"^[0-9]{6}([0-9]{3}){0,2}$",
        description="Region code: the items of this region and of every region above it",
    ),
    item_type: ItemType | None = Query(None),
    list_code: ItemList | None = Query(None, alias="list", description="One of the six lists (GET /lists)"),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """Published items, by name or, with `q`, by relevance."""
    filters = CatalogueFilters(
        q=_CONTROL.sub(" ", q).strip(),
        theme=theme or "",
        audience=audience or "",
        department=department,
        region=region or "",
        item_type=item_type or "",
        list_code=list_code or "",
    )
    page = selectors.public_items(filters, limit=limit, offset=offset)
    items = selectors.with_list_tags(page.items)
    return {"total": page.total, "limit": limit, "offset": offset, "items": [_summary(request, item) for item in items]}


# Routes with a slash after the code come first: the code converter accepts any text.
@router.get(
    "/items/{ow_any_text:impl_code}/history",
    response={200: HistoryOut, **ERRORS},
    summary="Public change history of an item",
)
def item_history(request: HttpRequest, impl_code: str):
    """Every published version, newest first, with the changes against the version before."""
    item = _item(impl_code)
    entries = selectors.public_history(item)
    versions = []
    for index, entry in enumerate(entries):
        version = entry.version
        previous = entries[index + 1].version if index + 1 < len(entries) else None
        is_current = version.pk == item.current_version_id
        versions.append({
            "number": version.number,
            "is_current": is_current,
            "urgent": version.urgent,
            "published_at": version.published_at,
            "superseded_at": version.superseded_at,
            "change_note": version.change_note,
            "batch": version.batch.title if version.batch else None,
            "url": _absolute(request, "catalogue:item", item.impl_code)
            if is_current
            else _absolute(request, "catalogue:version", item.impl_code, version.number),
            "changes": [] if previous is None else [
                {"path": list(change.path), "label": change_label(change.path, previous.content, version.content),
                 "kind": change.kind, "kind_label": change.kind_label, "old": change.old, "new": change.new}
                for change in entry.changes
            ],
        })
    return {"impl_code": item.impl_code, "name": item.name, "versions": versions}


@router.get(
    "/items/{ow_any_text:impl_code}/versions/{number}",
    response={200: ItemDetailOut, **ERRORS},
    summary="The guide of an item as one published version read",
)
def item_version(request: HttpRequest, impl_code: str, number: int = Path(..., ge=1, le=MAX_VERSION)):
    """The current or an earlier published version (cases keep the version they were filed under)."""
    item = _item(impl_code)
    return _detail(request, item, selectors.public_version(item, number))


@router.get(
    "/items/{ow_any_text:impl_code}",
    response={200: ItemDetailOut, **ERRORS},
    summary="The full service guide of a published item",
)
def item_detail(request: HttpRequest, impl_code: str):
    """The codes, the department and every element of the current version's guide."""
    item = _item(impl_code)
    return _detail(request, item, item.current_version)


def _theme_out(theme: Theme) -> dict[str, str]:
    return {
        "code": theme.code,
        "name": theme.name,
        "audience": theme.audience,
        "audience_label": choice_label(Audience, theme.audience),
    }


@router.get("/themes", response={200: list[ThemeOut], 422: ValidationErrorOut}, summary="Life events and enterprise themes")
def themes_list(request: HttpRequest, audience: Audience | None = Query(None)):
    return [_theme_out(theme) for theme in selectors.themes(audience or "")]


@router.get("/lists", response={200: list[ListOut]}, summary="The six lists and how many published items each holds")
def lists_list(request: HttpRequest):
    counts = selectors.public_list_counts()
    return [
        {"code": code, "name": str(label), "count": counts.get(code, 0), "url": _absolute(request, "catalogue:list", code)}
        for code, label in ItemList.choices
    ]


def _basic_out(basic: BasicItem) -> dict[str, str]:
    return {
        "basic_code": basic.basic_code,
        "name": basic.name,
        "item_type": basic.item_type,
        "item_type_label": choice_label(ItemType, basic.item_type),
        "exercise_level": basic.exercise_level,
        "legal_basis": basic.legal_basis,
    }


@router.get(
    "/basic-items",
    response={200: BasicItemPageOut, 422: ValidationErrorOut},
    summary="The basic catalogue (基本目录) every implementation item derives from",
)
def basic_items_list(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="Part of the name or of the basic code"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    found = selectors.basic_items(q=_CONTROL.sub(" ", q).strip())
    return {
        "total": found.count(),
        "limit": limit,
        "offset": offset,
        "items": [_basic_out(basic) for basic in found[offset : offset + limit]],
    }
