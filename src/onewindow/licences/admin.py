"""Reference data of the licence library in the Django admin: licence types (saved through
the service, so edits are validated and audited), and the trusted-issuer registry, status lists,
licences and their access log read-only (they change only through the services)."""

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from onewindow.core.admin.base import ReadOnlyAdmin

# The hall's service-backed admin form and admin: the same pattern for every reference-data screen.
from onewindow.hall.admin import _ServiceAdmin, _ServiceForm
from onewindow.licences import services
from onewindow.licences.models import Licence, LicenceAccess, LicenceType, SigningKey


class LicenceTypeForm(_ServiceForm):
    class Meta:
        model = LicenceType
        fields = [
            "code",
            "name",
            "department",
            "holder_kind",
            "fields",
            "validity_years",
            "reminder_days",
            "algorithm",
            "print_title",
            "print_note",
            "issued_for_items",
            "replaces_materials",
            "is_active",
        ]

    def save_service(self, data: dict[str, Any]) -> LicenceType:
        return services.licence_type_save(
            actor=self.request.user,
            licence_type=self.instance if self.instance.pk else None,
            code=data["code"],
            name=data["name"],
            department=data["department"],
            holder_kind=data["holder_kind"],
            fields=data.get("fields") or [],
            validity_years=data.get("validity_years"),
            reminder_days=data["reminder_days"],
            algorithm=data["algorithm"],
            print_title=data.get("print_title", ""),
            print_note=data.get("print_note", ""),
            issued_for_items=data.get("issued_for_items") or [],
            replaces_materials=data.get("replaces_materials") or [],
            is_active=data.get("is_active", True),
        )


@admin.register(LicenceType)
class LicenceTypeAdmin(_ServiceAdmin):
    form = LicenceTypeForm
    list_display = [
        "code",
        "name",
        "department",
        "holder_kind",
        "validity_years",
        "algorithm",
        "is_active",
    ]
    list_filter = ["holder_kind", "algorithm", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["department"]
    autocomplete_fields = ["department"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "key_id",
        "department",
        "algorithm",
        "status",
        "created_at",
        "retired_at",
    ]
    list_filter = ["algorithm", "status"]
    search_fields = ["key_id", "department__name"]
    list_select_related = ["department"]
    exclude = ["sealed_private_key"]


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "licence_type",
        "holder_name",
        "department",
        "valid_until",
        "status",
        "version",
    ]
    list_filter = ["status", "licence_type"]
    search_fields = ["number", "holder_name"]
    list_select_related = ["licence_type", "department"]
    exclude = ["holder_id", "current_version"]
    readonly_fields = ["holder_masked"]

    @admin.display(description=_("持证主体代码"))
    def holder_masked(self, obj: Licence) -> str:
        from onewindow.licences.selectors import masked

        return masked(obj.holder_id)


@admin.register(LicenceAccess)
class LicenceAccessAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "licence",
        "kind",
        "actor",
        "department",
        "case_number",
        "purpose",
    ]
    list_filter = ["kind"]
    list_select_related = ["licence", "actor", "department"]
