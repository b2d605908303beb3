"""The service hall (政务服务大厅): its windows, appointment slots, appointments and queue tickets.

Written only through `onewindow.hall.services`.

A hall is a physical place run by one department (the government service centre); the windows in
it are staffed by the departments stationed there and serve some or all of their catalogue items.
Each window may open appointment slots on working days. On site, a kiosk issues queue tickets
("A023": the window group's letter and a daily serial) and window clerks call them in turn,
appointment holders who checked in first.
"""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.catalogue.models import ImplementationItem
from onewindow.core.models import Department
from onewindow.core.models.base import TimeStampedModel
from onewindow.hall.choices import ACTIVE_APPOINTMENT_STATUSES, AppointmentStatus, TicketStatus

queue_letter_validator = RegexValidator(r"^[A-Z]$", _("叫号字母应为一个大写英文字母。"))


class Hall(TimeStampedModel):
    """A service hall with its kiosk and calling screen."""

    code = models.SlugField(_("大厅代码"), max_length=30, unique=True, help_text=_("用于取号机和叫号屏的网址，例如 zunyi-city"))
    name = models.CharField(_("大厅名称"), max_length=100)
    department = models.ForeignKey(
        Department, verbose_name=_("运营部门"), on_delete=models.PROTECT, related_name="halls"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("办事大厅")
        verbose_name_plural = _("办事大厅")

    def __str__(self) -> str:
        return self.name


class Window(TimeStampedModel):
    """A window (窗口) of one department in a hall.

    It serves the items listed, or every item of its department when none is listed. Windows
    with the same letter form a group whose tickets share a number sequence ("A001", "A002" …).
    """

    hall = models.ForeignKey(Hall, verbose_name=_("办事大厅"), on_delete=models.PROTECT, related_name="windows")
    department = models.ForeignKey(
        Department, verbose_name=_("进驻部门"), on_delete=models.PROTECT, related_name="hall_windows"
    )
    number = models.CharField(_("窗口号"), max_length=10)
    name = models.CharField(_("窗口名称"), max_length=100)
    queue_letter = models.CharField(_("叫号字母"), max_length=1, validators=[queue_letter_validator])
    items = models.ManyToManyField(
        ImplementationItem, verbose_name=_("办理事项"), blank=True, related_name="hall_windows",
        help_text=_("不选则办理本部门全部事项"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["hall", "queue_letter", "number"]
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        constraints = [models.UniqueConstraint(fields=["hall", "number"], name="hall_window_number_unique")]

    def __str__(self) -> str:
        return _("%(number)s号窗口（%(name)s）") % {"number": self.number, "name": self.name}


class SlotSchedule(TimeStampedModel):
    """When a window takes appointments: slots of `slot_minutes` in the morning and afternoon
    opening hours of every working day, `capacity` people per slot, up to `days_ahead` working
    days ahead."""

    window = models.OneToOneField(Window, verbose_name=_("窗口"), on_delete=models.PROTECT, related_name="schedule")
    slot_minutes = models.PositiveSmallIntegerField(
        _("时段长度（分钟）"), default=30, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    capacity = models.PositiveSmallIntegerField(
        _("每时段可约人数"), default=2, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    morning_start = models.TimeField(_("上午开始"), default=dt.time(9, 0))
    morning_end = models.TimeField(_("上午结束"), default=dt.time(12, 0))
    afternoon_start = models.TimeField(_("下午开始"), null=True, blank=True, default=dt.time(13, 30))
    afternoon_end = models.TimeField(_("下午结束"), null=True, blank=True, default=dt.time(17, 0))
    days_ahead = models.PositiveSmallIntegerField(
        _("可提前预约的工作日数"), default=5, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    is_active = models.BooleanField(_("开放预约"), default=True)

    class Meta:
        verbose_name = _("预约时段设置")
        verbose_name_plural = _("预约时段设置")

    def __str__(self) -> str:
        return str(self.window)

    def periods(self) -> list[tuple[dt.time, dt.time]]:
        periods = [(self.morning_start, self.morning_end)]
        if self.afternoon_start and self.afternoon_end:
            periods.append((self.afternoon_start, self.afternoon_end))
        return periods

    def slots(self) -> list[tuple[dt.time, dt.time]]:
        """(start, end) of every slot of a day, in order; a slot never runs past its period."""
        found = []
        step = dt.timedelta(minutes=self.slot_minutes)
        for start, end in self.periods():
            moment = dt.datetime.combine(dt.date.min, start)
            closing = dt.datetime.combine(dt.date.min, end)
            while moment + step <= closing:
                found.append((moment.time(), (moment + step).time()))
                moment += step
        return found


class SlotCounter(models.Model):
    """How many places of one slot are taken; booking increments it with a conditional update
    (`booked < capacity`), so two people taking the last place cannot both succeed."""

    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    start = models.TimeField()
    booked = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["window", "date", "start"], name="hall_slot_counter_unique")]


class Appointment(TimeStampedModel):
    """A booked slot at a window for one item (网上预约)."""

    code = models.CharField(_("预约码"), max_length=8)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("预约人"), on_delete=models.PROTECT, related_name="appointments"
    )
    item = models.ForeignKey(ImplementationItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+")
    hall = models.ForeignKey(Hall, verbose_name=_("办事大厅"), on_delete=models.PROTECT, related_name="appointments")
    window = models.ForeignKey(Window, verbose_name=_("窗口"), on_delete=models.PROTECT, related_name="appointments")
    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("预约日期"))
    start = models.TimeField(_("开始时间"))
    end = models.TimeField(_("结束时间"))
    starts_at = models.DateTimeField(_("时段开始"))
    ends_at = models.DateTimeField(_("时段结束"))
    status = models.CharField(
        _("状态"), max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)

    class Meta:
        ordering = ["-date", "-start", "-id"]
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "item", "date"], condition=Q(status__in=ACTIVE_APPOINTMENT_STATUSES),
                name="hall_one_active_appointment",
                violation_error_message=_("您当天已预约该事项。"),
            ),
            models.UniqueConstraint(fields=["hall", "date", "code"], name="hall_appointment_code_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "ends_at"], name="hall_appointment_due"),
            models.Index(fields=["applicant", "date"], name="hall_appointment_applicant"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.date:%Y-%m-%d} {self.start:%H:%M}"


class TicketSerial(models.Model):
    """The last ticket serial of one letter in one hall on one day."""

    hall = models.ForeignKey(Hall, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    letter = models.CharField(max_length=1)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hall", "day", "letter"], name="hall_ticket_serial_unique")]


class QueueTicket(models.Model):
    """A queue ticket (排队号) taken in the hall for one item, from issue to done."""

    hall = models.ForeignKey(Hall, verbose_name=_("办事大厅"), on_delete=models.PROTECT, related_name="tickets")
    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ImplementationItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("日期"))
    letter = models.CharField(_("叫号字母"), max_length=1)
    serial = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("排队号"), max_length=8)
    priority = models.BooleanField(_("预约优先"), default=False)
    appointment = models.OneToOneField(
        Appointment, verbose_name=_("预约"), null=True, blank=True, on_delete=models.PROTECT, related_name="ticket"
    )
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("办件"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.WAITING)
    issued_at = models.DateTimeField(_("取号时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("取号操作人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    called_at = models.DateTimeField(_("首次叫号时间"), null=True, blank=True)
    last_called_at = models.DateTimeField(_("最近叫号时间"), null=True, blank=True)
    call_count = models.PositiveSmallIntegerField(_("叫号次数"), default=0)
    started_at = models.DateTimeField(_("开始办理时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    window = models.ForeignKey(
        Window, verbose_name=_("窗口"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("窗口人员"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept when the ticket is called and finished, so the day's figures are plain aggregates.
    wait_seconds = models.PositiveIntegerField(_("等候时长（秒）"), null=True, blank=True)
    service_seconds = models.PositiveIntegerField(_("办理时长（秒）"), null=True, blank=True)

    class Meta:
        ordering = ["day", "hall", "-priority", "issued_at", "id"]
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        constraints = [models.UniqueConstraint(fields=["hall", "day", "number"], name="hall_ticket_number_unique")]
        indexes = [
            # The next ticket to call: today's waiting tickets of a hall, priority first, then oldest.
            models.Index(fields=["hall", "day", "status", "priority", "issued_at"], name="hall_ticket_queue"),
            models.Index(fields=["day", "department"], name="hall_ticket_day_department"),
            models.Index(fields=["hall", "day", "last_called_at"], name="hall_ticket_calls"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.day:%Y-%m-%d}"

    @property
    def status_label(self) -> str:
        return str(TicketStatus(self.status).label)
