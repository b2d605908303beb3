"""API authentication: bearer tokens (scripts, other systems) and the browser session."""

import re
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.models import ApiToken
from onewindow.accounts.permissions import is_verified
from onewindow.accounts.services import TOKEN_PREFIX, hash_token

_TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}[A-Za-z0-9_-]{{20,100}}$")
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer ow_...`: a token that is not revoked, not expired, of an active user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not _TOKEN_RE.fullmatch(token):
            return None
        now = timezone.now()
        # The staff profile comes along: every scoped read of the request asks for it.
        api_token = (
            ApiToken.objects.select_related("user", "user__staff_profile")
            .filter(key_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        # One conditional write a minute at most, however busy the token is.
        if api_token.last_used_at is None or api_token.last_used_at < now - LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        user = api_token.user
        # Staff tokens are issued only to sessions that passed the second factor, so a staff
        # token holder counts as verified wherever code asks request.user.is_verified().
        user.otp_device = None
        staff = user.kind == AccountKind.STAFF
        user.is_verified = lambda: staff
        request.user = user
        request.api_token = api_token
        return user


class BrowserSessionAuth(SessionAuth):
    """django-ninja's session auth, checking CSRF only once there is a signed-in session, so an
    anonymous call gets 401 rather than a CSRF 403. A staff session counts only after the second
    factor, as on the workbench pages."""

    def __call__(self, request: HttpRequest) -> Any:
        user = request.user
        if not user.is_authenticated or (user.kind == AccountKind.STAFF and not is_verified(user)):
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, _("CSRF校验失败，请刷新页面后重试。"))
        return self.authenticate(request, request.COOKIES.get(self.param_name))


api_auth = [ApiTokenAuth(), BrowserSessionAuth()]
