"""Administrator screens. Identity data is read-only here: every change goes through a service
(as an action below, or the workbench pages), so it is checked and audited like any other."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onewindow.accounts import services
from onewindow.accounts.choices import EnterpriseVerifyMethod, RealNameMethod
from onewindow.accounts.models import (
    ApiToken,
    ChiefRepresentativeAuthorisation,
    Enterprise,
    EnterpriseHandler,
    RoleAssignment,
    StaffProfile,
    User,
    UserSession,
)
from onewindow.core.admin.base import ReadOnlyAdmin
from onewindow.core.errors import DomainError


def _each(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet,
          call: Callable[[Any], Any]) -> None:
    """Run one service per selected row; report how many worked and each refusal."""
    done = 0
    for obj in queryset:
        try:
            call(obj)
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", level=messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, gettext("已处理 %(count)d 项。") % {"count": done}, level=messages.SUCCESS)


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "real_name", "kind", "id_number_masked", "phone_masked", "real_name_verified",
                    "is_active", "last_login"]
    list_filter = ["kind", "is_active", "real_name_verified", "id_type"]
    search_fields = ["username", "real_name", "=id_number", "=phone"]
    exclude = ["password", "id_number", "phone", "groups", "user_permissions"]
    readonly_fields = ["id_number_masked", "phone_masked"]
    actions = ["mark_verified_window", "deactivate", "end_sessions"]

    @admin.display(description=_("证件号码"))
    def id_number_masked(self, obj: User) -> str:
        return obj.id_number_masked

    @admin.display(description=_("手机号码"))
    def phone_masked(self, obj: User) -> str:
        return obj.phone_masked

    @admin.action(description=_("标记为已实名认证（窗口核验证件）"))
    def mark_verified_window(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset,
              lambda user: services.real_name_verify(actor=request.user, user=user, method=RealNameMethod.WINDOW))

    @admin.action(description=_("停用账户（结束全部会话并撤销令牌）"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, lambda user: services.account_deactivate(
            actor=request.user, user=user, reason=gettext("管理员停用")))

    @admin.action(description=_("结束全部登录会话"))
    def end_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, lambda user: services.sessions_end(actor=request.user, user=user))


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ["name", "uscc", "legal_rep_name", "verified", "created_at"]
    list_filter = ["verified"]
    search_fields = ["name", "=uscc", "legal_rep_name"]
    exclude = ["legal_rep_id_number"]
    actions = ["verify_licence"]

    @admin.action(description=_("标记为已认证（窗口核验营业执照）"))
    def verify_licence(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, lambda enterprise: services.enterprise_verify(
            actor=request.user, enterprise=enterprise, method=EnterpriseVerifyMethod.WINDOW))


@admin.register(EnterpriseHandler)
class EnterpriseHandlerAdmin(ReadOnlyAdmin):
    list_display = ["enterprise", "user", "role", "valid_until", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["enterprise__name", "=enterprise__uscc", "user__username", "user__real_name"]
    actions = ["revoke"]

    @admin.action(description=_("撤销授权"))
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, lambda handler: services.handler_revoke(actor=request.user, handler=handler))


@admin.register(StaffProfile)
class StaffProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "department", "hall", "window_number", "employee_number"]
    list_filter = ["department"]
    search_fields = ["user__username", "user__real_name", "employee_number"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["user", "role", "department", "region", "valid_from", "valid_until", "revoked_at", "granted_by"]
    # The default select_related() skips nullable foreign keys: without this each row queries its scope and grantor.
    list_select_related = ["user", "department", "region", "granted_by"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__real_name"]
    actions = ["revoke"]

    @admin.action(description=_("撤销角色"))
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset,
              lambda assignment: services.role_revoke(actor=request.user, assignment=assignment))


@admin.register(ChiefRepresentativeAuthorisation)
class ChiefRepresentativeAuthorisationAdmin(ReadOnlyAdmin):
    list_display = ["document_number", "representative", "department", "all_items", "valid_from", "valid_until",
                    "revoked_at"]
    list_filter = ["department", "all_items"]
    search_fields = ["document_number", "representative__username", "representative__real_name"]
    actions = ["revoke"]

    @admin.action(description=_("撤销授权（管理员撤销）"))
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, lambda authorisation: services.chief_authorisation_revoke(
            actor=request.user, authorisation=authorisation, reason=gettext("管理员撤销")))


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["key_hash"]
    actions = ["revoke"]

    @admin.action(description=_("撤销令牌"))
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        _each(self, request, queryset, lambda token: services.api_token_revoke(actor=request.user, token=token))


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "ip", "user_agent"]
    search_fields = ["user__username"]
    exclude = ["session_key"]
