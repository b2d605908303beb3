import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.accounts.choices import AccountKind
from onewindow.core import periodic, workdays
from onewindow.core.errors import DomainError, InvalidInput
from onewindow.core.models import AuditEntry, CalendarDay, CalendarRevision, CalendarYear, Notification, Region
from onewindow.core.models.calendar import CalendarDayKind, CalendarSource, CalendarYearStatus
from onewindow.core.services.calendar import (
    calendar_day_create,
    calendar_day_delete,
    calendar_day_update,
    calendar_missing_years_alert,
    calendar_seed_from_package,
    calendar_year_save,
    package_years,
)
from onewindow.core.workdays import (
    add_working_days,
    calendar_confirmed,
    is_working_day,
    missing_years,
    working_days_between,
)

D = dt.date


@pytest.fixture
def seeded(db):
    return calendar_seed_from_package(actor=None)


@pytest.fixture
def regions(db):
    """贵州省 > 遵义市 > 红花岗区, and 四川省 beside them."""
    guizhou = Region.objects.create(code="520000", name="贵州省", level=1, path="520000/")
    zunyi = Region.objects.create(code="520300", name="遵义市", level=2, parent=guizhou, path="520000/520300/")
    honghuagang = Region.objects.create(
        code="520302", name="红花岗区", level=3, parent=zunyi, path="520000/520300/520302/"
    )
    sichuan = Region.objects.create(code="510000", name="四川省", level=1, path="510000/")
    return {"guizhou": guizhou, "zunyi": zunyi, "honghuagang": honghuagang, "sichuan": sichuan}


def _weekends_only_add(start: dt.date, n: int) -> dt.date:
    day, left = start, n
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


# --- the official calendar -------------------------------------------------------------------


def test_national_day_2025(seeded):
    for day in range(1, 9):
        assert not is_working_day(D(2025, 10, day))
    assert is_working_day(D(2025, 9, 28))  # Sunday, 调休上班
    assert is_working_day(D(2025, 10, 11))  # Saturday, 调休上班
    assert not is_working_day(D(2025, 9, 27))  # an ordinary Saturday
    assert is_working_day(D(2025, 10, 9))
    assert CalendarDay.objects.get(date=D(2025, 10, 1), region=None).name == "国庆节"
    assert CalendarDay.objects.get(date=D(2025, 9, 28), region=None).kind == CalendarDayKind.MAKEUP


def test_spring_festival_2025_and_2026(seeded):
    for day in [D(2025, 1, 28), D(2025, 1, 31), D(2025, 2, 4), D(2026, 2, 15), D(2026, 2, 18), D(2026, 2, 23)]:
        assert not is_working_day(day), day
    # make-up days: Sunday 2025-01-26, Saturday 2025-02-08, Saturdays 2026-02-14 and 2026-02-28
    for day in [D(2025, 1, 26), D(2025, 2, 8), D(2026, 2, 14), D(2026, 2, 28)]:
        assert day.weekday() >= 5
        assert is_working_day(day), day
    assert CalendarDay.objects.get(date=D(2026, 2, 17), region=None).name == "春节"


def test_every_seeded_day_matches_chinesecalendar(seeded):
    years = package_years()
    day, last = D(years.start, 1, 1), D(years.stop - 1, 12, 31)
    while day <= last:
        assert is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_reference_example_and_find_workday_semantics(seeded):
    assert add_working_days(D(2025, 9, 26), 20) == (D(2025, 10, 30), True)
    assert chinese_calendar.find_workday(20, D(2025, 9, 26)) == D(2025, 10, 30)
    # The day of receipt is not counted: from a non-working day, find_workday(n) is our n + 1.
    saturday = D(2025, 9, 27)
    assert add_working_days(saturday, 1).date == D(2025, 9, 28)
    assert chinese_calendar.find_workday(1, saturday) == D(2025, 9, 29)
    assert add_working_days(saturday, 2).date == D(2025, 9, 29)
    for start in [D(2025, 9, 26), D(2025, 10, 1), D(2026, 2, 14), D(2026, 2, 15), D(2024, 12, 31)]:
        for n in range(1, 40):
            expected = chinese_calendar.find_workday(n if is_working_day(start) else n - 1, start)
            assert add_working_days(start, n).date == expected, (start, n)


