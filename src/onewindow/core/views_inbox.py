"""The portal inbox: a user's own notifications, mark read, and the header's unread badge."""
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from onewindow.accounts.permissions import account_required
from onewindow.core import notifications
from onewindow.core.errors import NotFound

PAGE_SIZE = 20
# Sent with every change so the badge (hx-trigger="inbox-changed from:body") refreshes itself.
CHANGED_EVENT = "inbox-changed"


@account_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications.inbox(actor=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "core/inbox.html", {"page": page, "unread": notifications.unread_count(actor=request.user)}
    )


@account_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = notifications.notification_mark_read(actor=request.user, notification_id=pk)
    except NotFound:
        raise Http404 from None
    if request.htmx:
        response = render(request, "core/inbox_item.html", {"notification": notification})
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    return redirect("core:inbox")


@account_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notifications.notification_mark_all_read(actor=request.user)
    return redirect("core:inbox")


@require_safe
def unread_badge(request: HttpRequest) -> HttpResponse:
    """The header badge; empty for a visitor who is not signed in, so it can sit in every page."""
    unread = notifications.unread_count(actor=request.user) if request.user.is_authenticated else 0
    return render(request, "core/inbox_badge.html", {"unread": unread})
