import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse

from onewindow.accounts.models import UserSession

# Epoch seconds written into the session at login and on every request.
LOGIN_AT_KEY = "_ow_login_at"
SEEN_AT_KEY = "_ow_seen_at"


def session_expiry(request: HttpRequest, now: float) -> str | None:
    """"absolute" past SESSION_ABSOLUTE_SECONDS since login, "idle" past SESSION_COOKIE_AGE since
    the last request, else None. A signed-in session without the timestamps counts as expired."""
    login_at = request.session.get(LOGIN_AT_KEY)
    seen_at = request.session.get(SEEN_AT_KEY)
    if not isinstance(login_at, (int, float)) or now - login_at > settings.SESSION_ABSOLUTE_SECONDS:
        return "absolute"
    if not isinstance(seen_at, (int, float)) or now - seen_at > settings.SESSION_COOKIE_AGE:
        return "idle"
    return None


def follow_session_key(old: str, new: str) -> None:
    """Keep the session register (UserSession) pointing at a session whose key was rotated
    (second factor passed, password changed), so it can still be ended server-side."""
    rows = UserSession.objects.filter(session_key=old)
    if UserSession.objects.filter(session_key=new).exists():
        rows.delete()  # a login registered the new key itself
    else:
        rows.update(session_key=new)


class SessionLifetimeMiddleware:
    """Ends a signed-in session after SESSION_COOKIE_AGE idle seconds or SESSION_ABSOLUTE_SECONDS
    in all, and sends page requests to the login page saying why.

    The session store expires idle sessions by itself as well; tracking the last request here
    lets the user be told, and the absolute limit holds however active the session is. It also
    follows session-key rotations in the session register.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if SESSION_KEY in request.session:
            now = time.time()
            reason = session_expiry(request, now)
            if reason is None:
                request.session[SEEN_AT_KEY] = now
            else:
                logout(request)
                if request.method in ("GET", "HEAD") and not request.path_info.startswith(reverse("api:api-root")):
                    return self._to_login(request, reason)
        key_before = request.session.session_key
        response = self.get_response(request)
        key_after = request.session.session_key
        if key_before and key_after and key_before != key_after:
            follow_session_key(key_before, key_after)
        return response

    @staticmethod
    def _to_login(request: HttpRequest, reason: str) -> HttpResponse:
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path(), "expired": reason})
        url = f"{resolve_url(settings.LOGIN_URL)}?{query}"
        if request.headers.get("HX-Request"):
            # htmx would swap the login page into a fragment; ask it to navigate instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
