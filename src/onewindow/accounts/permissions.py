"""Who may do what, and over which part of the administration.

Selectors and services everywhere scope their queries with these helpers:

- `has_role(user, role, department=..., region=...)`: an active role assignment covering that scope;
- `staff_department_ids(user)` / `staff_departments(user)`: the departments a staff member works in
  or holds a role in;
- `scope_regions(user)`: the regions a region-scoped role (supervisor) covers, with everything below;
- `scope_q(user, ...)`: the two combined as a filter on another model;
- `role_q(user, role, ...)`: the scope of one role as a filter on another model;
- `may_decide(user, department, item_code)`: whether a chief representative may decide an item;
- `staff_required` and `role_required(...)`: view decorators for the staff workbench.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation, RoleAssignment, StaffProfile
from onewindow.core import request_context
from onewindow.core.models import Department, Region
from onewindow.core.prepared import PreparedRead, columns, loaded


def _is_active_user(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _region_and_ancestor_paths(region: Region) -> list[str]:
    """"520000/520300/520302/" → ["520000/", "520000/520300/", "520000/520300/520302/"]."""
    parts = [part for part in region.path.split("/") if part]
    return ["".join(f"{code}/" for code in parts[: i + 1]) for i in range(len(parts))]


def active_assignments(user: Any) -> QuerySet[RoleAssignment]:
    if not _is_active_user(user):
        return RoleAssignment.objects.none()
    return RoleAssignment.objects.active().filter(user=user)


@dataclass(frozen=True)
class Grant:
    """One role assignment in force: a role over a department or over a region (by its path)."""

    role: str
    department_id: int | None
    region_path: str | None


# What a grant is read from, by a read of role assignments or through a join to them.
GRANT_FIELDS = ("role", "department_id", "region__path")

# Read by nearly every request of staff: its SQL is built once (core.prepared).
_GRANTS_READ = PreparedRead(
    lambda user, now: RoleAssignment.objects.active(now).filter(user_id=user).order_by().values_list(*GRANT_FIELDS),
    user=int,
    now=datetime,
)


def grants(user: Any) -> tuple[Grant, ...]:
    """The user's role assignments in force, read once per request: every permission check of a
    request is answered from them."""
    if not _is_active_user(user):
        return ()
    return request_context.memoised(
        ("grants", user.pk),
        lambda: tuple(Grant(*row.values()) for row in _GRANTS_READ.rows(user=user.pk, now=timezone.now())),
    )


def grants_read_along(user: Any, rows: list[dict[str, Any]], prefix: str) -> None:
    """The user's grants as another read brought them along (`prefix`: the way to the role
    assignments in force, GRANT_FIELDS behind it; a row without one holds None there), so that
    this request's permission checks do not read them again."""
    held = tuple(Grant(*(row[f"{prefix}{field}"] for field in GRANT_FIELDS))
                 for row in rows if row[f"{prefix}role"] is not None)
    request_context.memoised(("grants", user.pk), lambda: held)


def has_role(user: Any, role: str, *, department: Department | None = None, region: Region | None = None) -> bool:
    """True if `user` holds `role` now, and, when a scope is given, the role covers it.

    A department is covered by an assignment to that department or to its region or any region
    above; a region by an assignment to that region or any region above it.
    """
    held = [grant for grant in grants(user) if grant.role == role]
    if held and department is not None:
        paths = _region_and_ancestor_paths(department.region)
        held = [grant for grant in held if grant.department_id == department.pk or grant.region_path in paths]
    if held and region is not None:
        paths = _region_and_ancestor_paths(region)
        held = [grant for grant in held if grant.region_path in paths]
    return bool(held)


def is_platform_admin(user: Any) -> bool:
    return _is_active_user(user) and (user.is_superuser or has_role(user, Role.PLATFORM_ADMIN))


def admin_departments(user: Any) -> QuerySet[Department]:
    """Departments whose staff and roles `user` administers (as department administrator)."""
    ids = active_assignments(user).filter(role=Role.DEPARTMENT_ADMIN).values("department_id")
    return Department.objects.filter(pk__in=ids)


def staff_department_ids(user: Any) -> list[int]:
    """The departments a staff member works in (profile) or holds a department role in."""
    if not _is_active_user(user) or user.kind != AccountKind.STAFF:
        return []
    ids = {grant.department_id for grant in grants(user) if grant.department_id is not None}
    try:
        ids.add(user.staff_profile.department_id)
    except StaffProfile.DoesNotExist:
        pass
    return sorted(ids)


