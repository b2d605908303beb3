"""Sign-in, second factor, the account page, and the department administrator's staff pages."""

from base64 import b32encode
from typing import Any
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from onewindow.accounts import selectors, services
from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.forms import (
    ChiefAuthorisationForm,
    CitizenRegisterForm,
    CodeForm,
    EnterpriseRegisterForm,
    HandlerAddForm,
    LoginForm,
    PasswordChangeForm,
    ReasonForm,
    RoleGrantForm,
    StaffCreateForm,
    add_domain_error,
)
from onewindow.accounts.permissions import (
    account_required,
    has_role,
    is_platform_admin,
    is_verified,
    role_required,
    staff_required,
)
from onewindow.core.errors import DomainError
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell

ADMIN_ROLES = (Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)
EXPIRY_MESSAGES = {
    "idle": lambda: _("您已较长时间未操作，为保护账户安全已自动退出，请重新登录。"),
    "absolute": lambda: _("本次登录已达到最长时限，请重新登录。"),
}


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """django-axes calls this once an account or address has failed too often."""
    minutes = max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))
    return render_in_shell(request, "accounts/lockout.html", {"minutes": minutes}, status=429)


domain_errors = refusals_as(problem_page())


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return candidate
    return resolve_url(default)


def _home_for(user: Any) -> str:
    if user.kind != AccountKind.STAFF:
        return settings.LOGIN_REDIRECT_URL
    return "core:supervision" if has_role(user, Role.SUPERVISOR) else "core:workbench"


