"""Reference data of the service hall in the Django admin: halls, windows and their appointment
schedules. Appointments and tickets are read-only here (they change only through the portal,
the kiosk and the window desk). Saves go through the services, so admin edits are validated and
audited like any other change; nothing is deleted (windows and halls are deactivated instead).
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from onewindow.core.admin.base import ReadOnlyAdmin, adopt_saved
from onewindow.core.errors import DomainError
from onewindow.hall import services
from onewindow.hall.models import Appointment, Hall, QueueTicket, SlotSchedule, Window


class _ServiceForm(forms.ModelForm):
    """Runs the service in `clean` (inside the admin's transaction), so refusals show on the form."""

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.saved: Any = None

    def _refused(self, exc: DomainError) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)

    def _post_clean(self) -> None:
        # The service validated and saved; the model's own validation would only repeat it.
        pass

    def save_service(self, data: dict[str, Any]) -> Any:
        """Each form calls its own service here (a ModelForm cannot also be an abc.ABC: their
        metaclasses conflict, so a form that forgets it fails loudly instead)."""
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.saved = self.save_service(data)
        except DomainError as exc:
            self._refused(exc)
        return data


class HallForm(_ServiceForm):
    class Meta:
        model = Hall
        fields = ["code", "name", "department", "address", "is_active"]

    def save_service(self, data: dict[str, Any]) -> Hall:
        return services.hall_save(
            actor=self.request.user, hall=self.instance if self.instance.pk else None, code=data["code"],
            name=data["name"], department=data["department"], address=data.get("address", ""),
            is_active=data.get("is_active", True),
        )


class WindowForm(_ServiceForm):
    class Meta:
        model = Window
        fields = ["hall", "department", "number", "name", "queue_letter", "items", "is_active"]

    def save_service(self, data: dict[str, Any]) -> Window:
        return services.window_save(
            actor=self.request.user, window=self.instance if self.instance.pk else None, hall=data["hall"],
            department=data["department"], number=data["number"], name=data["name"],
            queue_letter=data["queue_letter"], items=list(data.get("items") or []),
            is_active=data.get("is_active", True),
        )


class SlotScheduleForm(_ServiceForm):
    class Meta:
        model = SlotSchedule
        fields = ["window", "slot_minutes", "capacity", "morning_start", "morning_end", "afternoon_start",
                  "afternoon_end", "days_ahead", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["window"].disabled = True

    def save_service(self, data: dict[str, Any]) -> SlotSchedule:
        return services.schedule_save(
            actor=self.request.user, window=data["window"], slot_minutes=data["slot_minutes"],
            capacity=data["capacity"], morning_start=data["morning_start"], morning_end=data["morning_end"],
            afternoon_start=data.get("afternoon_start"), afternoon_end=data.get("afternoon_end"),
            days_ahead=data["days_ahead"], is_active=data.get("is_active", True),
        )


class _ServiceAdmin(admin.ModelAdmin):
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type:
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithRequest(form):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, request=request, **inner)

        return WithRequest

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: _ServiceForm, change: bool) -> None:
        adopt_saved(obj, form.saved)

    def save_related(self, request: HttpRequest, form: _ServiceForm, formsets: Any, change: bool) -> None:
        # The service already wrote the many-to-many fields (a window's items).
        pass


@admin.register(Hall)
class HallAdmin(_ServiceAdmin):
    form = HallForm
    list_display = ["code", "name", "department", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["department"]
    autocomplete_fields = ["department"]


@admin.register(Window)
class WindowAdmin(_ServiceAdmin):
    form = WindowForm
    list_display = ["number", "name", "hall", "department", "queue_letter", "is_active"]
    list_filter = ["hall", "is_active", "queue_letter"]
    search_fields = ["number", "name", "department__name"]
    list_select_related = ["hall", "department"]
    autocomplete_fields = ["hall", "department", "items"]


@admin.register(SlotSchedule)
class SlotScheduleAdmin(_ServiceAdmin):
    form = SlotScheduleForm
    list_display = ["window", "slot_minutes", "capacity", "morning_start", "morning_end", "afternoon_start",
                    "afternoon_end", "days_ahead", "is_active"]
    list_filter = ["is_active", "window__hall"]
    list_select_related = ["window__hall"]
    autocomplete_fields = ["window"]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["code", "date", "start", "item", "window", "status"]
    list_filter = ["status", "hall"]
    search_fields = ["code", "item__name"]
    date_hierarchy = "date"
    list_select_related = ["item", "window"]
    exclude = ["applicant"]
    readonly_fields = ["applicant_masked"]

    @admin.display(description=_("预约人"))
    def applicant_masked(self, obj: Appointment) -> str:
        user = obj.applicant
        return f"{user.real_name or user.username}（{user.phone_masked}）" if user.phone else str(user)


@admin.register(QueueTicket)
class QueueTicketAdmin(ReadOnlyAdmin):
    list_display = ["number", "day", "hall", "item", "status", "window", "issued_at", "called_at", "finished_at"]
    list_filter = ["status", "hall", "priority"]
    search_fields = ["number", "item__name"]
    date_hierarchy = "day"
    list_select_related = ["hall", "item", "window"]
