"""State changes of the unified identity (统一身份认证).

Every service validates first (InvalidInput with a translated message and the field, so
nothing is written), checks the actor's authority (PermissionDenied, or NotFound when the
object is outside the actor's scope), then writes and records exactly one audit entry in the
same transaction. Notifications are written to the outbox in that transaction too, and sent
after commit.
"""

import hashlib
import ipaddress
import re
import secrets
from datetime import date, datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts import selectors
from onewindow.accounts.choices import (
    ROLE_SCOPES,
    AccountKind,
    EnterpriseVerifyMethod,
    Gender,
    HandlerRole,
    IdType,
    RealNameMethod,
    Role,
    RoleScope,
)
from onewindow.accounts.models import (
    PHONE_RE,
    ApiToken,
    ChiefRepresentativeAuthorisation,
    Enterprise,
    EnterpriseHandler,
    NotificationCodeDevice,
    RoleAssignment,
    StaffProfile,
    User,
    UserSession,
    gender_from_id_number,
    normalise_id_number,
)
from onewindow.accounts.permissions import admin_departments, has_role, is_platform_admin
from onewindow.core import audit
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.identifiers import parse_uscc
from onewindow.core.models import Department, Region
from onewindow.core.notifications import notify


class TooManyRequests(DomainError):
    """Asked again too soon (HTTP 429), e.g. another SMS code within the resend interval."""

    status_code = 429


USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,29}$")
ITEM_CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,49}$")
# C0 and C1 controls (NUL above all: PostgreSQL refuses it in text) never belong in a field.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TOKEN_PREFIX = "ow_"
TOKEN_MAX_DAYS = 365
TOKEN_MAX_ACTIVE = 20


# --- validation helpers --------------------------------------------------------------


def clean_text(value: Any, *, field: str, label: str, max_length: int, required: bool = True,
               multiline: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > max_length:
        raise InvalidInput(_("%(label)s不能超过%(max)d个字符。") % {"label": label, "max": max_length}, field=field)
    if _CONTROL_RE.search(text) or (not multiline and ("\n" in text or "\r" in text)) or not _encodable(text):
        raise InvalidInput(_("%(label)s含有不允许的字符。") % {"label": label}, field=field)
    return text


def _encodable(text: str) -> bool:
    # Lone surrogates can arrive through JSON escapes but cannot be stored.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _identity(id_type: Any, id_number: Any, *, field: str = "id_number") -> tuple[str, str]:
    if id_type not in IdType.values:
        raise InvalidInput(_("证件类型无效。"), field="id_type")
    try:
        return id_type, normalise_id_number(id_type, id_number if isinstance(id_number, str) else "")
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field=field) from None


def _phone(value: Any, *, required: bool) -> str:
    phone = value.strip() if isinstance(value, str) else ""
    if not phone and not required:
        return ""
    if not PHONE_RE.fullmatch(phone):
        raise InvalidInput(_("手机号码应为11位中国大陆手机号。"), field="phone")
    if User.objects.filter(phone=phone).exists():
        raise InvalidInput(_("该手机号码已被其他账户使用。"), field="phone")
    return phone


def _email(value: Any) -> str:
    email = value.strip() if isinstance(value, str) else ""
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("电子邮箱格式不正确。"), field="email") from None
    return email


def _username(value: Any) -> str:
    username = value.strip() if isinstance(value, str) else ""
    # A leading letter keeps usernames apart from phone and ID numbers, which also sign in.
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput(_("用户名应为4至30位字母、数字或下划线，并以字母开头。"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(_("该用户名已被使用。"), field="username")
    return username


def _password(password: Any, user: User, *, field: str = "password") -> str:
    if not isinstance(password, str) or not password:
        raise InvalidInput(_("请填写密码。"), field=field)
    if len(password) > 128 or _CONTROL_RE.search(password) or not _encodable(password):
        raise InvalidInput(_("密码不能超过128个字符，且不能含控制字符。"), field=field)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field=field) from None
    return password


def _id_unused(id_number: str) -> None:
    if User.objects.filter(id_number=id_number).exists():
        raise InvalidInput(_("该证件号码已注册账户，请直接登录。"), field="id_number")


def _date(value: Any, *, field: str, label: str, required: bool = True) -> date | None:
    if value is None and not required:
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(_("请填写有效的%(label)s。") % {"label": label}, field=field)
    return value


def _require_user(actor: Any) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("请先登录。"))
    return actor