def test_zero_and_negative_counts(seeded):
    assert add_working_days(D(2025, 10, 9), 0).date == D(2025, 10, 9)
    assert add_working_days(D(2025, 10, 1), 0).date == D(2025, 10, 9)
    assert add_working_days(D(2025, 10, 9), -1).date == D(2025, 9, 30)
    assert add_working_days(D(2025, 10, 9), -3).date == D(2025, 9, 28)
    assert add_working_days(D(2025, 10, 5), -1).date == D(2025, 9, 30)
    assert chinese_calendar.find_workday(-3, D(2025, 10, 9)) == D(2025, 9, 28)
    assert working_days_between(D(2025, 9, 26), D(2025, 10, 30)) == (20, True)
    assert working_days_between(D(2025, 10, 30), D(2025, 9, 26)) == (-20, True)
    assert working_days_between(D(2025, 10, 1), D(2025, 10, 8)).days == 0


def test_between_inverts_add(seeded):
    @settings(max_examples=300, deadline=None)
    @given(st.dates(min_value=D(2004, 1, 1), max_value=D(2027, 6, 30)), st.integers(min_value=0, max_value=400))
    def check(day, n):
        start = add_working_days(day, 0).date  # a working day
        forward = add_working_days(start, n)
        assert working_days_between(start, forward.date).days == n
        backward = add_working_days(start, -n)
        assert working_days_between(start, backward.date).days == -n
        assert is_working_day(forward.date) and is_working_day(backward.date)

    check()


