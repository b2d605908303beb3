"""Code sets of the service hall: appointments and queue tickets."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CHECKED_IN = "checked_in", _("已签到")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("爽约")


# An applicant holds at most one appointment in these states per item and day.
ACTIVE_APPOINTMENT_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("等候中")
    CALLED = "called", _("已叫号")
    SERVING = "serving", _("办理中")
    DONE = "done", _("已办结")
    SKIPPED = "skipped", _("过号")
    EXPIRED = "expired", _("当日未叫号")


# A window works on one ticket at a time: the one it called or is serving.
CURRENT_TICKET_STATUSES = (TicketStatus.CALLED, TicketStatus.SERVING)