def _user_facts(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "kind": user.kind,
        "real_name": user.real_name,
        "id_type": user.id_type,
        "id_number": user.id_number_masked,
        "is_active": user.is_active,
        "real_name_verified": user.real_name_verified,
    }


def _end_sessions(user: User, *, keep: str | None = None) -> int:
    """Delete the user's sessions from the session store (all, or all but `keep`)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = UserSession.objects.filter(user=user).exclude(session_key=keep or "")
    keys = list(sessions.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    sessions.delete()
    return len(keys)


# --- citizens and enterprises --------------------------------------------------------


@transaction.atomic
def citizen_register(
    *,
    actor: Any = None,
    username: str,
    password: str,
    real_name: str,
    id_number: str,
    id_type: str = IdType.RESIDENT_ID,
    phone: str = "",
    email: str = "",
) -> User:
    """Open a citizen account (自然人注册) under the person's real name and document number."""
    username = _username(username)
    real_name = clean_text(real_name, field="real_name", label=_("真实姓名"), max_length=50)
    id_type, id_number = _identity(id_type, id_number)
    _id_unused(id_number)
    user = User(
        username=username,
        kind=AccountKind.CITIZEN,
        real_name=real_name,
        id_type=id_type,
        id_number=id_number,
        gender=gender_from_id_number(id_type, id_number),
        phone=_phone(phone, required=False),
        email=_email(email),
    )
    user.set_password(_password(password, user))
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Lost a race with a concurrent registration of the same number, phone or name.
        raise InvalidInput(_("该账户信息已被注册，请直接登录。"), field="username") from None
    is_actor = actor is not None and getattr(actor, "is_authenticated", False)
    audit.record(actor=actor if is_actor else user, action="accounts.citizen_register", target=user,
                 after=_user_facts(user))
    return user


@transaction.atomic
def enterprise_register(
    *,
    actor: Any,
    name: str,
    uscc: str,
    legal_rep_name: str,
    legal_rep_id_number: str,
    registered_address: str,
    legal_rep_id_type: str = IdType.RESIDENT_ID,
    registered_on: date | None = None,
    business_scope: str = "",
) -> Enterprise:
    """Register a legal person (法人). The legal representative does it in person, or a platform
    administrator does; the representative's account, if any, is linked as legal representative."""
    actor = _require_user(actor)
    name = clean_text(name, field="name", label=_("机构名称"), max_length=200)
    try:
        uscc = parse_uscc(uscc).number
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="uscc") from None
    legal_rep_name = clean_text(legal_rep_name, field="legal_rep_name", label=_("法定代表人姓名"), max_length=50)
    legal_rep_id_type, legal_rep_id_number = _identity(
        legal_rep_id_type, legal_rep_id_number, field="legal_rep_id_number"
    )
    registered_address = clean_text(registered_address, field="registered_address", label=_("注册地址"),
                                     max_length=300)
    registered_on = _date(registered_on, field="registered_on", label=_("注册日期"), required=False)
    if registered_on and registered_on > timezone.localdate():
        raise InvalidInput(_("注册日期不能晚于今天。"), field="registered_on")
    business_scope = clean_text(business_scope, field="business_scope", label=_("经营范围"), max_length=2000,
                                required=False, multiline=True)

    actor_is_rep = actor.id_type == legal_rep_id_type and actor.id_number == legal_rep_id_number
    if not actor_is_rep and not is_platform_admin(actor):
        raise PermissionDenied(_("只有法定代表人本人或平台管理员可以登记法人。"))
    if actor_is_rep and actor.real_name != legal_rep_name:
        raise InvalidInput(_("法定代表人姓名与您的实名信息不一致。"), field="legal_rep_name")
    if Enterprise.objects.filter(uscc=uscc).exists():
        raise InvalidInput(_("该统一社会信用代码已登记。"), field="uscc")

    enterprise = Enterprise(
        name=name, uscc=uscc, legal_rep_name=legal_rep_name, legal_rep_id_type=legal_rep_id_type,
        legal_rep_id_number=legal_rep_id_number, registered_address=registered_address,
        registered_on=registered_on, business_scope=business_scope, registered_by=actor,
    )
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError:
        raise InvalidInput(_("该统一社会信用代码已登记。"), field="uscc") from None
    rep = actor if actor_is_rep else User.objects.filter(
        id_type=legal_rep_id_type, id_number=legal_rep_id_number, is_active=True
    ).exclude(kind=AccountKind.STAFF).first()
    if rep is not None:
        EnterpriseHandler.objects.create(enterprise=enterprise, user=rep, role=HandlerRole.LEGAL_REP)
    audit.record(
        actor=actor, action="accounts.enterprise_register", target=enterprise,
        after={"name": name, "uscc": uscc, "legal_rep_name": legal_rep_name,
               "legal_rep_user": rep.username if rep else None},
    )
    return enterprise


