"""The reference data every intake reads — categories, routing rules and the 12345 centres — kept
in each process instead of read for every request.

They change a few times a year and are read by every intake and Open311 call. A process keeps
one snapshot, tagged with a token read from the tables: the row count and the latest change of
the rules, the categories and the centres, and of the departments they name (so that a
department closed or renamed is seen too). Whether the snapshot is still current is asked of the database at most
once per CHECK_SECONDS: the token last found current is kept that long in the cache. A change
through the services drops that cache entry when it commits, so with a shared cache (Redis)
every process asks at its next request, and with the per-process cache the other processes find
out within CHECK_SECONDS.

The thread whose open transaction changed the data reads it from the database until the
transaction ends: nobody else may see uncommitted rules, and it must see its own.
"""

import threading
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, QuerySet

from onewindow.complaints.models import HotlineCentre, RoutingRule, Topic
from onewindow.core import request_context

CHECK_KEY = "complaints.reference.token"
CHECK_SECONDS = 1


@dataclass(frozen=True)
class Snapshot:
    """Read-only: the same objects serve every request of the process."""

    token: tuple
    # Active rules whose department is active, in the order they are tried.
    rules: tuple[RoutingRule, ...]
    # Every category by its code, active or not, with its default department.
    topics: dict[str, Topic]
    # Every 12345 centre: its department's id and the path of the region it serves.
    centres: tuple[tuple[int, str], ...]


class _Thread(threading.local):
    # True while this thread's open transaction holds changes nobody else can see yet.
    pending = False


_thread = _Thread()
_shared: Snapshot | None = None


def _stamp(queryset: QuerySet) -> tuple:
    found = queryset.aggregate(
        rows=Count("pk"),
        changed=Max("updated_at"),
        departments=Max("department__updated_at"),
    )
    return found["rows"], found["changed"], found["departments"]


def _token() -> tuple:
    return (
        _stamp(RoutingRule.objects.all()),
        _stamp(Topic.objects.all()),
        _stamp(HotlineCentre.objects.all()),
    )


def _load(token: tuple) -> Snapshot:
    rules = (
        RoutingRule.objects.filter(is_active=True, department__is_active=True)
        .select_related("region", "department")
        .order_by("priority", "pk")
    )
    topics = Topic.objects.select_related("department")
    return Snapshot(
        token=token,
        rules=tuple(rules),
        topics={topic.code: topic for topic in topics},
        centres=tuple(HotlineCentre.objects.order_by("pk").values_list("department_id", "region__path")),
    )


def current() -> Snapshot:
    """The reference data as this request should see it (checked once per request)."""
    if _thread.pending:
        return _current()
    return request_context.memoised("complaints.reference", _current)


def _current() -> Snapshot:
    global _shared
    if _thread.pending:
        if transaction.get_connection().in_atomic_block:
            return _load(_token())
        _thread.pending = False  # rolled back: nothing of it is left to see
    shared = _shared
    if shared is not None and cache.get(CHECK_KEY) == shared.token:
        return shared
    token = _token()
    if shared is None or shared.token != token:
        shared = _shared = _load(token)
    cache.set(CHECK_KEY, token, CHECK_SECONDS)
    return shared


def changed() -> None:
    """Called by every service that changes categories, rules or centres, in its transaction."""
    _thread.pending = True
    transaction.on_commit(_committed)


def _committed() -> None:
    _thread.pending = False
    cache.delete(CHECK_KEY)