def test_datetimes_use_the_date_in_beijing(seeded):
    utc = dt.timezone.utc
    assert is_working_day(dt.datetime(2025, 9, 30, 15, 0, tzinfo=utc))  # 23:00 on 30 Sept in Beijing
    assert not is_working_day(dt.datetime(2025, 9, 30, 17, 0, tzinfo=utc))  # 01:00 on 1 Oct
    received = dt.datetime(2025, 9, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert add_working_days(received, 20).date == D(2025, 10, 30)


# --- regions ---------------------------------------------------------------------------------


def test_region_override_applies_in_the_region_and_below_only(seeded, regions):
    tuesday = D(2025, 7, 15)
    calendar_day_create(actor=None, date=tuesday, region=regions["zunyi"], kind=CalendarDayKind.HOLIDAY, name="地方节日")
    assert not is_working_day(tuesday, region=regions["zunyi"])
    assert not is_working_day(tuesday, region=regions["honghuagang"])
    assert is_working_day(tuesday, region=regions["guizhou"])
    assert is_working_day(tuesday, region=regions["sichuan"])
    assert is_working_day(tuesday)

    monday = D(2025, 7, 14)
    assert add_working_days(monday, 1, region=regions["honghuagang"]).date == D(2025, 7, 16)
    assert add_working_days(monday, 1, region=regions["sichuan"]).date == tuesday
    assert working_days_between(monday, D(2025, 7, 18), region=regions["zunyi"]).days == 3
    assert working_days_between(monday, D(2025, 7, 18)).days == 4


def test_the_most_local_override_wins(seeded, regions):
    # The district works on the last day of the national holiday; its city does not.
    calendar_day_create(
        actor=None, date=D(2025, 10, 8), region=regions["honghuagang"], kind=CalendarDayKind.WORKDAY, note="区内调整"
    )
    assert is_working_day(D(2025, 10, 8), region=regions["honghuagang"])
    assert not is_working_day(D(2025, 10, 8), region=regions["zunyi"])
    assert add_working_days(D(2025, 9, 30), 1, region=regions["honghuagang"]).date == D(2025, 10, 8)
    assert add_working_days(D(2025, 9, 30), 1, region=regions["zunyi"]).date == D(2025, 10, 9)


# --- unconfirmed years -----------------------------------------------------------------------


def test_unknown_years_count_weekends_only_and_say_so(seeded):
    assert is_working_day(D(2027, 1, 1))  # a Friday; the real 2027 schedule is not loaded
    assert not is_working_day(D(2027, 1, 2))
    assert not calendar_confirmed(D(2027, 1, 1))
    assert calendar_confirmed(D(2025, 1, 1), D(2026, 12, 31))

    result = add_working_days(D(2027, 3, 1), 10)
    assert result == (_weekends_only_add(D(2027, 3, 1), 10), False)
    far = add_working_days(D(2099, 6, 1), 37)
    assert far == (_weekends_only_add(D(2099, 6, 1), 37), False)
    # Starting in a confirmed year and ending in an unconfirmed one is unconfirmed too.
    crossing = add_working_days(D(2026, 12, 21), 15)
    assert crossing.confirmed is False
    assert add_working_days(D(2026, 12, 1), 5).confirmed is True
    assert working_days_between(D(2026, 12, 1), D(2027, 1, 29)).confirmed is False
    assert working_days_between(D(2099, 1, 1), D(2099, 12, 31)) == (260, False)
    assert working_days_between(D(2026, 1, 1), D(2026, 2, 1)).confirmed is True


def test_results_cannot_be_mistaken_for_plain_values(seeded):
    due = add_working_days(D(2025, 9, 26), 20)
    with pytest.raises(TypeError):
        due < D(2025, 11, 1)  # noqa: B015
    with pytest.raises(TypeError):
        working_days_between(D(2025, 9, 26), D(2025, 10, 30)) > 3  # noqa: B015
    day, confirmed = due
    assert (day, confirmed) == (due.date, due.confirmed)


def test_admin_entered_year_is_used_once_confirmed(seeded):
    calendar_day_create(actor=None, date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    calendar_day_create(actor=None, date=D(2027, 1, 4), kind=CalendarDayKind.HOLIDAY, name="元旦")
    calendar_day_create(actor=None, date=D(2027, 1, 9), kind=CalendarDayKind.MAKEUP, name="元旦")
    # Entered but not confirmed: a half-entered schedule must not move deadlines.
    assert is_working_day(D(2027, 1, 1))
    assert add_working_days(D(2026, 12, 31), 1) == (D(2027, 1, 1), False)

    calendar_year_save(actor=None, year=2027, status=CalendarYearStatus.CONFIRMED)
    assert not is_working_day(D(2027, 1, 1))
    assert is_working_day(D(2027, 1, 9))
    assert add_working_days(D(2026, 12, 31), 1) == (D(2027, 1, 5), True)
    assert add_working_days(D(2027, 1, 8), 1) == (D(2027, 1, 9), True)
    assert calendar_confirmed(D(2027, 6, 1))
    assert 2027 not in missing_years()

    calendar_year_save(actor=None, year=2027, status=CalendarYearStatus.UNCONFIRMED)
    assert add_working_days(D(2026, 12, 31), 1) == (D(2027, 1, 1), False)


def test_confirming_a_year_without_holidays_is_refused(db):
    with pytest.raises(InvalidInput) as caught:
        calendar_year_save(actor=None, year=2031, status=CalendarYearStatus.CONFIRMED)
    assert "2031" in caught.value.message
    assert not CalendarYear.objects.filter(year=2031).exists()


# --- cache ------------------------------------------------------------------------------------


def test_edits_take_effect_at_once(seeded):
    tuesday = D(2025, 7, 15)
    assert is_working_day(tuesday)
    row = calendar_day_create(actor=None, date=tuesday, kind=CalendarDayKind.HOLIDAY, name="临时")
    assert not is_working_day(tuesday)
    assert add_working_days(D(2025, 7, 14), 1).date == D(2025, 7, 16)
    calendar_day_update(actor=None, calendar_day=row, kind=CalendarDayKind.WORKDAY)
    assert is_working_day(tuesday)
    calendar_day_update(actor=None, calendar_day=row, kind=CalendarDayKind.HOLIDAY)
    assert not is_working_day(tuesday)
    calendar_day_delete(actor=None, calendar_day=row)
    assert is_working_day(tuesday)


@pytest.mark.django_db(transaction=True)
def test_other_processes_edits_are_seen_through_the_revision_token(monkeypatch):
    monkeypatch.setattr(workdays, "RECHECK_SECONDS", 0.0)  # instead of waiting out the second
    calendar_seed_from_package(actor=None, years=[2025])
    assert is_working_day(D(2025, 7, 15))
    # Another process's edit: no signal reaches this one, only the rows and the token change.
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=D(2025, 7, 15), kind=CalendarDayKind.HOLIDAY, source=CalendarSource.ADMIN)]
    )
    CalendarRevision.objects.filter(pk=1).update(token="changed-elsewhere")
    assert not is_working_day(D(2025, 7, 15))