@transaction.atomic
def handler_add(
    *,
    actor: Any,
    enterprise: Enterprise,
    user: User,
    role: str = HandlerRole.HANDLER,
    valid_until: date | None = None,
) -> EnterpriseHandler:
    """Authorise `user` to act for `enterprise` (经办人授权). The legal representative adds
    handlers; only a platform administrator names a legal representative."""
    actor = _require_user(actor)
    admin = is_platform_admin(actor)
    if not admin and not selectors.is_legal_rep(actor=actor, enterprise=enterprise):
        if not selectors.enterprise_links_of(actor).filter(enterprise=enterprise).exists():
            raise NotFound(_("未找到该法人。"))
        raise PermissionDenied(_("只有法定代表人可以授权经办人。"))
    if role not in HandlerRole.values:
        raise InvalidInput(_("经办身份无效。"), field="role")
    if role == HandlerRole.LEGAL_REP and not admin:
        raise PermissionDenied(_("法定代表人身份只能由平台管理员登记。"))
    valid_until = _date(valid_until, field="valid_until", label=_("授权截止日期"), required=False)
    if valid_until and valid_until < timezone.localdate():
        raise InvalidInput(_("授权截止日期不能早于今天。"), field="valid_until")
    if not user.is_active or user.kind == AccountKind.STAFF:
        raise InvalidInput(_("只能授权有效的自然人或法人账户。"), field="user")
    if not (user.real_name and user.id_number):
        raise InvalidInput(_("被授权人尚未登记真实姓名和证件号码。"), field="user")
    if EnterpriseHandler.objects.filter(enterprise=enterprise, user=user, revoked_at__isnull=True).exists():
        raise DomainError(_("该用户已获本法人授权。"), field="user")
    link = EnterpriseHandler.objects.create(
        enterprise=enterprise, user=user, role=role, authorised_by=actor, valid_until=valid_until
    )
    audit.record(
        actor=actor, action="accounts.handler_add", target=link,
        after={"enterprise": enterprise.uscc, "user": user.username, "role": role,
               "valid_until": valid_until.isoformat() if valid_until else None},
    )
    notify(
        recipient=user, kind="accounts.handler_add", channels=("inbox",),
        subject=_("法人授权通知"),
        body=_("您已获授权代表%(name)s办理政务服务事项。") % {"name": enterprise.name},
    )
    return link


@transaction.atomic
def handler_revoke(*, actor: Any, handler: EnterpriseHandler) -> EnterpriseHandler:
    """End an authorisation: by the legal representative, the handler themselves, or a platform
    administrator (the only one who may remove a legal representative)."""
    actor = _require_user(actor)
    handler = EnterpriseHandler.objects.select_for_update().get(pk=handler.pk)
    admin = is_platform_admin(actor)
    own = handler.user_id == actor.pk
    if not (admin or own or selectors.is_legal_rep(actor=actor, enterprise=handler.enterprise)):
        raise NotFound(_("未找到该授权。"))
    if handler.role == HandlerRole.LEGAL_REP and not admin:
        raise PermissionDenied(_("法定代表人身份只能由平台管理员撤销。"))
    if handler.revoked_at is not None:
        raise DomainError(_("该授权已撤销。"))
    handler.revoked_at = timezone.now()
    handler.revoked_by = actor
    handler.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    audit.record(
        actor=actor, action="accounts.handler_revoke", target=handler,
        before={"revoked": False}, after={"revoked": True, "user": handler.user.username},
    )
    return handler


