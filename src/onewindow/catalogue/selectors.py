"""Reads of the catalogue, scoped by the actor: the public sees published items only; staff see
the items they may edit or review."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import is_platform_admin, role_q
from onewindow.catalogue import search
from onewindow.catalogue.choices import BatchKind, BatchStatus, CompositeStatus, VersionStatus
from onewindow.catalogue.diff import Change, diff_content
from onewindow.catalogue.models import (
    BasicItem,
    CompositeService,
    ImplementationItem,
    ItemVersion,
    PublicationBatch,
    Theme,
)
from onewindow.core.errors import NotFound
from onewindow.core.models import Region, StoredFile


@dataclass(frozen=True)
class CatalogueFilters:
    q: str = ""
    theme: str = ""  # Theme code
    audience: str = ""
    department: int | None = None
    region: str = ""  # region code: items of this region and the regions above it
    item_type: str = ""
    list_code: str = ""


@dataclass(frozen=True)
class ItemPage:
    items: list[ImplementationItem]
    total: int
    partial: bool = False  # no item matched every word of the query; these match some


def published_items() -> QuerySet[ImplementationItem]:
    return ImplementationItem.objects.filter(current_version__isnull=False)


def _filtered(filters: CatalogueFilters) -> QuerySet[ImplementationItem]:
    items = published_items()
    if filters.theme:
        items = items.filter(themes__code=filters.theme)
    elif filters.audience:
        items = items.filter(themes__audience=filters.audience).distinct()
    if filters.department:
        items = items.filter(department_id=filters.department)
    if filters.region:
        region = Region.objects.filter(code=filters.region).first()
        if region is None:
            return items.none()
        # What a resident of `region` can apply for: items of the region and of every region above.
        paths = [p for p in region.path.split("/") if p]
        items = items.filter(region__code__in=paths)
    if filters.item_type:
        items = items.filter(item_type=filters.item_type)
    if filters.list_code:
        items = items.filter(list_memberships__list_code=filters.list_code)
    return items


def public_items(filters: CatalogueFilters, *, limit: int = 20, offset: int = 0) -> ItemPage:
    """A page of published items: ranked by relevance when there is a query, by name otherwise."""
    items = _filtered(filters)
    if search.query_terms(filters.q):
        page = search.search_ids(filters.q, queryset=items, limit=limit, offset=offset)
        by_id = ImplementationItem.objects.select_related("department", "region").in_bulk(page.ids)
        return ItemPage(items=[by_id[pk] for pk in page.ids if pk in by_id], total=page.total, partial=page.partial)
    ordered = items.select_related("department", "region").order_by("name", "pk")
    return ItemPage(items=list(ordered[offset : offset + limit]), total=items.count())


def public_item(impl_code: str) -> ImplementationItem:
    # The version (a large document) is read only when needed: a cached guide page never does.
    item = published_items().select_related("department", "region").filter(impl_code=impl_code).first()
    if item is None:
        raise NotFound(_("没有找到该事项，或它尚未发布。"))
    return item


def public_version(item: ImplementationItem, number: int) -> ItemVersion:
    """A version that was published at some time (the public change history links to these)."""
    version = item.versions.filter(
        number=number, status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]
    ).first()
    if version is None:
        raise NotFound(_("没有找到该版本。"))
    return version


@dataclass(frozen=True)
class HistoryEntry:
    version: ItemVersion
    changes: list[Change]


def public_history(item: ImplementationItem) -> list[HistoryEntry]:
    """Every published version, newest first, with what changed against the one before."""
    versions = list(
        item.versions.filter(status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED])
        .select_related("batch")
        .order_by("number")
    )
    entries = []
    previous = None
    for version in versions:
        entries.append(HistoryEntry(version, diff_content(previous.content if previous else None, version.content)))
        previous = version
    return entries[::-1]


def themes(audience: str = "") -> QuerySet[Theme]:
    found = Theme.objects.all()
    return found.filter(audience=audience) if audience else found


# --- staff ---------------------------------------------------------------------------


def editable_items(actor: Any) -> QuerySet[ImplementationItem]:
    """Items the actor may change: their departments' (department administrators) or all (platform)."""
    items = ImplementationItem.objects.select_related("department", "region", "current_version")
    if is_platform_admin(actor):
        return items
    return items.filter(role_q(actor, Role.DEPARTMENT_ADMIN, department_field="department", region_field="department__region"))


def editable_item(actor: Any, pk: int) -> ImplementationItem:
    item = editable_items(actor).filter(pk=pk).first()
    if item is None:
        raise NotFound(_("没有找到该事项。"))
    return item


def staff_versions(actor: Any) -> QuerySet[ItemVersion]:
    """Versions the actor may see in the workbench: as editor, legal reviewer or publisher."""
    versions = ItemVersion.objects.select_related("item__department", "batch", "created_by", "submitted_by")
    if is_platform_admin(actor):
        return versions
    return versions.filter(
        role_q(actor, Role.DEPARTMENT_ADMIN, department_field="item__department", region_field="item__department__region")
        | role_q(actor, Role.LEGAL_REVIEWER, department_field="item__department", region_field="item__department__region")
    )


def staff_version(actor: Any, pk: int) -> ItemVersion:
    version = staff_versions(actor).filter(pk=pk).first()
    if version is None:
        raise NotFound(_("没有找到该事项版本。"))
    return version


