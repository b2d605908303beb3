"""Changes to the working-day calendar: seeding from chinesecalendar, admin edits, the missing-year alert."""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import chinese_calendar
from chinese_calendar.constants import Holiday
from chinese_calendar.constants import holidays as package_holidays
from chinese_calendar.constants import workdays as package_makeup_days
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from onewindow.core import audit, notifications, workdays
from onewindow.core.errors import DomainError, InvalidInput
from onewindow.core.models import CalendarDay, CalendarYear, Region
from onewindow.core.models.calendar import MAX_YEAR, MIN_YEAR, CalendarDayKind, CalendarSource, CalendarYearStatus
from onewindow.core.periodic import sweep

logger = logging.getLogger(__name__)

_HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in Holiday}


def package_years() -> range:
    """The years chinesecalendar has schedules for."""
    years = [day.year for day in package_holidays]
    return range(min(years), max(years) + 1)


@dataclass(frozen=True)
class SeedResult:
    years: list[int]
    created: int
    updated: int
    deleted: int
    kept: int  # rows an administrator edited, left as they are


def _checked_years(years: Iterable[int] | None) -> list[int]:
    supported = package_years()
    if years is None:
        return list(supported)
    if isinstance(years, (str, bytes)) or not isinstance(years, Iterable):
        raise InvalidInput(_("年份须以整数列表给出。"), field="years")
    chosen = list(years)
    if not chosen:
        raise InvalidInput(_("请至少选择一个年份。"), field="years")
    outside = [str(year) for year in chosen if year.__class__ is not int or year not in supported]
    if outside:
        raise InvalidInput(
            _("chinesecalendar %(version)s 只有 %(first)s–%(last)s 年的数据，不能导入：%(years)s。")
            % {
                "version": chinese_calendar.__version__,
                "first": supported.start,
                "last": supported.stop - 1,
                "years": pgettext("list separator", "、").join(outside),
            },
            field="years",
        )
    return sorted(set(chosen))


@transaction.atomic
def calendar_seed_from_package(*, actor: Any, years: Iterable[int] | None = None) -> SeedResult:
    """Copy chinesecalendar's holidays and 调休 make-up days (nationwide) and confirm those years.

    Rows and years an administrator edited are never overwritten; seed rows the package no
    longer lists are removed. Running it again changes nothing.
    """
    chosen = _checked_years(years)
    chosen_set = set(chosen)
    wanted: dict[dt.date, tuple[str, str]] = {}
    for day, name in package_holidays.items():
        if day.year in chosen_set:
            wanted[day] = (CalendarDayKind.HOLIDAY, _HOLIDAY_NAMES.get(name, name))
    for day, name in package_makeup_days.items():
        if day.year in chosen_set:
            wanted[day] = (CalendarDayKind.MAKEUP, _HOLIDAY_NAMES.get(name, name))

    now = timezone.now()
    existing = {
        row.date: row
        for row in CalendarDay.objects.select_for_update(of=("self",)).filter(
            region__isnull=True, date__gte=dt.date(chosen[0], 1, 1), date__lte=dt.date(chosen[-1], 12, 31)
        )
        if row.date.year in chosen_set
    }
    to_create, to_update, kept = [], [], 0
    for day, (kind, name) in sorted(wanted.items()):
        row = existing.pop(day, None)
        if row is None:
            to_create.append(CalendarDay(date=day, kind=kind, name=name, source=CalendarSource.SEED))
        elif row.source == CalendarSource.ADMIN:
            kept += 1
        elif (row.kind, row.name) != (kind, name):
            row.kind, row.name, row.updated_at = kind, name, now
            to_update.append(row)
    stale = [row.pk for row in existing.values() if row.source == CalendarSource.SEED]
    CalendarDay.objects.bulk_create(to_create)
    CalendarDay.objects.bulk_update(to_update, ["kind", "name", "updated_at"])
    CalendarDay.objects.filter(pk__in=stale).delete()

    year_rows = {row.year: row for row in CalendarYear.objects.select_for_update().filter(year__in=chosen)}
    new_years, changed_years = [], []
    for year in chosen:
        row = year_rows.get(year)
        if row is None:
            new_years.append(
                CalendarYear(year=year, status=CalendarYearStatus.CONFIRMED, source=CalendarSource.SEED, loaded_at=now)
            )
        elif row.source != CalendarSource.ADMIN and (
            row.status != CalendarYearStatus.CONFIRMED or row.source != CalendarSource.SEED
        ):
            row.status, row.source = CalendarYearStatus.CONFIRMED, CalendarSource.SEED
            row.loaded_at = row.updated_at = now
            changed_years.append(row)
    CalendarYear.objects.bulk_create(new_years)
    CalendarYear.objects.bulk_update(changed_years, ["status", "source", "loaded_at", "updated_at"])

    if to_create or to_update or stale or new_years or changed_years:
        workdays.calendar_changed()
    result = SeedResult(years=chosen, created=len(to_create), updated=len(to_update), deleted=len(stale), kept=kept)
    audit.record(
        actor=actor,
        action="calendar.seed",
        object_type=CalendarDay._meta.label_lower,
        after={
            "package_version": chinese_calendar.__version__,
            "years": chosen,
            "confirmed_years": sorted(row.year for row in [*new_years, *changed_years]),
            "created": result.created,
            "updated": result.updated,
            "deleted": result.deleted,
            "kept_admin_rows": result.kept,
        },
    )
    return result