def staff_departments(user: Any) -> QuerySet[Department]:
    return Department.objects.filter(pk__in=staff_department_ids(user))


def _scope_paths(user: Any) -> list[str]:
    if not _is_active_user(user) or user.kind != AccountKind.STAFF:
        return []
    return [grant.region_path for grant in grants(user) if grant.region_path is not None]


def _path_q(field: str, paths: Iterable[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def scope_regions(user: Any) -> QuerySet[Region]:
    """The regions a region-scoped role covers: each assigned region and everything below it."""
    paths = _scope_paths(user)
    if not paths:
        return Region.objects.none()
    return Region.objects.filter(_path_q("path", paths))


def scope_q(user: Any, *, department_field: str = "department", region_field: str = "department__region") -> Q:
    """A filter for rows a staff member may see: their departments' rows, and rows anywhere in
    the regions their region-scoped roles cover. Matches nothing for anyone else."""
    q = Q(**{f"{department_field}__in": staff_department_ids(user)})
    paths = _scope_paths(user)
    if paths:
        q |= _path_q(f"{region_field}__path", paths)
    return q


def in_scope(user: Any, *, department_id: int | None, region_path: str | None) -> bool:
    """`scope_q` as a test of one row: its department, and the path of that department's region."""
    return department_id in staff_department_ids(user) or (
        region_path is not None and any(region_path.startswith(path) for path in _scope_paths(user)))


def role_q(user: Any, role: str, *, department_field: str = "department", region_field: str = "department__region") -> Q:
    """A filter for rows within the scope of `role`: its department assignments, and every
    department in or below its region assignments. Matches nothing without the role."""
    held = [grant for grant in grants(user) if grant.role == role]
    q = Q(**{f"{department_field}__in": [grant.department_id for grant in held if grant.department_id is not None]})
    return q | _path_q(f"{region_field}__path", [grant.region_path for grant in held if grant.region_path is not None])


# A chief representative's written authorisations in force: read by every decision, SQL built once.
_AUTHORISATIONS_READ = PreparedRead(
    lambda representative, today: ChiefRepresentativeAuthorisation.objects.active(today)
    .filter(representative_id=representative).order_by().values_list(*columns(ChiefRepresentativeAuthorisation)),
    representative=int, today=date,
)


def may_decide(user: Any, department: Department, item_code: str | None = None) -> bool:
    """Whether `user` may decide (as 首席代表) for `department`, for `item_code` if given.

    Needs both the approver role in the department and a written authorisation in force today
    that covers the item (or all items of the department).
    """
    if not has_role(user, Role.APPROVER, department=department):
        return False
    authorisations = request_context.memoised(
        ("authorisations", user.pk),
        lambda: [loaded(ChiefRepresentativeAuthorisation, row)
                 for row in _AUTHORISATIONS_READ.rows(representative=user.pk, today=timezone.localdate())],
    )
    return any(
        authorisation.department_id == department.pk and authorisation.covers(item_code)
        for authorisation in authorisations
    )


def is_verified(user: Any) -> bool:
    """Passed a second factor in this session (django_otp sets `is_verified` on request.user)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


def _redirect_with_next(request: HttpRequest, url_name: str) -> HttpResponse:
    query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
    return redirect(f"{resolve_url(url_name)}?{query}")


ViewFunc = Callable[..., HttpResponse]


def staff_required(view: ViewFunc) -> ViewFunc:
    """Staff workbench views: signed in, a staff account, and a second factor passed."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return _redirect_with_next(request, settings.LOGIN_URL)
        if user.kind != AccountKind.STAFF or not user.is_active:
            return _forbidden(request)
        if not is_verified(user):
            return _redirect_with_next(request, "accounts:verify")
        return view(request, *args, **kwargs)

    return wrapped


def account_required(view: ViewFunc) -> ViewFunc:
    """Any signed-in account; staff must also have passed the second factor."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return _redirect_with_next(request, settings.LOGIN_URL)
        if user.kind == AccountKind.STAFF and not is_verified(user):
            return _redirect_with_next(request, "accounts:verify")
        return view(request, *args, **kwargs)

    return wrapped


def role_required(*roles: str) -> Callable[[ViewFunc], ViewFunc]:
    """`staff_required`, plus at least one of `roles` in force (any scope; the view narrows it)."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @staff_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if active_assignments(user).filter(role__in=roles).exists() or (
                Role.PLATFORM_ADMIN in roles and user.is_superuser
            ):
                return view(request, *args, **kwargs)
            return _forbidden(request)

        return wrapped

    return decorate