@pytest.mark.django_db(transaction=True)
def test_committed_edits_reach_this_process_at_once():
    calendar_seed_from_package(actor=None, years=[2025])
    assert is_working_day(D(2025, 7, 15))
    calendar_day_create(actor=None, date=D(2025, 7, 15), kind=CalendarDayKind.HOLIDAY)
    assert not is_working_day(D(2025, 7, 15))


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2025, 10, 1, 9, 0),  # naive
        "2025-10-01",
        20251001,
        None,
        D(1899, 12, 31),
        D(2201, 1, 1),
    ],
)
def test_bad_dates_are_refused_clearly(db, value):
    for call in (
        lambda: is_working_day(value),
        lambda: add_working_days(value, 3),
        lambda: working_days_between(D(2025, 1, 1), value),
        lambda: calendar_confirmed(value),
    ):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert caught.value.status_code == 400
        assert caught.value.message


def test_bad_counts_regions_and_ranges_are_refused(db):
    with pytest.raises(InvalidInput, match="时区"):
        is_working_day(dt.datetime(2025, 10, 1, 9, 0))
    with pytest.raises(InvalidInput, match="1900"):
        is_working_day(D(1899, 12, 31))
    for n in (1.5, "3", True, None):
        with pytest.raises(InvalidInput):
            add_working_days(D(2025, 1, 2), n)
    with pytest.raises(InvalidInput):
        add_working_days(D(2025, 1, 2), 1, region="520000")
    with pytest.raises(InvalidInput):
        add_working_days(D(2200, 12, 30), 10)
    with pytest.raises(InvalidInput):
        add_working_days(D(1900, 1, 2), -10)
    with pytest.raises(InvalidInput):
        missing_years(-1)


def test_bad_service_input_changes_nothing(seeded, regions):
    before = CalendarDay.objects.count(), AuditEntry.objects.count()
    with pytest.raises(InvalidInput, match="周六或周日"):
        calendar_day_create(actor=None, date=D(2025, 7, 15), kind=CalendarDayKind.MAKEUP)
    with pytest.raises(InvalidInput):
        calendar_day_create(actor=None, date="2025-07-15", kind=CalendarDayKind.HOLIDAY)
    with pytest.raises(InvalidInput):
        calendar_day_create(actor=None, date=D(2025, 7, 15), kind="festival")
    with pytest.raises(InvalidInput, match="已有"):
        calendar_day_create(actor=None, date=D(2025, 10, 1), kind=CalendarDayKind.HOLIDAY)
    with pytest.raises(InvalidInput):
        calendar_year_save(actor=None, year=2301, status=CalendarYearStatus.CONFIRMED)
    with pytest.raises(InvalidInput):
        calendar_seed_from_package(actor=None, years=[2027])
    with pytest.raises(InvalidInput):
        calendar_seed_from_package(actor=None, years="2025")
    with pytest.raises(DomainError):
        calendar_day_delete(actor=None, calendar_day=CalendarDay.objects.get(date=D(2025, 10, 1), region=None))
    assert (CalendarDay.objects.count(), AuditEntry.objects.count()) == before
    # The same day may be set once nationwide and once per region.
    calendar_day_create(actor=None, date=D(2025, 10, 1), region=regions["zunyi"], kind=CalendarDayKind.HOLIDAY)


# --- seeding and audit ------------------------------------------------------------------------


