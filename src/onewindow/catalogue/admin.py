"""Reference data of the catalogue in the Django admin: themes and the basic catalogue.

Implementation items, versions and batches are edited in the staff workbench (legal review and
publication are workflows, not admin forms); here they are read-only. Saves go through the
services, so admin edits are validated and audited like any other change.
"""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from onewindow.catalogue import services
from onewindow.catalogue.models import BasicItem, ImplementationItem, ItemVersion, PublicationBatch, Theme
from onewindow.core.admin.base import ReadOnlyAdmin, adopt_saved
from onewindow.core.errors import DomainError


class _ServiceForm(forms.ModelForm):
    """Runs the service in `clean` (inside the admin's request), so refusals show on the form."""

    def _refused(self, exc: DomainError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "audience", "order"]
    list_filter = ["audience"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Theme, form: forms.ModelForm, change: bool) -> None:
        saved = services.theme_save(actor=request.user, code=obj.code, name=obj.name, audience=obj.audience, order=obj.order)
        adopt_saved(obj, saved)


class BasicItemForm(_ServiceForm):
    standard = forms.JSONField(label=_("标准要素（JSON）"), widget=forms.Textarea(attrs={"rows": 20}))

    class Meta:
        model = BasicItem
        fields = ["basic_code", "standard"]

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.saved: BasicItem | None = None
        if self.instance.pk:
            self.fields["basic_code"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            if self.instance.pk:
                self.saved = services.basic_item_update(actor=self.request.user, basic_item=self.instance,
                                                        standard=data["standard"])
            else:
                self.saved = services.basic_item_create(actor=self.request.user, basic_code=data["basic_code"],
                                                        standard=data["standard"])
        except DomainError as exc:
            self._refused(exc)
        return data

    def _post_clean(self) -> None:
        # The service validated and saved; the model's own validation would only repeat it.
        pass


@admin.register(BasicItem)
class BasicItemAdmin(admin.ModelAdmin):
    form = BasicItemForm
    list_display = ["basic_code", "name", "item_type", "exercise_level"]
    list_filter = ["item_type", "exercise_level"]
    search_fields = ["basic_code", "name"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type:
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithRequest(form):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, request=request, **inner)

        return WithRequest

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BasicItem, form: BasicItemForm, change: bool) -> None:
        adopt_saved(obj, form.saved)


@admin.register(ImplementationItem)
class ImplementationItemAdmin(ReadOnlyAdmin):
    list_display = ["impl_code", "name", "department", "item_type", "published_at"]
    list_filter = ["item_type", "case_type"]
    search_fields = ["impl_code", "name"]
    list_select_related = ["department"]


@admin.register(ItemVersion)
class ItemVersionAdmin(ReadOnlyAdmin):
    list_display = ["item", "number", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["item__impl_code", "item__name"]
    list_select_related = ["item"]
    readonly_fields = ["pretty_content"]

    @admin.display(description=_("内容"))
    def pretty_content(self, obj: ItemVersion) -> str:
        return json.dumps(obj.content, ensure_ascii=False, indent=2)


@admin.register(PublicationBatch)
class PublicationBatchAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "publish_on", "status", "published_at"]
    list_filter = ["kind", "status"]