@transaction.atomic
def real_name_verify(*, actor: Any, user: User, method: str) -> User:
    """Mark an account as real-name verified (实名认证) after a check by `method`."""
    actor = _require_user(actor)
    if not (is_platform_admin(actor) or has_role(actor, Role.WINDOW_CLERK)):
        raise PermissionDenied(_("只有窗口受理员或平台管理员可以进行实名认证。"))
    if method not in RealNameMethod.values:
        raise InvalidInput(_("实名认证方式无效。"), field="method")
    user = User.objects.select_for_update().get(pk=user.pk)
    if not (user.real_name and user.id_number):
        raise InvalidInput(_("该账户尚未登记真实姓名和证件号码。"), field="user")
    if user.real_name_verified:
        raise DomainError(_("该账户已完成实名认证。"))
    user.real_name_verified = True
    user.real_name_verified_at = timezone.now()
    user.real_name_method = method
    user.save(update_fields=["real_name_verified", "real_name_verified_at", "real_name_method"])
    audit.record(actor=actor, action="accounts.real_name_verify", target=user,
                 before={"real_name_verified": False}, after={"real_name_verified": True, "method": method})
    return user


@transaction.atomic
def enterprise_verify(*, actor: Any, enterprise: Enterprise, method: str) -> Enterprise:
    """Mark a legal person as verified against its licence or the market registry."""
    actor = _require_user(actor)
    if not (is_platform_admin(actor) or has_role(actor, Role.WINDOW_CLERK)):
        raise PermissionDenied(_("只有窗口受理员或平台管理员可以认证法人。"))
    if method not in EnterpriseVerifyMethod.values:
        raise InvalidInput(_("认证方式无效。"), field="method")
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if enterprise.verified:
        raise DomainError(_("该法人已完成认证。"))
    enterprise.verified = True
    enterprise.verified_at = timezone.now()
    enterprise.verify_method = method
    enterprise.save(update_fields=["verified", "verified_at", "verify_method", "updated_at"])
    audit.record(actor=actor, action="accounts.enterprise_verify", target=enterprise,
                 before={"verified": False}, after={"verified": True, "method": method})
    return enterprise


# --- staff and roles -----------------------------------------------------------------


def _administers(actor: User, department: Department) -> bool:
    return is_platform_admin(actor) or admin_departments(actor).filter(pk=department.pk).exists()


@transaction.atomic
def staff_create(
    *,
    actor: Any,
    department: Department,
    username: str,
    password: str,
    real_name: str,
    phone: str,
    id_number: str = "",
    hall: str = "",
    window_number: str = "",
    employee_number: str = "",
) -> User:
    """Open a staff account in `department` (platform administrator or that department's
    administrator). Roles are granted separately."""
    actor = _require_user(actor)
    if not _administers(actor, department):
        raise PermissionDenied(_("您不能为该部门开设工作人员账户。"))
    username = _username(username)
    real_name = clean_text(real_name, field="real_name", label=_("真实姓名"), max_length=50)
    # The phone receives second-factor codes, so staff must have one.
    phone = _phone(phone, required=True)
    id_type, number = IdType.RESIDENT_ID, ""
    if isinstance(id_number, str) and id_number.strip():
        id_type, number = _identity(IdType.RESIDENT_ID, id_number)
        _id_unused(number)
    hall = clean_text(hall, field="hall", label=_("办事大厅"), max_length=100, required=False)
    window_number = clean_text(window_number, field="window_number", label=_("窗口号"), max_length=20,
                               required=False)
    employee_number = clean_text(employee_number, field="employee_number", label=_("工号"), max_length=30,
                                 required=False)
    if employee_number and StaffProfile.objects.filter(department=department, employee_number=employee_number).exists():
        raise InvalidInput(_("该工号在本部门已被使用。"), field="employee_number")
    user = User(
        username=username, kind=AccountKind.STAFF, real_name=real_name, phone=phone, id_type=id_type,
        id_number=number, gender=gender_from_id_number(id_type, number) if number else Gender.UNKNOWN,
        employer=department.name,
    )
    user.set_password(_password(password, user))
    try:
        with transaction.atomic():
            user.save()
            StaffProfile.objects.create(user=user, department=department, hall=hall, window_number=window_number,
                                        employee_number=employee_number)
    except IntegrityError:
        raise InvalidInput(_("该账户信息已被使用。"), field="username") from None
    audit.record(actor=actor, action="accounts.staff_create", target=user,
                 after={**_user_facts(user), "department": department.pk, "window_number": window_number})
    return user


