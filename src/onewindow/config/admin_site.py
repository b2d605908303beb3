"""The Django admin behind the platform's own login, with the second factor required."""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext_lazy as _


class AdminSite(admin.AdminSite):
    site_header = _("一网通办 平台管理")
    site_title = _("一网通办 平台管理")
    index_title = _("基础数据管理")
    # Shows the working-day calendar's coverage alert above the app list.
    index_template = "admin/onewindow_index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        # Reference data is administered by staff who passed the second factor (等保三级).
        from onewindow.accounts.permissions import is_verified

        return super().has_permission(request) and is_verified(request.user)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """One login page for the whole platform; it then asks for the second factor."""
        target = request.GET.get(REDIRECT_FIELD_NAME) or resolve_url("admin:index")
        login_view = "accounts:verify" if request.user.is_authenticated else "accounts:login"
        return redirect(f"{resolve_url(login_view)}?{urlencode({REDIRECT_FIELD_NAME: target})}")


class AdminConfig(DjangoAdminConfig):
    default_site = "onewindow.config.admin_site.AdminSite"
