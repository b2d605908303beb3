"""Reads of consultations and complaints, scoped by the actor: the citizen sees their own
requests; department staff their department's; 12345 operators and supervisors their regions.
An outsider gets NotFound. Anyone holding a request's number and query code sees its progress
(no name, phone or content). The exposure column and the Open311 list are public and carry no
personal data."""

import datetime as dt
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.permissions import (
    active_assignments,
    is_platform_admin,
    staff_departments,
)
from onewindow.complaints import reference, throttle
from onewindow.complaints.choices import Status
from onewindow.complaints.models import (
    Complaint,
    ComplaintUpdate,
    Exposure,
    RoutingRule,
    Topic,
)
from onewindow.complaints.services import (
    may_keep_rules,
    may_keep_topics,
    operator_regions,
)
from onewindow.core import request_context
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import Department
from onewindow.core.prepared import PreparedRead, loaded


def _is_user(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
    )


def _paths_q(field: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def staff_scope(actor: Any) -> Q:
    """Requests a staff member may see: their departments', their hotline centres' regions', and
    a supervisor's regions'."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return Q(pk__in=[])
    if is_platform_admin(actor):
        return Q()
    paths = list(operator_regions(actor))
    paths += list(
        active_assignments(actor)
        .filter(role=Role.SUPERVISOR, region__isnull=False)
        .values_list("region__path", flat=True)
    )
    return Q(department__in=staff_departments(actor).values("pk")) | _paths_q(
        "region__path", paths
    )


def queue(
    actor: Any, *, status: str = "", overdue: bool = False, department: Any = None
) -> QuerySet[Complaint]:
    """The requests in the actor's scope: those waiting for dispatch, then the soonest due."""
    found = Complaint.objects.filter(staff_scope(actor))
    if status:
        if status not in Status.values:
            raise InvalidInput(_("状态无效。"), field="status")
        found = found.filter(status=status)
    if overdue:
        found = found.filter(status=Status.ASSIGNED, due__lt=timezone.localdate())
    if department is not None:
        found = found.filter(department=department)
    return found.select_related("department", "topic", "region").order_by(
        F("due").asc(nulls_first=True), "pk"
    )


def complaint_for(actor: Any, pk: int) -> Complaint:
    found = queue(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该诉求。"))
    return found


def my_complaints(actor: Any) -> QuerySet[Complaint]:
    if not _is_user(actor):
        return Complaint.objects.none()
    return Complaint.objects.filter(complainant=actor).select_related(
        "department", "topic"
    )


def my_complaint(actor: Any, pk: int) -> Complaint:
    found = my_complaints(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该诉求。"))
    return found


HISTORY_FIELDS = ("complaint", "at", "kind", "status", "summary", "department__name")


def _history() -> QuerySet[ComplaintUpdate]:
    return (
        ComplaintUpdate.objects.select_related("department")
        .only(*HISTORY_FIELDS)
        .order_by("at", "pk")
    )


# What the public sees of a request and of each entry of its history (never what was written):
# one read, the busiest public one, its SQL built once (core.prepared). Every request has its
# intake entry, which carries the request along.
_REQUEST_COLUMNS = {"complaint_id": "id", "complaint__number": "number", "complaint__status": "status",
                    "complaint__received_at": "received_at", "complaint__due": "due",
                    "complaint__answered_at": "answered_at", "complaint__department_id": "department_id"}
_UPDATE_COLUMNS = ("at", "kind", "status", "department_id")
_PROGRESS_READ = PreparedRead(
    lambda number, code: (
        ComplaintUpdate.objects.filter(complaint__number=number, complaint__query_code=code)
        .order_by("at", "pk")
        .values_list(*_UPDATE_COLUMNS, "department__name", *_REQUEST_COLUMNS, "complaint__department__name")
    ),
    number=str, code=str,
)


def _with_department(instance: Any, name: str | None) -> Any:
    if instance.department_id is not None:
        instance.department = loaded(Department, {"id": instance.department_id, "name": name})
    return instance


def public_progress(
    number: Any, query_code: Any
) -> tuple[Complaint, list[ComplaintUpdate]]:
    """A request and its history by number and query code, without what was written. An
    address that got too many pairs wrong this hour is refused (TooMany)."""
    address = request_context.client_ip.get() or "unknown"
    throttle.check_lookup(address)
    number = number.strip().upper() if isinstance(number, str) else ""
    code = query_code.strip().upper() if isinstance(query_code, str) else ""
    rows = _PROGRESS_READ.rows(number=number, code=code) if number and code else []
    if not rows:
        throttle.lookup_failed(address)
        raise NotFound(_("编号或查询码不正确。"))
    first = rows[0]
    complaint = _with_department(
        loaded(Complaint, {name: first[column] for column, name in _REQUEST_COLUMNS.items()}),
        first["complaint__department__name"],
    )
    history = []
    for row in rows:
        update = _with_department(loaded(ComplaintUpdate, {key: row[key] for key in _UPDATE_COLUMNS}),
                                  row["department__name"])
        update.complaint = complaint
        history.append(update)
    return complaint, history


def public_history(complaint: Complaint) -> QuerySet[ComplaintUpdate]:
    return _history().filter(complaint=complaint)


def topics(*, active_only: bool = True) -> QuerySet[Topic]:
    found = Topic.objects.select_related("department").order_by("group", "code")
    return found.filter(is_active=True) if active_only else found


def kept_topics(actor: Any) -> QuerySet[Topic]:
    """Every category, open or closed, for those who keep them (platform administrators)."""
    if not may_keep_topics(actor):
        return Topic.objects.none()
    return topics(active_only=False)


def kept_topic(actor: Any, pk: int) -> Topic:
    found = kept_topics(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该诉求类别。"))
    return found


def topic(code: str) -> Topic:
    """An active category by its code (the Open311 service code)."""
    found = reference.current().topics.get(code)
    if found is None or not found.is_active:
        raise NotFound(_("没有找到该诉求类别。"))
    return found


def routing_rules(actor: Any) -> QuerySet[RoutingRule]:
    if not may_keep_rules(actor):
        return RoutingRule.objects.none()
    return RoutingRule.objects.select_related(
        "topic", "item", "region", "department"
    ).order_by("priority", "pk")


def routing_rule(actor: Any, pk: int) -> RoutingRule:
    found = routing_rules(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该规则。"))
    return found


def exposures() -> QuerySet[Exposure]:
    return Exposure.objects.order_by("-published_at", "-pk")


# --- Open311 ----------------------------------------------------------------------------------------


OPEN311_SPAN_DAYS = 90


def open311_requests(
    *,
    ids: list[str] | None = None,
    service_code: str = "",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: str = "",
    notes: bool = False,
) -> QuerySet[Complaint]:
    """GeoReport v2 GET requests: by ids (which override every other filter), or by category,
    a span of at most 90 days (by default the last 90) and open/closed; with their histories
    when `notes` (the update-history extension)."""
    found = Complaint.objects.select_related("topic", "department").order_by(
        "-received_at", "-pk"
    )
    if notes:
        found = found.prefetch_related(Prefetch("updates", queryset=_history()))
    if ids:
        return found.filter(number__in=ids)
    end = end or timezone.now()
    start = start or end - dt.timedelta(days=OPEN311_SPAN_DAYS)
    if end < start:
        raise InvalidInput(_("end_date 不能早于 start_date。"), field="end_date")
    if end - start > dt.timedelta(days=OPEN311_SPAN_DAYS):
        raise InvalidInput(_("查询区间不能超过 90 天。"), field="start_date")
    found = found.filter(received_at__gte=start, received_at__lte=end)
    if service_code:
        found = found.filter(topic__code=service_code)
    if status == "closed":
        found = found.filter(status=Status.CLOSED)
    elif status == "open":
        found = found.exclude(status=Status.CLOSED)
    elif status:
        raise InvalidInput(_("status 只能是 open 或 closed。"), field="status")
    return found