# --- administrator edits ---------------------------------------------------------------------


def _full_clean(row: CalendarDay | CalendarYear) -> None:
    """Model validation (field rules, constraints), reported as one InvalidInput."""
    try:
        row.full_clean()
    except ValidationError as error:
        fields = list(error.message_dict)
        messages = [message for field_messages in error.message_dict.values() for message in field_messages]
        field = fields[0] if fields and fields[0] != NON_FIELD_ERRORS else None
        raise InvalidInput(" ".join(messages), field=field) from None


def _check_day_input(*, date: object, region: object, kind: object, name: object, note: object) -> None:
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise InvalidInput(_("日期须为日期（不含时间）。"), field="date")
    if region is not None and not (isinstance(region, Region) and region.pk):
        raise InvalidInput(_("适用区划须为已保存的行政区划，或留空表示全国。"), field="region")
    if kind not in CalendarDayKind.values:
        raise InvalidInput(_("类型无效。"), field="kind")
    if not isinstance(name, str) or not isinstance(note, str):
        raise InvalidInput(_("名称和备注须为文字。"), field="name")


def _day_snapshot(row: CalendarDay) -> dict:
    return {
        "date": row.date.isoformat(),
        "region": row.region.code if row.region_id else None,
        "kind": row.kind,
        "name": row.name,
        "source": row.source,
        "note": row.note,
    }


@transaction.atomic
def calendar_day_create(
    *, actor: Any, date: dt.date, region: Region | None = None, kind: str, name: str = "", note: str = ""
) -> CalendarDay:
    """Add a holiday, make-up working day or working day, nationwide or for a region."""
    _check_day_input(date=date, region=region, kind=kind, name=name, note=note)
    row = CalendarDay(
        date=date, region=region, kind=kind, name=name.strip(), note=note.strip(), source=CalendarSource.ADMIN
    )
    _full_clean(row)
    row.save()
    audit.record(actor=actor, action="calendar.day.create", target=row, after=_day_snapshot(row))
    return row


@transaction.atomic
def calendar_day_update(
    *, actor: Any, calendar_day: CalendarDay, kind: str, name: str = "", note: str = ""
) -> CalendarDay:
    """Change a row's kind, name or note; it becomes an administrator's row, which seeding
    never overwrites. (Date and region identify the row: to move a day, add another.)"""
    row = CalendarDay.objects.select_for_update(of=("self",)).select_related("region").get(pk=calendar_day.pk)
    _check_day_input(date=row.date, region=row.region, kind=kind, name=name, note=note)
    before = _day_snapshot(row)
    row.kind, row.name, row.note, row.source = kind, name.strip(), note.strip(), CalendarSource.ADMIN
    _full_clean(row)
    row.save()
    audit.record(actor=actor, action="calendar.day.update", target=row, before=before, after=_day_snapshot(row))
    return row