def review_queue(actor: Any) -> QuerySet[ItemVersion]:
    """Versions waiting for the actor's legal review (never their own submissions)."""
    return (
        ItemVersion.objects.select_related("item__department", "submitted_by")
        .filter(status=VersionStatus.IN_REVIEW)
        .filter(role_q(actor, Role.LEGAL_REVIEWER, department_field="item__department", region_field="item__department__region"))
        .exclude(submitted_by=actor)
        .order_by("submitted_at")
    )


def version_changes(version: ItemVersion) -> list[Change]:
    """What this version changes against the item's published version (all of it for a new item)."""
    current = version.item.current_version
    base = current if current is not None and current.pk != version.pk else None
    if base is None and version.status in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED):
        base = version.item.versions.filter(number__lt=version.number, published_at__isnull=False).order_by("-number").first()
    return diff_content(base.content if base else None, version.content)


def open_batches() -> QuerySet[PublicationBatch]:
    """Regular batches versions can still be scheduled into (public knowledge: the June and December dates)."""
    return PublicationBatch.objects.filter(status=BatchStatus.OPEN, kind=BatchKind.REGULAR).order_by("publish_on")


def batches(actor: Any) -> QuerySet[PublicationBatch]:
    if not is_platform_admin(actor):
        return PublicationBatch.objects.none()
    return PublicationBatch.objects.select_related("created_by", "published_by")


def basic_items(*, q: str = "") -> QuerySet[BasicItem]:
    """The basic catalogue is public: every department implements from it."""
    found = BasicItem.objects.all()
    if q:
        found = found.filter(Q(name__icontains=q) | Q(basic_code__icontains=q.upper()))
    return found


def workbench_items(actor: Any, *, q: str = "") -> QuerySet[ImplementationItem]:
    """The workbench list: `editable_items` filtered by name or code, each with `open_versions`
    (its draft or version in review or waiting for publication, at most one) prefetched."""
    from django.db.models import Prefetch

    from onewindow.catalogue.choices import OPEN_VERSION_STATUSES

    items = editable_items(actor).select_related("basic_item")
    text = q.strip()
    if text:
        items = items.filter(
            Q(name__icontains=text) | Q(basic_item__name__icontains=text) | Q(impl_code__icontains=text.upper())
        )
    open_versions = ItemVersion.objects.filter(status__in=OPEN_VERSION_STATUSES).order_by("-number")
    return items.prefetch_related(Prefetch("versions", queryset=open_versions, to_attr="open_versions")).order_by(
        "department__name", "impl_code"
    )


# --- public catalogue facets --------------------------------------------------------------


def public_departments() -> QuerySet:
    """Departments with at least one published item, for the portal's department facet."""
    from onewindow.core.models import Department

    return (
        Department.objects.filter(pk__in=published_items().values("department"))
        .select_related("region")
        .order_by("region__code", "name")
    )


def public_regions() -> QuerySet[Region]:
    """Regions with at least one published item, for the portal's region facet."""
    return Region.objects.filter(pk__in=published_items().values("region")).order_by("code")


def public_list_counts() -> dict[str, int]:
    """How many published items each of the six lists holds."""
    from django.db.models import Count

    from onewindow.catalogue.models import ItemListMembership

    rows = (
        ItemListMembership.objects.filter(item__current_version__isnull=False)
        .values("list_code")
        .annotate(count=Count("item", distinct=True))
    )
    return {row["list_code"]: row["count"] for row in rows}


def with_list_tags(items: list[ImplementationItem]) -> list[ImplementationItem]:
    """The same items with their list memberships loaded in one query (for the list tags)."""
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(items, "list_memberships")
    return items


# --- guide files (blank forms, samples, result samples) -------------------------------------


def public_guide_file(impl_code: str, token: str) -> StoredFile:
    """A guide file of the item that a published or superseded version names as a blank form,
    sample or result sample; NotFound (the same for every other case) otherwise."""
    from onewindow.catalogue import files

    published = ItemVersion.objects.filter(
        item__impl_code=impl_code, status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]
    )
    stored = None
    if files.versions_naming(published, token):
        stored = StoredFile.objects.filter(token=token, purpose=files.PURPOSE).first()
    if stored is None:
        raise NotFound(_("文件不存在。"))
    return stored


def guide_files(actor: Any, tokens: Any) -> dict[str, StoredFile]:
    """The guide files among `tokens` the actor may read, by token (for the editor's links)."""
    from onewindow.catalogue import files
    from onewindow.core import files as core_files

    wanted = {token for token in tokens if files.is_token(token)}
    if not wanted:
        return {}
    found = StoredFile.objects.filter(token__in=wanted, purpose=files.PURPOSE)
    return {stored.token: stored for stored in found if core_files.can_read(actor, stored)}


def published_composites() -> QuerySet[CompositeService]:
    """一件事 offered to applicants, with their member items."""
    return (CompositeService.objects.filter(status=CompositeStatus.PUBLISHED)
            .select_related("lead_department").prefetch_related("members__item"))


def published_composite(code: str) -> CompositeService:
    composite = published_composites().filter(code=code.strip().upper()).first() if isinstance(code, str) else None
    if composite is None:
        raise NotFound(_("没有找到该一件事，或它尚未发布。"))
    return composite
