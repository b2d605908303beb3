"""What every core admin screen shares."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


def adopt_saved(obj: Model, saved: Model) -> None:
    """Make the admin's form instance the row a service wrote (for `save_model`).

    The admin never saves `obj` itself; pointing it at the service's row lets the admin's
    change message and redirect name the real, freshly read row.
    """
    obj.pk = saved.pk
    obj._state.adding = False
    obj.refresh_from_db()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (or by nobody): the admin shows them and changes nothing."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
