"""The public catalogue on the portal: browse and search published items, the service guide
with its flowchart, the printable guide, the six lists and the public change history.

Everything here is public and read-only. Query parameters are cleaned, never trusted: a value
that is not a known code, a well-formed region code or a number in range is ignored (a
well-formed department id or region code that has no items simply matches nothing), so no
address a visitor can type yields anything but a page, or a 404 for an item or version that
is not published.

The guide's blank forms, samples and result sample are downloaded from the item's own address
(`guide_file`), which serves only files a published version of the item names.
"""

import math
import re
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from onewindow.catalogue import selectors
from onewindow.catalogue.choices import Audience, ItemList, ItemType
from onewindow.catalogue.flowchart import flowchart_svg
from onewindow.catalogue.guide import apply_url, build_guide, change_rows
from onewindow.catalogue.guide_pdf import guide_pdf
from onewindow.catalogue.models import ImplementationItem, ItemVersion
from onewindow.catalogue.selectors import CatalogueFilters
from onewindow.core.views_files import attachment
from onewindow.core.errors import NotFound

PAGE_SIZE = 20
MAX_PAGE = 10_000
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1
MAX_QUERY = 100
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,30}")
_REGION = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _clean_filters(params: QueryDict, *, theme_codes: set[str], list_code: str = "") -> tuple[CatalogueFilters, QueryDict]:
    """The filters in `params` that make sense, and the same as a query string for links."""
    q = _CONTROL.sub(" ", params.get("q", ""))[:MAX_QUERY].strip()
    theme = params.get("theme", "")
    theme = theme if _CODE.fullmatch(theme) and theme in theme_codes else ""
    audience = params.get("audience", "")
    audience = audience if audience in Audience.values else ""
    department_text = params.get("department", "")
    department = int(department_text) if _DIGITS.fullmatch(department_text) else None
    if department is not None and not 0 < department <= MAX_ID:
        department = None
    region = params.get("region", "")
    region = region if _REGION.fullmatch(region) else ""
    item_type = params.get("item_type", "")
    item_type = item_type if item_type in ItemType.values else ""
    if not list_code:
        list_code = params.get("list", "")
        list_code = list_code if list_code in ItemList.values else ""
        in_query = list_code
    else:
        in_query = ""  # the list is in the path
    filters = CatalogueFilters(
        q=q, theme=theme, audience=audience, department=department, region=region, item_type=item_type,
        list_code=list_code,
    )
    query = QueryDict(mutable=True)
    for key, value in (
        ("q", q), ("audience", audience), ("theme", theme), ("item_type", item_type),
        ("department", str(department) if department else ""), ("region", region), ("list", in_query),
    ):
        if value:
            query[key] = value
    return filters, query


def _page_number(value: Any) -> int:
    text = value if isinstance(value, str) else ""
    if not _DIGITS.fullmatch(text):
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def _page_window(current: int, pages: int) -> list[int | None]:
    """Page numbers to link: first, last, and two either side of the current (None: a gap)."""
    shown = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - (window[-1] or 0) > 1:
            window.append(None)
        window.append(number)
    return window


