"""The working-day calendar: overrides of the weekend rule and the record of which years are known.

Monday–Friday are working days unless a `CalendarDay` says otherwise. Overrides only take
effect for years whose `CalendarYear` is confirmed; other years are computed weekends-only
and every result touching them is marked unconfirmed (see `onewindow.core.workdays`).
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onewindow.core.models.base import TimeStampedModel
from onewindow.core.models.regions import Region

MIN_YEAR = 1900
MAX_YEAR = 2200


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("节假日")
    MAKEUP = "makeup", _("调休上班")
    WORKDAY = "workday", _("工作日")


class CalendarSource(models.TextChoices):
    SEED = "seed", _("chinesecalendar 导入")
    ADMIN = "admin", _("管理员录入")


class CalendarYearStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("已确认（官方安排已完整录入）")
    UNCONFIRMED = "unconfirmed", _("未确认")


def validate_calendar_date(value) -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            _("日期须在 %(min)s 年至 %(max)s 年之间。"), code="year_range", params={"min": MIN_YEAR, "max": MAX_YEAR}
        )


class CalendarDay(TimeStampedModel):
    """One day that differs from (or restates) the weekend rule, nationwide or in one region.

    A regional row applies to its region and every region below it, and wins over the rows
    of the levels above.
    """

    date = models.DateField(_("日期"), validators=[validate_calendar_date])
    region = models.ForeignKey(
        Region,
        verbose_name=_("适用区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calendar_days",
        help_text=_("留空表示全国；填写后对该区划及其下级区划生效。"),
    )
    kind = models.CharField(_("类型"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("例如：国庆节"))
    source = models.CharField(_("来源"), max_length=16, choices=CalendarSource.choices, default=CalendarSource.ADMIN)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["date", "region__code"]
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        # Two partial constraints because NULL regions never collide in a plain unique index.
        constraints = [
            models.UniqueConstraint(
                fields=["date"],
                condition=models.Q(region__isnull=True),
                name="calendar_day_national_unique",
                violation_error_message=_("该日期已有全国范围的设置。"),
            ),
            models.UniqueConstraint(
                fields=["date", "region"],
                condition=models.Q(region__isnull=False),
                name="calendar_day_region_unique",
                violation_error_message=_("该日期在该区划已有设置。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    def clean(self) -> None:
        super().clean()
        if self.kind == CalendarDayKind.MAKEUP and self.date and self.date.weekday() < 5:
            raise ValidationError({"kind": _("调休上班日应为周六或周日；普通工作日请选择“工作日”。")})


class CalendarYear(TimeStampedModel):
    """Whether a year's official holiday schedule is fully loaded (only then is it used)."""

    year = models.PositiveSmallIntegerField(
        _("年份"), unique=True, validators=[MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)]
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=CalendarYearStatus.choices, default=CalendarYearStatus.UNCONFIRMED
    )
    source = models.CharField(_("数据来源"), max_length=16, choices=CalendarSource.choices, blank=True)
    loaded_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    # The last day the missing-year alert went out, so the sweep alerts at most once a day.
    last_alert_on = models.DateField(_("最近提醒日期"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")

    def __str__(self) -> str:
        return f"{self.year}（{self.get_status_display()}）"

    def clean(self) -> None:
        super().clean()
        # Every official schedule has at least New Year's Day: confirming an empty year is a slip.
        if (
            self.status == CalendarYearStatus.CONFIRMED
            and self.year
            and not CalendarDay.objects.filter(
                region__isnull=True, date__year=self.year, kind=CalendarDayKind.HOLIDAY
            ).exists()
        ):
            message = _("%(year)s 年尚未录入任何全国节假日，请先录入国务院公布的安排再确认。")
            raise ValidationError({"status": ValidationError(message, code="empty_year", params={"year": self.year})})


class CalendarRevision(models.Model):
    """A single row whose token changes with every calendar edit, so every process reloads."""

    token = models.CharField(_("版本标识"), max_length=32)
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工作日历版本")
        verbose_name_plural = _("工作日历版本")


@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
@receiver(post_save, sender=CalendarYear)
@receiver(post_delete, sender=CalendarYear)
def _calendar_row_changed(sender, **kwargs) -> None:
    from onewindow.core import workdays

    workdays.calendar_changed()


@receiver(post_migrate)
def _tables_reset(sender, **kwargs) -> None:
    # Flushes and migrations rewrite the tables without row signals.
    from onewindow.core import workdays

    workdays.forget_cache()
