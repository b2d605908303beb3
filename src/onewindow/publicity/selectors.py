"""Reads of result publicity: the published decisions are public; pending and late ones are seen
by the department's staff and by supervisors of its region (the publication check)."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.permissions import is_platform_admin, scope_q
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.publicity.choices import DecisionKind, PublicationStatus
from onewindow.publicity.models import Publication


def published(*, kind: str = "", q: str = "") -> QuerySet[Publication]:
    """What the public sees, the most recently published first."""
    found = Publication.objects.filter(
        status=PublicationStatus.PUBLISHED
    ).select_related("department")
    if kind:
        if kind not in DecisionKind.values:
            raise InvalidInput(_("类别无效。"), field="kind")
        found = found.filter(kind=kind)
    text = q.strip()[:50]
    if text:
        found = found.filter(
            Q(holder_name__icontains=text)
            | Q(title__icontains=text)
            | Q(decision_number__icontains=text)
            | Q(holder_code=text.upper())
        )
    return found.order_by("-published_at", "-pk")


def published_one(pk: int) -> Publication:
    found = published().filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该公示。"))
    return found


def _scope(actor: Any) -> Q:
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or actor.kind != AccountKind.STAFF
    ):
        return Q(pk__in=[])
    if is_platform_admin(actor):
        return Q()
    return scope_q(actor, department_field="department", region_field="region")


def for_staff(actor: Any, *, status: str = "") -> QuerySet[Publication]:
    found = Publication.objects.filter(_scope(actor)).select_related("department")
    if status:
        if status not in PublicationStatus.values:
            raise InvalidInput(_("状态无效。"), field="status")
        found = found.filter(status=status)
    return found.order_by("due", "pk")


def publication_for(actor: Any, pk: int) -> Publication:
    found = for_staff(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该公示。"))
    return found


def late(actor: Any) -> QuerySet[Publication]:
    """The publication check: decisions still unpublished past their due date, and those
    published after it."""
    today = timezone.localdate()
    return for_staff(actor).filter(
        Q(status=PublicationStatus.PENDING, due__lt=today) | Q(late=True)
    )
