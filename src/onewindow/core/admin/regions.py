"""Admin screens for regions and departments.

Saves go through the services, so admin edits are validated and audited like any other
change. Deletion is not offered: it would bypass the audit ledger; departments are
deactivated instead, and regions are only renamed.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from onewindow.core.admin.base import adopt_saved
from onewindow.core.choices import RegionLevel
from onewindow.core.errors import InvalidInput
from onewindow.core.models import Department, Region
from onewindow.core.services.regions import (
    clean_department_fields,
    clean_region_fields,
    clean_region_name,
    department_create,
    department_update,
    region_create,
    region_update,
)


def _add_error(form: forms.Form, exc: InvalidInput) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class _WithinRegionFilter(admin.SimpleListFilter):
    """Narrows a list to one province or city and everything below it."""

    title = _("所属地区")
    parameter_name = "within"
    path_lookup = "path__startswith"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        upper = Region.objects.filter(level__lte=RegionLevel.CITY).order_by("path")
        return [(r.code, ("\u3000" * (r.level - 1)) + r.name) for r in upper]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        region = Region.objects.filter(code=self.value()).first() if self.value() else None
        if region is None:
            return queryset
        return queryset.filter(**{self.path_lookup: region.path})


class _DepartmentWithinRegionFilter(_WithinRegionFilter):
    path_lookup = "region__path__startswith"


class RegionAddForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "parent"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            fields = clean_region_fields(code=data.get("code"), name=data.get("name"), parent=data.get("parent"))
        except InvalidInput as exc:
            _add_error(self, exc)
        else:
            data["code"], data["name"] = fields.code, fields.name
        return data


class RegionChangeForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["name"]

    def clean_name(self) -> str:
        try:
            return clean_region_name(self.cleaned_data.get("name"))
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["tree_name", "code", "level", "parent"]
    list_filter = ["level", _WithinRegionFilter]
    search_fields = ["code", "name"]
    ordering = ["path"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    list_per_page = 100

    @admin.display(description=_("名称"), ordering="path")
    def tree_name(self, obj: Region) -> str:
        return ("\u3000" * (obj.level - 1)) + obj.name

    def get_form(self, request: HttpRequest, obj: Region | None = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = RegionChangeForm if obj is not None else RegionAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Region | None = None) -> list[str]:
        if obj is None:
            return ["level", "path"]
        return ["code", "level", "parent", "path", "created_at", "updated_at"]

    def get_fields(self, request: HttpRequest, obj: Region | None = None) -> list[str]:
        if obj is None:
            return ["code", "name", "parent", "level", "path"]
        return ["code", "name", "level", "parent", "path", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Region | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Region, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = region_update(actor=request.user, region=obj, name=data["name"])
        else:
            saved = region_create(actor=request.user, code=data["code"], name=data["name"], parent=data["parent"])
        adopt_saved(obj, saved)


class DepartmentForm(forms.ModelForm):
    # Set by clean(): a failing embedded organisation-code check digit, shown after saving.
    uscc_warnings: tuple[str, ...] = ()

    class Meta:
        model = Department
        fields = ["name", "short_name", "uscc", "region", "parent", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        editing = self.instance if self.instance.pk else None
        try:
            fields = clean_department_fields(
                name=data.get("name"),
                short_name=data.get("short_name"),
                uscc=data.get("uscc"),
                region=data.get("region"),
                parent=data.get("parent"),
                department=editing,
            )
        except InvalidInput as exc:
            _add_error(self, exc)
        else:
            data.update(name=fields.name, short_name=fields.short_name, uscc=fields.uscc)
            self.uscc_warnings = fields.warnings
        return data


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["name", "short_name", "uscc", "region", "parent", "is_active"]
    list_filter = ["is_active", "region__level", _DepartmentWithinRegionFilter]
    search_fields = ["name", "short_name", "uscc"]
    ordering = ["region__path", "name"]
    list_select_related = ["region", "parent"]
    autocomplete_fields = ["region", "parent"]
    readonly_fields = ["created_at", "updated_at"]

    def get_fields(self, request: HttpRequest, obj: Department | None = None) -> list[str]:
        # New departments start active; deactivation is an edit of an existing one.
        if obj is None:
            return ["name", "short_name", "uscc", "region", "parent"]
        return ["name", "short_name", "uscc", "region", "parent", "is_active", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Department, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = department_update(
                actor=request.user,
                department=obj,
                name=data["name"],
                short_name=data["short_name"],
                uscc=data["uscc"],
                region=data["region"],
                parent=data["parent"],
                is_active=data["is_active"],
            )
        else:
            saved = department_create(
                actor=request.user,
                name=data["name"],
                short_name=data["short_name"],
                uscc=data["uscc"],
                region=data["region"],
                parent=data["parent"],
            )
        adopt_saved(obj, saved)
        for warning in form.uscc_warnings:
            self.message_user(request, warning, messages.WARNING)