def test_seed_is_idempotent_and_keeps_admin_edits(seeded):
    assert seeded.created == CalendarDay.objects.count() > 600
    assert list(CalendarYear.objects.filter(status=CalendarYearStatus.CONFIRMED).values_list("year", flat=True)) == (
        list(reversed(package_years()))
    )
    row = CalendarDay.objects.get(date=D(2025, 10, 8), region=None)
    calendar_day_update(actor=None, calendar_day=row, kind=CalendarDayKind.WORKDAY, note="试行调整")
    CalendarDay.objects.filter(date=D(2025, 10, 7), region=None).update(name="旧名称")  # as an older package had it
    CalendarDay.objects.create(date=D(2025, 3, 3), kind=CalendarDayKind.HOLIDAY, source=CalendarSource.SEED)

    again = calendar_seed_from_package(actor=None)
    assert (again.created, again.updated, again.deleted, again.kept) == (0, 1, 1, 1)
    row.refresh_from_db()
    assert (row.kind, row.source, row.note) == (CalendarDayKind.WORKDAY, CalendarSource.ADMIN, "试行调整")
    assert CalendarDay.objects.get(date=D(2025, 10, 7), region=None).name == "国庆节"
    assert not CalendarDay.objects.filter(date=D(2025, 3, 3)).exists()
    assert is_working_day(D(2025, 10, 8))

    third = calendar_seed_from_package(actor=None)
    assert (third.created, third.updated, third.deleted) == (0, 0, 0)


def test_seed_keeps_a_year_an_admin_set(seeded):
    calendar_year_save(actor=None, year=2026, status=CalendarYearStatus.UNCONFIRMED, note="待核对")
    calendar_seed_from_package(actor=None, years=[2026])
    year = CalendarYear.objects.get(year=2026)
    assert (year.status, year.source) == (CalendarYearStatus.UNCONFIRMED, CalendarSource.ADMIN)
    assert not calendar_confirmed(D(2026, 5, 1))


