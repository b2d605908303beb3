"""API authentication: bearer tokens (scripts, other systems) and the browser session."""

import re
from datetime import datetime, timedelta
from typing import Any

from django.db.models import FilteredRelation, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.models import ApiToken, RoleAssignment, StaffProfile, User
from onewindow.accounts.permissions import GRANT_FIELDS, grants_read_along, is_verified
from onewindow.accounts.services import TOKEN_PREFIX, hash_token
from onewindow.core.prepared import PreparedRead, attach, columns, loaded

_TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}[A-Za-z0-9_-]{{20,100}}$")
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Every API call by a script or another system reads its token, the token's user, the user's
# staff profile and role assignments in force (which every scoped read and permission check of
# the request asks for): one statement, a row per assignment, built once.
_TOKEN_READ = PreparedRead(
    lambda key_hash, now: (
        ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .annotate(held=FilteredRelation(
            "user__role_assignments", condition=RoleAssignment.in_force_q(now, prefix="user__role_assignments__")))
        .order_by()
        .values_list(*columns(ApiToken), *columns(User, "user__"), *columns(StaffProfile, "user__staff_profile__"),
                     *(f"held__{field}" for field in GRANT_FIELDS))
    ),
    key_hash=str,
    now=datetime,
)


def _token_with_user(key_hash: str, now: datetime) -> ApiToken | None:
    rows = _TOKEN_READ.rows(key_hash=key_hash, now=now)
    if not rows:
        return None
    row = rows[0]
    api_token, user = loaded(ApiToken, row), loaded(User, row, prefix="user__")
    has_profile = row["user__staff_profile__id"] is not None
    attach(user, "staff_profile", loaded(StaffProfile, row, prefix="user__staff_profile__") if has_profile else None)
    attach(api_token, "user", user)
    grants_read_along(user, rows, "held__")
    return api_token


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer ow_...`: a token that is not revoked, not expired, of an active user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not _TOKEN_RE.fullmatch(token):
            return None
        now = timezone.now()
        api_token = _token_with_user(hash_token(token), now)
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