def _browse(request: HttpRequest, *, template: str, list_code: str = "") -> HttpResponse:
    all_themes = list(selectors.themes())
    filters, query = _clean_filters(request.GET, theme_codes={theme.code for theme in all_themes}, list_code=list_code)
    number = _page_number(request.GET.get("page"))
    page = selectors.public_items(filters, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(page.total / PAGE_SIZE))
    if number > pages:
        number = pages
        page = selectors.public_items(filters, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    departments = list(selectors.public_departments())
    regions = list(selectors.public_regions())
    list_counts = selectors.public_list_counts()
    selected_theme = next((theme for theme in all_themes if theme.code == filters.theme), None)
    audience = filters.audience or (selected_theme.audience if selected_theme else "")
    context = {
        "filters": filters,
        "query": query,
        "items": selectors.with_list_tags(page.items),
        "total": page.total,
        "partial": page.partial,
        "page_number": number,
        "pages": pages,
        "page_window": _page_window(number, pages),
        "page_size": PAGE_SIZE,
        "audience": audience,
        "audiences": Audience.choices,
        "person_themes": [theme for theme in all_themes if theme.audience == Audience.PERSON],
        "enterprise_themes": [theme for theme in all_themes if theme.audience == Audience.ENTERPRISE],
        "selected_theme": selected_theme,
        "item_types": ItemType.choices,
        "item_type_label": dict(ItemType.choices).get(filters.item_type, ""),
        "departments": departments,
        "selected_department": next((d for d in departments if d.pk == filters.department), None),
        "regions": regions,
        "selected_region": next((r for r in regions if r.code == filters.region), None),
        "lists": [(code, label, list_counts.get(code, 0)) for code, label in ItemList.choices],
        "list_code": filters.list_code,
        "list_label": dict(ItemList.choices).get(filters.list_code, ""),
        "list_filter": query.get("list", ""),
        "list_page": bool(list_code),
        "browse_url": reverse("catalogue:list", args=[list_code]) if list_code else reverse("catalogue:index"),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "catalogue/public/_browser.html", context)
    else:
        response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """办事指南: the published catalogue, searched and filtered (life events, enterprise themes,
    departments, regions, item types, the six lists)."""
    return _browse(request, template="catalogue/public/index.html")


@require_safe
def list_view(request: HttpRequest, code: str) -> HttpResponse:
    """One of the six lists (六张清单) and the items tagged with it."""
    if code not in ItemList.values:
        raise Http404
    return _browse(request, template="catalogue/public/list.html", list_code=code)


def _published(impl_code: str) -> ImplementationItem:
    try:
        return selectors.public_item(impl_code)
    except NotFound:
        raise Http404 from None


def _published_version(item: ImplementationItem, number: int) -> ItemVersion:
    if not 0 < number <= MAX_VERSION:
        raise Http404
    try:
        return selectors.public_version(item, number)
    except NotFound:
        raise Http404 from None


@require_safe
def item(request: HttpRequest, impl_code: str) -> HttpResponse:
    """办事指南: every element of the item's published version."""
    found = _published(impl_code)
    # Built only when the cached body of this version is missing (see item.html).
    guide = SimpleLazyObject(lambda: build_guide(found, found.current_version))
    return render(request, "catalogue/public/item.html", {
        "guide": guide, "item": found, "version_pk": found.current_version_id, "apply_url": apply_url(found.impl_code),
    })


@require_safe
def version(request: HttpRequest, impl_code: str, number: int) -> HttpResponse:
    """An earlier published version, as it read then (cases filed under it keep it)."""
    found = _published(impl_code)
    shown = _published_version(found, number)
    if shown.pk == found.current_version_id:
        return redirect("catalogue:item", impl_code=found.impl_code)
    guide = build_guide(found, shown)
    return render(request, "catalogue/public/version.html", {"guide": guide, "item": found})


@require_safe
def item_pdf(request: HttpRequest, impl_code: str) -> HttpResponse:
    """The printable guide of the published version, with a QR code to the guide page."""
    found = _published(impl_code)
    guide = build_guide(found, found.current_version)
    page_url = request.build_absolute_uri(reverse("catalogue:item", args=[found.impl_code]))
    response = HttpResponse(guide_pdf(guide, page_url=page_url, platform_name=_("一网通办")), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{found.impl_code}.pdf"'
    return response


@require_safe
def flowchart(request: HttpRequest, impl_code: str) -> HttpResponse:
    """The process flowchart as an SVG image (of version ?v=N when given, else the current one)."""
    found = _published(impl_code)
    shown = found.current_version
    requested = request.GET.get("v", "")
    if requested:
        if not _DIGITS.fullmatch(requested):
            raise Http404
        shown = _published_version(found, int(requested))
    response = HttpResponse(flowchart_svg(shown.content), content_type="image/svg+xml; charset=utf-8")
    # An image needs nothing from anywhere: no script, no fetches, even if opened directly.
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response


@require_safe
def history(request: HttpRequest, impl_code: str) -> HttpResponse:
    """变更记录: every published version, newest first, with what changed."""
    found = _published(impl_code)
    entries = selectors.public_history(found)
    rows = []
    for index, entry in enumerate(entries):
        previous = entries[index + 1].version if index + 1 < len(entries) else None
        rows.append({
            "version": entry.version,
            "is_current": entry.version.pk == found.current_version_id,
            "is_first": previous is None,
            "changes": change_rows(entry.changes, old=previous.content, new=entry.version.content) if previous else [],
        })
    return render(request, "catalogue/public/history.html", {"item": found, "entries": rows})


@require_safe
def guide_file(request: HttpRequest, impl_code: str, token: str) -> FileResponse:
    """A blank form, sample or result sample of the item's guide, as an attachment, for anyone:
    only a file that a published (or superseded) version of the item names; anything else,
    a draft's file included, is the same 404 as a bad token."""
    try:
        stored = selectors.public_guide_file(impl_code, token)
    except NotFound:
        raise Http404 from None
    return attachment(stored)
