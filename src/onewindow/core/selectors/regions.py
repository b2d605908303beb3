"""Reads of administrative regions and departments.

Regions are public reference data (GB/T 2260 is published), so the region selectors take no
actor. Department listings do: see `departments_visible_to`.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.identifiers import normalise_region_code
from onewindow.core.models import Department, Region
from onewindow.core.prepared import PreparedRead, columns, loaded

# Intakes and searches name a region by its code on nearly every call: its SQL is built once.
_BY_CODE = PreparedRead(lambda code: Region.objects.filter(code=code).order_by().values_list(*columns(Region)), code=str)


def region_by_code(code: str) -> Region | None:
    """The region of exactly this 6-, 9- or 12-digit code, or None."""
    rows = _BY_CODE.rows(code=code)
    return loaded(Region, rows[0]) if rows else None


def region_get(code: str) -> Region:
    """The region for a code in any accepted form (6, 9 or 12 digits).

    Raises InvalidInput for a code of the wrong shape and NotFound for a well-shaped code
    that names no region, whether it could never exist (province 99) or is just not recorded.
    """
    try:
        normalised = normalise_region_code(code)
    except ValidationError as exc:
        if exc.code == "region_shape":
            raise InvalidInput(" ".join(exc.messages), field="code") from None
        raise NotFound(" ".join(exc.messages)) from None
    region = region_by_code(normalised)
    if region is None:
        raise NotFound(_("行政区划 %(code)s 不存在。") % {"code": normalised})
    return region


def regions_within(region: Region) -> QuerySet[Region]:
    """The region and every region below it, in tree order (one indexed prefix query)."""
    return Region.objects.filter(path__startswith=region.path).order_by("path")


def region_ancestors(region: Region) -> QuerySet[Region]:
    """The regions above `region`, from the province down (the region itself excluded)."""
    codes = [code for code in region.path.split("/") if code and code != region.code]
    return Region.objects.filter(code__in=codes).order_by("level")


def regions_list(*, parent: Region | None = None, level: int | None = None) -> QuerySet[Region]:
    """Regions in tree order, optionally only the direct children of `parent` and/or one level."""
    regions = Region.objects.order_by("path")
    if parent is not None:
        regions = regions.filter(parent=parent)
    if level is not None:
        regions = regions.filter(level=level)
    return regions


def departments_visible_to(actor: Any, *, region: Region | None = None) -> QuerySet[Department]:
    """Departments `actor` may list, limited to `region` and the regions below it when given.

    Department names and credit codes are published, so everyone sees the active ones;
    inactive ones only those who may manage departments. The regional scope is explicit for
    now: until staff accounts are linked to their department, callers pass the scope (a staff
    member's own region, or a platform administrator's or supervisor's region and below);
    once they are, the actor's own scope will be intersected here as well.
    """
    departments = Department.objects.select_related("region").order_by("region__path", "name")
    manages = getattr(actor, "is_authenticated", False) and actor.has_perm("core.change_department")
    if not manages:
        departments = departments.filter(is_active=True)
    if region is not None:
        departments = departments.filter(region__path__startswith=region.path)
    return departments
