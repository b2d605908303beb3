"""Session bookkeeping on every login and logout, whichever view performs it; a request forgets
the grants it read once one of them changes."""

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from onewindow.accounts import services
from onewindow.accounts.middleware import LOGIN_AT_KEY, SEEN_AT_KEY
from onewindow.accounts.models import ChiefRepresentativeAuthorisation, RoleAssignment, StaffProfile
from onewindow.core import request_context


@receiver(user_logged_in, dispatch_uid="accounts.session_open")
def _session_opened(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[LOGIN_AT_KEY] = now
    request.session[SEEN_AT_KEY] = now
    if request.session.session_key is None:
        request.session.save()
    services.session_open(
        user=user,
        session_key=request.session.session_key,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.headers.get("User-Agent", ""),
    )


@receiver(user_logged_out, dispatch_uid="accounts.session_close")
def _session_closed(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None or request is None or not hasattr(request, "session"):
        return
    services.session_close(user=user, session_key=request.session.session_key)


@receiver(post_save, sender=RoleAssignment, dispatch_uid="accounts.grants_changed.role_saved")
@receiver(post_delete, sender=RoleAssignment, dispatch_uid="accounts.grants_changed.role_deleted")
@receiver(post_save, sender=ChiefRepresentativeAuthorisation, dispatch_uid="accounts.grants_changed.auth_saved")
@receiver(post_delete, sender=ChiefRepresentativeAuthorisation, dispatch_uid="accounts.grants_changed.auth_deleted")
@receiver(post_save, sender=StaffProfile, dispatch_uid="accounts.grants_changed.profile_saved")
def _grants_changed(sender: Any, **kwargs: Any) -> None:
    request_context.forget()
