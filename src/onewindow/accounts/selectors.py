"""Reads of the unified identity, always scoped by the actor; an outsider gets NotFound."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts.choices import AccountKind, HandlerRole
from onewindow.accounts.models import (
    ApiToken,
    ChiefRepresentativeAuthorisation,
    Enterprise,
    EnterpriseHandler,
    NotificationCodeDevice,
    RoleAssignment,
    StaffProfile,
    User,
)
from onewindow.accounts.permissions import active_assignments, admin_departments, is_platform_admin
from onewindow.core.errors import NotFound
from onewindow.core.models import Department


def _get(queryset: QuerySet, message: str, **lookup: Any) -> Any:
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(message) from None


def roles_of(actor: Any) -> QuerySet[RoleAssignment]:
    """The actor's roles in force now."""
    return active_assignments(actor).select_related("department", "region").order_by("role", "id")


def enterprise_links_of(actor: Any) -> QuerySet[EnterpriseHandler]:
    """The enterprises the actor may act for now."""
    return EnterpriseHandler.objects.active().filter(user=actor).select_related("enterprise")


def enterprise_get(*, actor: Any, enterprise_id: int) -> Enterprise:
    """An enterprise the actor acts for (or any, for a platform administrator)."""
    queryset = Enterprise.objects.all()
    if not is_platform_admin(actor):
        queryset = queryset.filter(pk__in=enterprise_links_of(actor).values("enterprise_id"))
    return _get(queryset, _("未找到该法人。"), pk=enterprise_id)


def enterprise_handlers(*, actor: Any, enterprise: Enterprise) -> QuerySet[EnterpriseHandler]:
    enterprise = enterprise_get(actor=actor, enterprise_id=enterprise.pk)
    return enterprise.handlers.filter(revoked_at__isnull=True).select_related("user").order_by("role", "id")


def handler_get(*, actor: Any, enterprise: Enterprise, handler_id: int) -> EnterpriseHandler:
    return _get(enterprise_handlers(actor=actor, enterprise=enterprise), _("未找到该授权。"), pk=handler_id)


def is_legal_rep(*, actor: Any, enterprise: Enterprise) -> bool:
    return enterprise_links_of(actor).filter(enterprise=enterprise, role=HandlerRole.LEGAL_REP).exists()


def person_by_identity(*, id_number: str, real_name: str) -> User:
    """A citizen or enterprise account found by document number and matching real name, so a
    legal representative can authorise a handler without browsing accounts."""
    number = id_number.strip().upper() if isinstance(id_number, str) else ""
    name = real_name.strip() if isinstance(real_name, str) else ""
    message = _("未找到证件号码与姓名相符的账户。")
    if not (number and name):
        raise NotFound(message)
    queryset = User.objects.filter(is_active=True).exclude(kind=AccountKind.STAFF)
    return _get(queryset, message, id_number=number, real_name=name)


def managed_departments(actor: Any) -> QuerySet[Department]:
    """Departments whose staff the actor administers."""
    if is_platform_admin(actor):
        return Department.objects.filter(is_active=True)
    return admin_departments(actor)


def staff_directory(*, actor: Any) -> QuerySet[StaffProfile]:
    return (
        StaffProfile.objects.filter(department__in=managed_departments(actor))
        .select_related("user", "department")
        .order_by("department__name", "user__username")
    )


def staff_get(*, actor: Any, user_id: int) -> User:
    profile = _get(staff_directory(actor=actor), _("未找到该工作人员。"), user_id=user_id)
    return profile.user


def staff_roles(*, actor: Any) -> QuerySet[RoleAssignment]:
    """Unrevoked role assignments the actor can manage: their departments' (all, for a platform
    administrator)."""
    queryset = RoleAssignment.objects.filter(revoked_at__isnull=True).select_related("user", "department", "region")
    if not is_platform_admin(actor):
        queryset = queryset.filter(department__in=admin_departments(actor))
    return queryset.order_by("user__username", "role")


def role_assignment_get(*, actor: Any, assignment_id: int) -> RoleAssignment:
    return _get(staff_roles(actor=actor), _("未找到该角色授予。"), pk=assignment_id)


def chief_authorisations(*, actor: Any) -> QuerySet[ChiefRepresentativeAuthorisation]:
    return (
        ChiefRepresentativeAuthorisation.objects.filter(department__in=managed_departments(actor))
        .select_related("representative", "department")
        .order_by("-revoked_at", "department__name", "-valid_from")
    )


def chief_authorisation_get(*, actor: Any, authorisation_id: int) -> ChiefRepresentativeAuthorisation:
    return _get(chief_authorisations(actor=actor), _("未找到该授权书。"), pk=authorisation_id)


def api_tokens(*, actor: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor)


def api_token_get(*, actor: Any, token_id: int) -> ApiToken:
    return _get(api_tokens(actor=actor), _("未找到该令牌。"), pk=token_id)


def totp_device(*, actor: Any, confirmed: bool = True) -> TOTPDevice | None:
    """The actor's authenticator app: the bound one, or (``confirmed=False``) the one awaiting its first code."""
    return TOTPDevice.objects.filter(user=actor, confirmed=confirmed).first()


def sms_code_device(*, actor: Any) -> NotificationCodeDevice | None:
    """The actor's SMS-code device, if a code has been sent and not yet used up."""
    return NotificationCodeDevice.objects.filter(user=actor, token__isnull=False).first()