def test_each_service_call_writes_one_audit_entry(seeded):
    actions = []

    def one_entry(call):
        count = AuditEntry.objects.count()
        call()
        assert AuditEntry.objects.count() == count + 1
        actions.append(AuditEntry.objects.latest("id").action)

    one_entry(lambda: calendar_seed_from_package(actor=None, years=[2025]))
    one_entry(lambda: calendar_day_create(actor=None, date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦"))
    row = CalendarDay.objects.get(date=D(2027, 1, 1))
    one_entry(lambda: calendar_day_update(actor=None, calendar_day=row, kind=CalendarDayKind.HOLIDAY, name="元旦节"))
    one_entry(lambda: calendar_year_save(actor=None, year=2027, status=CalendarYearStatus.CONFIRMED))
    one_entry(lambda: calendar_day_delete(actor=None, calendar_day=row))
    assert actions == [
        "calendar.seed",
        "calendar.day.create",
        "calendar.day.update",
        "calendar.year.save",
        "calendar.day.delete",
    ]


def test_seed_command(db, capsys):
    call_command("calendar_seed", "--year", "2025")
    assert "2025" in capsys.readouterr().out
    assert CalendarYear.objects.get(year=2025).status == CalendarYearStatus.CONFIRMED
    assert not calendar_confirmed(D(2024, 1, 1))


# --- the missing-year alert --------------------------------------------------------------------


def _confirm_by_hand(year: int) -> None:
    calendar_day_create(actor=None, date=D(year, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    calendar_year_save(actor=None, year=year, status=CalendarYearStatus.CONFIRMED)


def test_sweep_alerts_superusers_once_a_day(db, make_user):
    assert "onewindow.core.services.calendar.calendar_missing_years_sweep" in periodic.registry
    sweep = periodic.registry["onewindow.core.services.calendar.calendar_missing_years_sweep"].function
    make_user("root", is_superuser=True, is_staff=True)
    make_user("root2", is_superuser=True, is_staff=True)
    make_user("former", is_superuser=True, is_staff=True, is_active=False)
    make_user("clerk", kind=AccountKind.STAFF, is_staff=True)
    missing = missing_years()
    assert missing  # nothing is seeded here, so at least this year is missing

    assert sweep() == len(missing)
    sent = Notification.objects.filter(kind="calendar")
    assert sorted(sent.values_list("recipient__username", flat=True)) == ["root", "root2"]
    assert all(str(missing[0]) in item.subject for item in sent)
    entry = AuditEntry.objects.get(action="calendar.missing_years_alert")
    assert '"recipients":["root","root2"]' in entry.changes
    assert all(row.last_alert_on == workdays.shanghai_today() for row in CalendarYear.objects.filter(year__in=missing))

    # Later runs the same day alert nobody again.
    assert sweep() == 0
    assert calendar_missing_years_alert(actor=None) == []
    assert Notification.objects.filter(kind="calendar").count() == 2
    assert AuditEntry.objects.filter(action="calendar.missing_years_alert").count() == 1

    # The next day it alerts again.
    yesterday = workdays.shanghai_today() - dt.timedelta(days=1)
    CalendarYear.objects.filter(year__in=missing).update(last_alert_on=yesterday)
    assert sweep() == len(missing)
    assert Notification.objects.filter(kind="calendar").count() == 4

    for year in missing:
        _confirm_by_hand(year)
    assert missing_years() == []
    assert sweep() == 0


def test_admin_dashboard_alerts_while_a_year_is_missing(db, make_user, client_as):
    admin_user = make_user("root", kind=AccountKind.STAFF, otp=True, is_staff=True, is_superuser=True)
    client = client_as(admin_user)
    missing = missing_years()
    assert missing  # nothing is seeded here, so at least this year is missing
    page = client.get(reverse("admin:index")).content.decode()
    assert "年节假日安排尚未录入" in page
    assert str(missing[0]) in page

    for year in missing:
        _confirm_by_hand(year)
    page = client.get(reverse("admin:index")).content.decode()
    assert "年节假日安排尚未录入" not in page


def test_admin_screens_save_through_the_services(seeded, regions, make_user, client_as):
    admin_user = make_user("root", kind=AccountKind.STAFF, otp=True, is_staff=True, is_superuser=True)
    client = client_as(admin_user)
    changelist = reverse("admin:core_calendarday_changelist")
    assert client.get(changelist, {"year": "2025", "kind": "makeup"}).status_code == 200
    assert client.get(changelist, {"scope": "national", "q": "国庆"}).status_code == 200
    assert client.get(reverse("admin:core_calendaryear_changelist")).status_code == 200

    add = reverse("admin:core_calendarday_add")
    form = {"date": "2025-07-15", "region": regions["zunyi"].pk, "kind": "makeup", "name": "地方节日"}
    response = client.post(add, form)
    assert response.status_code == 200
    assert "周六或周日" in response.content.decode()
    response = client.post(add, {**form, "kind": "holiday"})
    assert response.status_code == 302
    assert not is_working_day(D(2025, 7, 15), region=regions["honghuagang"])
    assert AuditEntry.objects.filter(action="calendar.day.create", actor=admin_user).count() == 1

    seeded_row = CalendarDay.objects.get(date=D(2025, 10, 8), region=None)
    change = reverse("admin:core_calendarday_change", args=[seeded_row.pk])
    response = client.post(change, {"kind": "workday", "name": "国庆节", "note": "试行"})
    assert response.status_code == 302
    seeded_row.refresh_from_db()
    assert (seeded_row.kind, seeded_row.source) == (CalendarDayKind.WORKDAY, CalendarSource.ADMIN)
    untouched = CalendarDay.objects.get(date=D(2025, 10, 7), region=None)
    delete = "admin:core_calendarday_delete"
    assert client.post(reverse(delete, args=[untouched.pk]), {"post": "yes"}).status_code == 403
    assert CalendarDay.objects.filter(pk=untouched.pk).exists()
    assert client.post(reverse(delete, args=[seeded_row.pk]), {"post": "yes"}).status_code == 302
    assert AuditEntry.objects.filter(action="calendar.day.delete", actor=admin_user).count() == 1
    assert is_working_day(D(2025, 10, 8))  # an ordinary Wednesday until seeding restores the holiday
    calendar_seed_from_package(actor=None, years=[2025])
    assert not is_working_day(D(2025, 10, 8))

    response = client.post(reverse("admin:core_calendaryear_add"), {"year": "2030", "status": "confirmed", "note": ""})
    assert response.status_code == 200
    assert "尚未录入任何全国节假日" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2030).exists()


def test_admin_year_filter_ignores_years_outside_the_calendar(seeded, admin_client):
    changelist = reverse("admin:core_calendarday_changelist")
    for year in ("99999", "²", "abc", "0"):
        assert admin_client.get(changelist, {"year": year}).status_code == 200
    listed = admin_client.get(changelist, {"year": "2025"}).content.decode()
    assert "2025-10-01" in listed or "2025年10月1日" in listed
    years = admin_client.get(reverse("admin:core_calendaryear_changelist"), {"o": "2"})
    assert years.status_code == 200
