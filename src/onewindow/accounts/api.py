"""/api/accounts/: the signed-in account and its API tokens.

Every operation needs a bearer token or a browser session (CSRF-checked; for staff, past the
second factor); without either it answers 401.
"""

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status

from onewindow.accounts import selectors, services
from onewindow.accounts.auth import api_auth
from onewindow.accounts.choices import AccountKind
from onewindow.accounts.models import ApiToken
from onewindow.accounts.permissions import is_verified
from onewindow.core.api import AUTH_ERRORS, ErrorOut, ValidationErrorOut
from onewindow.core.errors import PermissionDenied

router = Router(tags=["accounts"], auth=api_auth)

MAX_ID = 2**63 - 1




class ScopeOut(Schema):
    id: int
    name: str


class RoleOut(Schema):
    role: str
    label: str
    department: ScopeOut | None
    region_code: str | None
    valid_until: datetime | None


class EnterpriseLinkOut(Schema):
    enterprise_id: int
    name: str
    uscc: str
    role: str


class StaffOut(Schema):
    department: ScopeOut
    hall: str
    window_number: str


class MeOut(Schema):
    id: int
    username: str
    kind: str
    real_name: str
    id_type: str
    id_number: str = Field(description="Masked")
    phone: str = Field(description="Masked")
    gender: str
    real_name_verified: bool
    real_name_verified_at: datetime | None
    second_factor_verified: bool
    roles: list[RoleOut]
    enterprises: list[EnterpriseLinkOut]
    staff: StaffOut | None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret; shown only in this response")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int = Field(90, ge=1, le=services.TOKEN_MAX_DAYS)




def _token_out(token: ApiToken) -> dict:
    return {
        "id": token.pk, "name": token.name, "prefix": token.prefix, "created_at": token.created_at,
        "expires_at": token.expires_at, "last_used_at": token.last_used_at, "revoked_at": token.revoked_at,
    }


@router.get("/me", response={200: MeOut, **AUTH_ERRORS}, summary="The signed-in account, its roles and enterprises")
def me(request: HttpRequest) -> dict:
    user = request.auth
    profile = getattr(user, "staff_profile", None) if user.kind == AccountKind.STAFF else None
    return {
        "id": user.pk, "username": user.username, "kind": user.kind, "real_name": user.real_name,
        "id_type": user.id_type, "id_number": user.id_number_masked, "phone": user.phone_masked,
        "gender": user.gender, "real_name_verified": user.real_name_verified,
        "real_name_verified_at": user.real_name_verified_at,
        "second_factor_verified": is_verified(user),
        "roles": [
            {"role": r.role, "label": r.get_role_display(),
             "department": {"id": r.department.pk, "name": r.department.name} if r.department else None,
             "region_code": r.region.code if r.region else None, "valid_until": r.valid_until}
            for r in selectors.roles_of(user)
        ],
        "enterprises": [
            {"enterprise_id": link.enterprise_id, "name": link.enterprise.name, "uscc": link.enterprise.uscc,
             "role": link.role}
            for link in selectors.enterprise_links_of(user)
        ],
        "staff": {
            "department": {"id": profile.department.pk, "name": profile.department.name},
            "hall": profile.hall, "window_number": profile.window_number,
        } if profile else None,
    }


@router.get("/tokens", response={200: list[TokenOut], **AUTH_ERRORS}, summary="My API tokens")
def tokens_list(request: HttpRequest) -> list[dict]:
    return [_token_out(token) for token in selectors.api_tokens(actor=request.auth)]


@router.post(
    "/tokens",
    response={201: TokenCreatedOut, 400: ErrorOut, **AUTH_ERRORS, 409: ErrorOut, 422: ValidationErrorOut},
    summary="Create an API token (the secret is returned once)",
)
def tokens_create(request: HttpRequest, payload: TokenIn) -> Status:
    user = request.auth
    if getattr(request, "api_token", None) is not None:
        raise PermissionDenied(_("请在浏览器登录后创建令牌，不能用令牌创建新令牌。"))
    token, secret = services.api_token_create(actor=user, name=payload.name, expires_in_days=payload.expires_in_days)
    return Status(201, {**_token_out(token), "token": secret})


@router.delete(
    "/tokens/{token_id}",
    response={200: TokenOut, **AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut},
    summary="Revoke one of my API tokens",
)
def tokens_revoke(request: HttpRequest, token_id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
    token = selectors.api_token_get(actor=request.auth, token_id=token_id)
    return _token_out(services.api_token_revoke(actor=request.auth, token=token))