# --- sign-in -------------------------------------------------------------------------


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = form.user
            auth_login(request, user)
            target = _next_url(request, _home_for(user))
            if user.kind == AccountKind.STAFF:
                return redirect(f"{reverse('accounts:verify')}?{urlencode({'next': target})}")
            return redirect(target)
        status = 400
    expired = EXPIRY_MESSAGES.get(request.GET.get("expired", ""))
    return render_in_shell(request, "accounts/login.html", {
        "form": form, "next": request.POST.get("next") or request.GET.get("next", ""),
        "expired_message": expired() if expired else "",
    }, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@domain_errors
def register_view(request: HttpRequest) -> HttpResponse:
    form = CitizenRegisterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.citizen_register(
                    actor=request.user, username=data["username"], password=data["password1"],
                    real_name=data["real_name"], id_type=data["id_type"], id_number=data["id_number"],
                    phone=data["phone"], email=data["email"],
                )
            except DomainError as exc:
                add_domain_error(form, exc, field_map={"password": "password1"})
            else:
                messages.success(request, _("注册成功，请登录。"))
                return redirect("accounts:login")
        status = 400
    return render_in_shell(request, "accounts/register.html", {"form": form}, status=status)


# --- second factor -------------------------------------------------------------------


@login_required
@domain_errors
def verify_view(request: HttpRequest) -> HttpResponse:
    """Second factor for staff: an authenticator-app code, or a code sent by SMS."""
    user = request.user
    target = _next_url(request, _home_for(user))
    if user.kind != AccountKind.STAFF or is_verified(user):
        return redirect(target)
    totp = selectors.totp_device(actor=user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if request.POST.get("method") == "totp":
            device, missing = totp, _("尚未绑定身份验证器，请使用短信验证码。")
        else:
            device = selectors.sms_code_device(actor=user)
            missing = _("请先获取短信验证码。")
        if device is None:
            form.add_error(None, missing)
        elif form.is_valid():
            if services.second_factor_verify(actor=user, device=device, token=form.cleaned_data["token"]):
                django_otp.login(request, device)
                # A new session key once the session is fully authenticated.
                request.session.cycle_key()
                return redirect(target)
            form.add_error("token", _("验证码不正确、已使用或已过期，请重新输入。"))
        status = 400
    return render_in_shell(request, "accounts/verify.html", {
        "form": form, "has_totp": totp is not None, "has_phone": bool(user.phone),
        "phone": user.phone_masked, "next": target,
    }, status=status)


@require_POST
@login_required
@domain_errors
def send_code_view(request: HttpRequest) -> HttpResponse:
    services.otp_code_send(actor=request.user)
    messages.success(request, _("验证码已发送至尾号%(tail)s的手机，10分钟内有效。") % {"tail": request.user.phone[-4:]})
    target = _next_url(request, _home_for(request.user))
    return redirect(f"{reverse('accounts:verify')}?{urlencode({'next': target})}")


@staff_required
@domain_errors
def totp_enrol_view(request: HttpRequest) -> HttpResponse:
    """Bind an authenticator app. Reached only with a verified session, so a stolen password
    alone cannot bind a new device."""
    user = request.user
    form = CodeForm(request.POST if request.POST.get("action") == "confirm" else None)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "start":
        services.totp_enrol_start(actor=user)
        return redirect("accounts:totp")
    pending = selectors.totp_device(actor=user, confirmed=False)
    if request.method == "POST":
        if pending is None:
            return render_in_shell(request, "onewindow/problem.html",
                           {"code": 400, "message": _("没有待确认的身份验证器，请先开始绑定。")}, status=400)
        if form.is_valid():
            try:
                device = services.totp_enrol_confirm(actor=user, device=pending, token=form.cleaned_data["token"])
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                django_otp.login(request, device)
                messages.success(request, _("身份验证器已绑定，下次登录请输入其中显示的验证码。"))
                return redirect("accounts:profile")
        status = 400
    secret = b32encode(pending.bin_key).decode() if pending is not None else ""
    return render_in_shell(request, "accounts/totp.html", {
        "form": form, "pending": pending, "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "config_url": pending.config_url if pending else "",
        "has_device": selectors.totp_device(actor=user) is not None,
    }, status=status)


# --- the account page ------------------------------------------------------------------


@account_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render_in_shell(request, "accounts/profile.html", {
        "account": user,
        "roles": selectors.roles_of(user),
        "links": selectors.enterprise_links_of(user),
        "tokens": selectors.api_tokens(actor=user)[:20],
    })


@account_required
@domain_errors
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.password_change(
                    actor=request.user, old_password=form.cleaned_data["old_password"],
                    new_password=form.cleaned_data["new_password1"], keep_session_key=request.session.session_key,
                )
            except DomainError as exc:
                add_domain_error(form, exc, field_map={"new_password": "new_password1"})
            else:
                update_session_auth_hash(request, request.user)
                messages.success(request, _("密码已修改，其他设备上的登录已退出。"))
                return redirect("accounts:profile")
        status = 400
    return render_in_shell(request, "accounts/password.html", {"form": form}, status=status)


# --- enterprises -------------------------------------------------------------------------


@account_required
@domain_errors
def enterprise_register_view(request: HttpRequest) -> HttpResponse:
    form = EnterpriseRegisterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                enterprise = services.enterprise_register(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("法人登记成功。"))
                if is_platform_admin(request.user):
                    return redirect("accounts:profile")
                return redirect("accounts:enterprise", enterprise_id=enterprise.pk)
        status = 400
    return render_in_shell(request, "accounts/enterprise_register.html", {"form": form}, status=status)


@account_required
@domain_errors
def enterprise_view(request: HttpRequest, enterprise_id: int) -> HttpResponse:
    user = request.user
    enterprise = selectors.enterprise_get(actor=user, enterprise_id=enterprise_id)
    may_manage = is_platform_admin(user) or selectors.is_legal_rep(actor=user, enterprise=enterprise)
    form = HandlerAddForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = selectors.person_by_identity(id_number=data["id_number"], real_name=data["real_name"])
                services.handler_add(actor=user, enterprise=enterprise, user=person, valid_until=data["valid_until"])
            except DomainError as exc:
                add_domain_error(form, exc, field_map={"user": "id_number"})
            else:
                messages.success(request, _("已授权经办人。"))
                return redirect("accounts:enterprise", enterprise_id=enterprise.pk)
        status = 400
    return render_in_shell(request, "accounts/enterprise.html", {
        "enterprise": enterprise, "handlers": selectors.enterprise_handlers(actor=user, enterprise=enterprise),
        "form": form, "may_manage": may_manage,
    }, status=status)


@require_POST
@account_required
@domain_errors
def handler_revoke_view(request: HttpRequest, enterprise_id: int, handler_id: int) -> HttpResponse:
    enterprise = selectors.enterprise_get(actor=request.user, enterprise_id=enterprise_id)
    handler = selectors.handler_get(actor=request.user, enterprise=enterprise, handler_id=handler_id)
    services.handler_revoke(actor=request.user, handler=handler)
    messages.success(request, _("已撤销授权。"))
    if handler.user_id == request.user.pk:
        return redirect("accounts:profile")
    return redirect("accounts:enterprise", enterprise_id=enterprise.pk)


# --- department administration ------------------------------------------------------------


@role_required(*ADMIN_ROLES)
@domain_errors
def staff_list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    form = StaffCreateForm(actor, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.staff_create(
                    actor=actor, department=data["department"], username=data["username"],
                    password=data["password1"], real_name=data["real_name"], phone=data["phone"],
                    id_number=data["id_number"], hall=data["hall"], window_number=data["window_number"],
                    employee_number=data["employee_number"],
                )
            except DomainError as exc:
                add_domain_error(form, exc, field_map={"password": "password1"})
            else:
                messages.success(request, _("已开设工作人员账户，请为其授予角色。"))
                return redirect("accounts:staff_detail", user_id=created.pk)
        status = 400
    return render_in_shell(request, "accounts/staff_list.html", {
        "profiles": selectors.staff_directory(actor=actor), "form": form,
    }, status=status)


@role_required(*ADMIN_ROLES)
@domain_errors
def staff_detail_view(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = request.user
    member = selectors.staff_get(actor=actor, user_id=user_id)
    form = RoleGrantForm(actor, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.role_grant(actor=actor, user=member, role=data["role"], department=data["department"],
                                    region=data.get("region"), valid_until=form.valid_until_at)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("已授予角色。"))
                return redirect("accounts:staff_detail", user_id=member.pk)
        status = 400
    return render_in_shell(request, "accounts/staff_detail.html", {
        "member": member, "roles": selectors.staff_roles(actor=actor).filter(user=member), "form": form,
    }, status=status)


@require_POST
@role_required(*ADMIN_ROLES)
@domain_errors
def role_revoke_view(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.role_assignment_get(actor=request.user, assignment_id=assignment_id)
    services.role_revoke(actor=request.user, assignment=assignment)
    messages.success(request, _("已撤销角色。"))
    return redirect("accounts:staff_detail", user_id=assignment.user_id)


@role_required(*ADMIN_ROLES)
@domain_errors
def authorisation_list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    form = ChiefAuthorisationForm(actor, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.chief_authorisation_create(actor=actor, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("已登记首席代表授权。"))
                return redirect("accounts:authorisations")
        status = 400
    return render_in_shell(request, "accounts/authorisations.html", {
        "authorisations": selectors.chief_authorisations(actor=actor), "form": form,
    }, status=status)


@require_POST
@role_required(*ADMIN_ROLES)
@domain_errors
def authorisation_revoke_view(request: HttpRequest, authorisation_id: int) -> HttpResponse:
    authorisation = selectors.chief_authorisation_get(actor=request.user, authorisation_id=authorisation_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return render_in_shell(request, "onewindow/problem.html", {"code": 400, "message": _("请填写撤销原因。")}, status=400)
    services.chief_authorisation_revoke(actor=request.user, authorisation=authorisation,
                                        reason=form.cleaned_data["reason"])
    messages.success(request, _("已撤销首席代表授权。"))
    return redirect("accounts:authorisations")