@transaction.atomic
def calendar_day_delete(*, actor: Any, calendar_day: CalendarDay) -> None:
    """Remove an administrator's row. Seeded rows are changed instead (to 工作日 to cancel a
    holiday), so that the next seeding does not bring them back."""
    row = CalendarDay.objects.select_for_update(of=("self",)).select_related("region").get(pk=calendar_day.pk)
    if row.source == CalendarSource.SEED:
        raise DomainError(_("从 chinesecalendar 导入的日期不能删除；如需取消，请将其类型改为“工作日”或“节假日”。"))
    before = _day_snapshot(row)
    object_id = str(row.pk)
    row.delete()
    audit.record(
        actor=actor,
        action="calendar.day.delete",
        object_type=CalendarDay._meta.label_lower,
        object_id=object_id,
        before=before,
    )


def _year_snapshot(row: CalendarYear) -> dict:
    return {
        "year": row.year,
        "status": row.status,
        "source": row.source,
        "loaded_at": row.loaded_at.isoformat() if row.loaded_at else None,
        "note": row.note,
    }


@transaction.atomic
def calendar_year_save(*, actor: Any, year: int, status: str, note: str = "") -> CalendarYear:
    """Record whether a year's official schedule is fully entered; confirming puts it in use."""
    if year.__class__ is not int or not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(
            _("年份须为 %(min)s 至 %(max)s 之间的整数。") % {"min": MIN_YEAR, "max": MAX_YEAR}, field="year"
        )
    if status not in CalendarYearStatus.values:
        raise InvalidInput(_("状态无效。"), field="status")
    if not isinstance(note, str):
        raise InvalidInput(_("备注须为文字。"), field="note")
    row = CalendarYear.objects.select_for_update().filter(year=year).first()
    before = _year_snapshot(row) if row else {}
    if row is None:
        row = CalendarYear(year=year)
    if status != CalendarYearStatus.CONFIRMED:
        row.loaded_at = None
    elif row.status != CalendarYearStatus.CONFIRMED:
        row.loaded_at = timezone.now()
    row.status, row.source, row.note = status, CalendarSource.ADMIN, note.strip()
    _full_clean(row)
    row.save()
    audit.record(actor=actor, action="calendar.year.save", target=row, before=before, after=_year_snapshot(row))
    return row


# --- the missing-year alert ------------------------------------------------------------------


@transaction.atomic
def calendar_missing_years_alert(*, actor: Any) -> list[int]:
    """Alert active superusers about years without a confirmed schedule, once a day per year.

    Returns the years alerted now; a year already alerted today is skipped (the claim is a
    conditional update, so concurrent workers alert once). The inbox notifications are written
    in this transaction and sent after it commits. One audit entry when it alerts.
    """
    today = workdays.shanghai_today()
    claimed = []
    for year in workdays.missing_years():
        CalendarYear.objects.get_or_create(year=year, defaults={"status": CalendarYearStatus.UNCONFIRMED})
        won = (
            CalendarYear.objects.filter(year=year)
            .filter(Q(last_alert_on__isnull=True) | Q(last_alert_on__lt=today))
            .update(last_alert_on=today)
        )
        if won:
            claimed.append(year)
    if not claimed:
        return []
    years = pgettext("list separator", "、").join(str(year) for year in claimed)
    logger.warning("working-day calendar has no confirmed schedule for %s; deadlines there count weekends only", years)
    subject = _("%(years)s 年节假日安排尚未录入") % {"years": years}
    body = _(
        "%(years)s 年的法定节假日与调休安排尚未录入并确认。在此之前，涉及这些年份的期限只按周末计算，"
        "结果标记为未确认。请在管理后台“工作日历年度”中录入当年安排并确认。"
    ) % {"years": years}
    recipients = list(get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk"))
    for user in recipients:
        notifications.notify(recipient=user, subject=subject, body=body, channels=("inbox",), kind="calendar")
    audit.record(
        actor=actor,
        action="calendar.missing_years_alert",
        object_type=CalendarYear._meta.label_lower,
        after={"years": claimed, "recipients": [user.get_username() for user in recipients]},
    )
    return claimed


@sweep(every_seconds=3600)
def calendar_missing_years_sweep() -> int:
    """Hourly check; alerts go out at most once a day per missing year."""
    if not workdays.missing_years():
        return 0
    return len(calendar_missing_years_alert(actor=None))
