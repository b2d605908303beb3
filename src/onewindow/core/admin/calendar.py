"""Admin screens for the working-day calendar, and the dashboard alert for missing years.

Saves go through the services, so every edit is validated and audited. Seeded rows are
edited rather than deleted (seeding would bring a deleted one back); years are confirmed or
unconfirmed, never deleted.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onewindow.core.admin.base import adopt_saved
from onewindow.core.models import CalendarDay, CalendarYear
from onewindow.core.models.calendar import MAX_YEAR, MIN_YEAR, CalendarSource, CalendarYearStatus
from onewindow.core.services.calendar import (
    calendar_day_create,
    calendar_day_delete,
    calendar_day_update,
    calendar_year_save,
)

_WEEKDAYS = [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")]


class _YearFilter(admin.SimpleListFilter):
    title = _("年份")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or ""
        # Only ASCII digits in the calendar's range: anything else would fail to build a date.
        if not (value.isascii() and value.isdigit() and MIN_YEAR <= int(value) <= MAX_YEAR):
            return queryset
        return queryset.filter(date__year=int(value))


class _ScopeFilter(admin.SimpleListFilter):
    title = _("适用范围")
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("national", _("全国")), ("regional", _("地方"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "national":
            return queryset.filter(region__isnull=True)
        if self.value() == "regional":
            return queryset.filter(region__isnull=False)
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "scope", "kind", "name", "source", "in_use"]
    list_filter = [_YearFilter, "kind", "source", _ScopeFilter]
    search_fields = ["name", "note", "region__name", "region__code"]
    date_hierarchy = "date"
    ordering = ["-date"]
    list_select_related = ["region"]
    autocomplete_fields = ["region"]
    list_per_page = 100

    @admin.display(description=_("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return _WEEKDAYS[obj.date.weekday()]

    @admin.display(description=_("适用范围"), ordering="region__path")
    def scope(self, obj: CalendarDay) -> str:
        return str(obj.region) if obj.region_id else gettext("全国")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        confirmed = CalendarYear.objects.filter(status=CalendarYearStatus.CONFIRMED, year=ExtractYear(OuterRef("date")))
        return super().get_queryset(request).annotate(year_confirmed=Exists(confirmed))

    @admin.display(description=_("已生效（年度已确认）"), boolean=True, ordering="year_confirmed")
    def in_use(self, obj: CalendarDay) -> bool:
        return obj.year_confirmed

    def get_fields(self, request: HttpRequest, obj: CalendarDay | None = None) -> list[str]:
        if obj is None:
            return ["date", "region", "kind", "name", "note"]
        return ["date", "region", "kind", "name", "note", "source", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarDay | None = None) -> list[str]:
        # Date and region identify a row; to move a day, add another.
        return [] if obj is None else ["date", "region", "source", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: CalendarDay | None = None) -> bool:
        if obj is not None and obj.source == CalendarSource.SEED:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = calendar_day_update(
                actor=request.user, calendar_day=obj, kind=data["kind"], name=data["name"], note=data["note"]
            )
        else:
            saved = calendar_day_create(
                actor=request.user,
                date=data["date"],
                region=data["region"],
                kind=data["kind"],
                name=data["name"],
                note=data["note"],
            )
        adopt_saved(obj, saved)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        calendar_day_delete(actor=request.user, calendar_day=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        seeded = queryset.filter(source=CalendarSource.SEED).count()
        with transaction.atomic():
            for row in queryset.exclude(source=CalendarSource.SEED):
                calendar_day_delete(actor=request.user, calendar_day=row)
        if seeded:
            self.message_user(
                request,
                gettext("%(count)d 个从 chinesecalendar 导入的日期未删除；如需取消，请修改其类型。") % {"count": seeded},
                messages.WARNING,
            )


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "status", "source", "loaded_at", "national_days", "last_alert_on"]
    list_filter = ["status", "source"]
    ordering = ["-year"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # One subquery for the whole list rather than a count per row.
        national = (
            CalendarDay.objects.filter(region__isnull=True, date__year=OuterRef("year"))
            .order_by()
            .values("region")
            .annotate(days=Count("pk"))
            .values("days")
        )
        return super().get_queryset(request).annotate(national_day_count=Coalesce(Subquery(national), 0))

    @admin.display(description=_("全国节假日与调休天数"), ordering="national_day_count")
    def national_days(self, obj: CalendarYear) -> int:
        return obj.national_day_count

    def get_fields(self, request: HttpRequest, obj: CalendarYear | None = None) -> list[str]:
        if obj is None:
            return ["year", "status", "note"]
        return ["year", "status", "note", "source", "loaded_at", "last_alert_on", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarYear | None = None) -> list[str]:
        if obj is None:
            return []
        return ["year", "source", "loaded_at", "last_alert_on", "created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: CalendarYear | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        saved = calendar_year_save(actor=request.user, year=obj.year, status=data["status"], note=data["note"])
        adopt_saved(obj, saved)