def _check_role_scope(role: str, department: Department | None, region: Region | None) -> None:
    scope = ROLE_SCOPES[role]
    if scope == RoleScope.DEPARTMENT and (department is None or region is not None):
        raise InvalidInput(_("该角色须限定在一个部门内。"), field="department")
    if scope == RoleScope.REGION and (region is None or department is not None):
        raise InvalidInput(_("该角色须限定在一个行政区划内。"), field="region")
    if scope == RoleScope.PLATFORM and (region is not None or department is not None):
        raise InvalidInput(_("平台管理员角色不限定部门或区划。"), field="role")


def _may_manage_role(actor: User, role: str, department: Department | None) -> bool:
    # A department administrator manages the department-scoped roles of their own department.
    if ROLE_SCOPES[role] == RoleScope.DEPARTMENT and department is not None:
        return _administers(actor, department)
    return is_platform_admin(actor)


@transaction.atomic
def role_grant(
    *,
    actor: Any,
    user: User,
    role: str,
    department: Department | None = None,
    region: Region | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> RoleAssignment:
    """Grant `role` to a staff member, scoped to a department, a region, or the platform."""
    actor = _require_user(actor)
    if role not in Role.values:
        raise InvalidInput(_("角色无效。"), field="role")
    _check_role_scope(role, department, region)
    if not _may_manage_role(actor, role, department):
        raise PermissionDenied(_("您不能在该范围内授予此角色。"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.kind != AccountKind.STAFF or not user.is_active:
        raise InvalidInput(_("只能向有效的工作人员账户授予角色。"), field="user")
    if department is not None and not StaffProfile.objects.filter(user=user, department=department).exists():
        raise InvalidInput(_("该工作人员不属于所选部门。"), field="user")
    now = timezone.now()
    valid_from = valid_from or now
    if valid_until is not None and valid_until <= max(valid_from, now):
        raise InvalidInput(_("失效时间应晚于生效时间和当前时间。"), field="valid_until")
    current = RoleAssignment.objects.filter(user=user, role=role, department=department, region=region,
                                            revoked_at__isnull=True)
    if current.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now)).exists():
        raise DomainError(_("该工作人员已拥有此角色。"), field="role")
    assignment = RoleAssignment.objects.create(
        user=user, role=role, department=department, region=region, granted_by=actor,
        valid_from=valid_from, valid_until=valid_until,
    )
    audit.record(
        actor=actor, action="accounts.role_grant", target=assignment,
        after={"user": user.username, "role": role, "department": department.pk if department else None,
               "region": region.code if region else None,
               "valid_until": valid_until.isoformat() if valid_until else None},
    )
    notify(
        recipient=user, kind="accounts.role_grant", channels=("inbox",), subject=_("角色授予通知"),
        body=_("您已被授予“%(role)s”角色。") % {"role": Role(role).label},
    )
    return assignment


@transaction.atomic
def role_revoke(*, actor: Any, assignment: RoleAssignment) -> RoleAssignment:
    actor = _require_user(actor)
    assignment = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
    if not _may_manage_role(actor, assignment.role, assignment.department):
        raise PermissionDenied(_("您不能撤销该范围内的角色。"))
    if assignment.revoked_at is not None:
        raise DomainError(_("该角色已撤销。"))
    if assignment.role == Role.PLATFORM_ADMIN:
        others = RoleAssignment.objects.active().filter(role=Role.PLATFORM_ADMIN, user__is_active=True)
        if not others.exclude(pk=assignment.pk).exists() and not User.objects.filter(
            is_superuser=True, is_active=True
        ).exists():
            raise DomainError(_("不能撤销最后一位平台管理员。"))
    assignment.revoked_at = timezone.now()
    assignment.revoked_by = actor
    assignment.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    audit.record(actor=actor, action="accounts.role_revoke", target=assignment,
                 before={"revoked": False}, after={"revoked": True, "user": assignment.user.username,
                                                   "role": assignment.role})
    return assignment


@transaction.atomic
def chief_authorisation_create(
    *,
    actor: Any,
    representative: User,
    department: Department,
    scope_text: str,
    document_number: str,
    signatory: str,
    signed_on: date,
    valid_from: date,
    valid_until: date,
    all_items: bool = False,
    item_codes: list[str] | tuple[str, ...] = (),
    document_reference: str = "",
) -> ChiefRepresentativeAuthorisation:
    """Record a written authorisation (首席代表授权书) for an approver of `department`."""
    actor = _require_user(actor)
    if not _administers(actor, department):
        raise PermissionDenied(_("您不能为该部门登记首席代表授权。"))
    scope_text = clean_text(scope_text, field="scope_text", label=_("授权范围"), max_length=2000, multiline=True)
    document_number = clean_text(document_number, field="document_number", label=_("授权文号"), max_length=100)
    document_reference = clean_text(document_reference, field="document_reference", label=_("档案编号"),
                                    max_length=200, required=False)
    signatory = clean_text(signatory, field="signatory", label=_("签发人"), max_length=50)
    signed_on = _date(signed_on, field="signed_on", label=_("签发日期"))
    valid_from = _date(valid_from, field="valid_from", label=_("生效日期"))
    valid_until = _date(valid_until, field="valid_until", label=_("截止日期"))
    if signed_on > timezone.localdate():
        raise InvalidInput(_("签发日期不能晚于今天。"), field="signed_on")
    if valid_until < valid_from:
        raise InvalidInput(_("截止日期不能早于生效日期。"), field="valid_until")
    codes: list[str] = []
    if not all_items:
        for code in item_codes:
            code = code.strip() if isinstance(code, str) else ""
            if not ITEM_CODE_RE.fullmatch(code):
                raise InvalidInput(_("事项编码“%(code)s”格式不正确。") % {"code": code[:50]}, field="item_codes")
            if code not in codes:
                codes.append(code)
        if not codes:
            raise InvalidInput(_("请填写授权事项编码，或选择本部门全部事项。"), field="item_codes")
    if representative.kind != AccountKind.STAFF or not has_role(representative, Role.APPROVER, department=department):
        raise InvalidInput(_("被授权人须是本部门在岗的审批人（首席代表）。"), field="representative")
    authorisation = ChiefRepresentativeAuthorisation.objects.create(
        representative=representative, department=department, scope_text=scope_text, all_items=bool(all_items),
        item_codes=codes, document_number=document_number, document_reference=document_reference,
        signatory=signatory, signed_on=signed_on, valid_from=valid_from, valid_until=valid_until,
        granted_by=actor,
    )
    audit.record(
        actor=actor, action="accounts.chief_authorisation_create", target=authorisation,
        after={"representative": representative.username, "department": department.pk,
               "all_items": bool(all_items), "item_codes": codes, "document_number": document_number,
               "valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat()},
    )
    return authorisation


@transaction.atomic
def chief_authorisation_revoke(
    *, actor: Any, authorisation: ChiefRepresentativeAuthorisation, reason: str
) -> ChiefRepresentativeAuthorisation:
    actor = _require_user(actor)
    authorisation = ChiefRepresentativeAuthorisation.objects.select_for_update().get(pk=authorisation.pk)
    if not _administers(actor, authorisation.department):
        raise PermissionDenied(_("您不能撤销该部门的首席代表授权。"))
    reason = clean_text(reason, field="reason", label=_("撤销原因"), max_length=200)
    if authorisation.revoked_at is not None:
        raise DomainError(_("该授权已撤销。"))
    authorisation.revoked_at = timezone.now()
    authorisation.revoked_by = actor
    authorisation.revoke_reason = reason
    authorisation.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    audit.record(actor=actor, action="accounts.chief_authorisation_revoke", target=authorisation,
                 before={"revoked": False}, after={"revoked": True, "reason": reason})
    return authorisation


# --- credentials and sessions --------------------------------------------------------


@transaction.atomic
def password_change(*, actor: Any, old_password: str, new_password: str, keep_session_key: str | None = None) -> int:
    """Change the actor's password and end every other session; returns how many ended."""
    actor = _require_user(actor)
    user = User.objects.select_for_update().get(pk=actor.pk)
    if not isinstance(old_password, str) or not user.check_password(old_password):
        raise InvalidInput(_("原密码不正确。"), field="old_password")
    if new_password == old_password:
        raise InvalidInput(_("新密码不能与原密码相同。"), field="new_password")
    user.set_password(_password(new_password, user, field="new_password"))
    user.save(update_fields=["password"])
    # The caller refreshes its session hash from the actor it holds.
    actor.password = user.password
    ended = _end_sessions(user, keep=keep_session_key)
    audit.record(actor=user, action="accounts.password_change", target=user, after={"other_sessions_ended": ended})
    notify(
        recipient=user, kind="accounts.password_change", channels=("inbox", "sms"), subject=_("密码已修改"),
        body=_("您的账户密码已修改，其他设备上的登录已退出。如非本人操作，请立即联系平台。"),
    )
    return ended


@transaction.atomic
def account_deactivate(*, actor: Any, user: User, reason: str = "") -> User:
    """Deactivate an account (注销/停用): it can no longer sign in, every session ends and every
    API token is revoked. The account holder, a platform administrator, or the department
    administrator of a staff member may do it."""
    actor = _require_user(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    profile = StaffProfile.objects.filter(user=user).select_related("department").first()
    allowed = actor.pk == user.pk or (
        _administers(actor, profile.department) if profile is not None else is_platform_admin(actor)
    )
    if not allowed:
        raise NotFound(_("未找到该账户。"))
    reason = clean_text(reason, field="reason", label=_("原因"), max_length=200, required=False)
    if not user.is_active:
        raise DomainError(_("该账户已停用。"))
    now = timezone.now()
    user.is_active = False
    user.deactivated_at = now
    user.save(update_fields=["is_active", "deactivated_at"])
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    ended = _end_sessions(user)
    audit.record(actor=actor, action="accounts.account_deactivate", target=user,
                 before={"is_active": True},
                 after={"is_active": False, "reason": reason, "sessions_ended": ended, "tokens_revoked": tokens})
    return user


@transaction.atomic
def sessions_end(*, actor: Any, user: User) -> int:
    """End every session of `user` (platform administrator, or the user themselves)."""
    actor = _require_user(actor)
    if actor.pk != user.pk and not is_platform_admin(actor):
        raise NotFound(_("未找到该账户。"))
    ended = _end_sessions(user)
    audit.record(actor=actor, action="accounts.sessions_end", target=user, after={"sessions_ended": ended})
    return ended


@transaction.atomic
def session_open(*, user: User, session_key: str, ip: str | None, user_agent: str) -> UserSession:
    """Register a signed-in session (called on every login) so it can be ended server-side."""
    try:
        ip = str(ipaddress.ip_address(ip or ""))
    except ValueError:
        ip = None
    session = UserSession.objects.create(user=user, session_key=session_key, ip=ip, user_agent=user_agent[:300])
    audit.record(actor=user, action="accounts.login", target=user, after={"ip": ip})
    return session


@transaction.atomic
def session_close(*, user: User, session_key: str | None) -> None:
    UserSession.objects.filter(user=user, session_key=session_key or "").delete()
    audit.record(actor=user, action="accounts.logout", target=user)


# --- second factor ---------------------------------------------------------------------


@transaction.atomic
def otp_code_send(*, actor: Any) -> NotificationCodeDevice:
    """Send a one-time sign-in code by SMS (valid 10 minutes, one use, resend limited).

    SMS only: the inbox sits behind the password the code is meant to back up."""
    actor = _require_user(actor)
    if actor.kind != AccountKind.STAFF:
        raise PermissionDenied(_("只有工作人员登录需要短信验证码。"))
    if not actor.phone:
        raise DomainError(_("账户未登记手机号码，无法发送验证码。"))
    device, _created = NotificationCodeDevice.objects.select_for_update().get_or_create(
        user=actor, defaults={"name": "sms"}
    )
    allowed, info = device.generate_is_allowed()
    if not allowed:
        seconds = max(1, int((info["next_generation_at"] - timezone.now()).total_seconds()))
        raise TooManyRequests(_("验证码发送过于频繁，请%(seconds)d秒后再试。") % {"seconds": seconds})
    code = device.issue()
    audit.record(actor=actor, action="accounts.otp_code_send", target=actor, after={"phone": actor.phone_masked})
    notify(
        recipient=actor, kind="accounts.otp_code", channels=("sms",), subject=_("登录验证码"),
        body=_("您的登录验证码为%(code)s，10分钟内有效。请勿告诉他人。") % {"code": code},
    )
    return device


@transaction.atomic
def second_factor_verify(*, actor: Any, device: Any, token: str) -> bool:
    """Check a second-factor code against one of the actor's devices; the caller marks the
    session verified on success. Failures are recorded too, with the device's throttle."""
    actor = _require_user(actor)
    device = type(device).objects.select_for_update().get(pk=device.pk)
    if device.user_id != actor.pk or not device.confirmed:
        raise NotFound(_("未找到该验证方式。"))
    token = token.strip() if isinstance(token, str) else ""
    ok = bool(re.fullmatch(r"\d{6}", token)) and device.verify_token(token)
    audit.record(actor=actor, action="accounts.second_factor_verify", target=actor,
                 after={"device": device.persistent_id, "ok": ok})
    return ok


@transaction.atomic
def totp_enrol_start(*, actor: Any) -> TOTPDevice:
    """Create (or reuse) an unconfirmed authenticator-app device for the actor."""
    actor = _require_user(actor)
    device = selectors.totp_device(actor=actor, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name=_("身份验证器"), confirmed=False)
    audit.record(actor=actor, action="accounts.totp_enrol_start", target=actor, after={"device": device.pk})
    return device


def totp_enrol_confirm(*, actor: Any, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm the new device with a first code; it replaces any earlier authenticator.

    A wrong code is refused after its transaction commits, so the device's failure throttle
    (saved by `verify_token`) counts it, as it does at sign-in.
    """
    confirmed = _totp_enrol_check(actor=actor, device=device, token=token)
    if confirmed is None:
        raise InvalidInput(_("验证码不正确或已使用，请输入身份验证器上显示的最新6位数字。"), field="token")
    return confirmed


@transaction.atomic
def _totp_enrol_check(*, actor: Any, device: TOTPDevice, token: str) -> TOTPDevice | None:
    actor = _require_user(actor)
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.user_id != actor.pk or device.confirmed:
        raise NotFound(_("未找到待绑定的身份验证器。"))
    token = token.strip() if isinstance(token, str) else ""
    if not (re.fullmatch(r"\d{6}", token) and device.verify_token(token)):
        audit.record(actor=actor, action="accounts.totp_enrol_confirm", target=actor,
                     after={"device": device.pk, "ok": False})
        return None
    replaced = TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()[0]
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record(actor=actor, action="accounts.totp_enrol_confirm", target=actor,
                 after={"device": device.pk, "ok": True, "replaced": replaced})
    return device


# --- API tokens --------------------------------------------------------------------------


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Any, name: str, expires_in_days: int = 90) -> tuple[ApiToken, str]:
    """Issue an API token; returns the row and the secret, which is never shown again."""
    actor = _require_user(actor)
    name = clean_text(name, field="name", label=_("令牌名称"), max_length=100)
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) or not (
        1 <= expires_in_days <= TOKEN_MAX_DAYS
    ):
        raise InvalidInput(_("有效期应为1至%(max)d天。") % {"max": TOKEN_MAX_DAYS}, field="expires_in_days")
    User.objects.select_for_update().get(pk=actor.pk)
    now = timezone.now()
    if ApiToken.objects.filter(user=actor, revoked_at__isnull=True, expires_at__gt=now).count() >= TOKEN_MAX_ACTIVE:
        raise DomainError(_("有效令牌已达%(max)d个，请先撤销不用的令牌。") % {"max": TOKEN_MAX_ACTIVE})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor, name=name, prefix=secret[:12], key_hash=hash_token(secret),
        created_at=now, expires_at=now + timedelta(days=expires_in_days),
    )
    audit.record(actor=actor, action="accounts.api_token_create", target=token,
                 after={"name": name, "prefix": token.prefix, "expires_at": token.expires_at.isoformat()})
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    actor = _require_user(actor)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk and not is_platform_admin(actor):
        raise NotFound(_("未找到该令牌。"))
    if token.revoked_at is not None:
        raise DomainError(_("该令牌已撤销。"))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action="accounts.api_token_revoke", target=token,
                 before={"revoked": False}, after={"revoked": True, "prefix": token.prefix})
    return token
