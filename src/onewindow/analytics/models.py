"""Roll-ups of case handling (数据分析): counters per day and per month for each region,
department, item and channel, kept up to date by the roll-up sweep reading the cases' timeline
and the ratings (好差评) on the audit ledger past their cursors. Dashboards, exports and the API
read these tables, never the cases or the ratings.

Written only through `onewindow.analytics.services`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.cases.choices import Channel
from onewindow.catalogue.models import ImplementationItem
from onewindow.core.models import Department, Region
from onewindow.evaluation.choices import Level

# Counted ratings by satisfaction level (GB/T 39046 A.8), on the day they were given.
RATING_COUNTERS = {
    Level.VERY_SATISFIED: "rated_very_satisfied",
    Level.SATISFIED: "rated_satisfied",
    Level.BASIC: "rated_basic",
    Level.DISSATISFIED: "rated_dissatisfied",
    Level.VERY_DISSATISFIED: "rated_very_dissatisfied",
}
COUNTERS = (
    "applications",
    "online_applications",
    "acceptances",
    "refusals",
    "completions",
    "on_time",
    "on_the_spot",
    "working_days",
    "deliveries",
    "visits",
    "at_most_once",
    *RATING_COUNTERS.values(),
)


class Figures(models.Model):
    """The counters every roll-up keeps (sums over the cases of its key)."""

    region = models.ForeignKey(
        Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        ImplementationItem,
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("申报来源"), max_length=10, choices=Channel.choices)
    applications = models.PositiveIntegerField(_("申请件数"), default=0)
    online_applications = models.PositiveIntegerField(_("网上申报件数"), default=0)
    acceptances = models.PositiveIntegerField(_("受理件数"), default=0)
    refusals = models.PositiveIntegerField(_("不予受理件数"), default=0)
    completions = models.PositiveIntegerField(_("办结件数"), default=0)
    on_time = models.PositiveIntegerField(_("按时办结件数"), default=0)
    on_the_spot = models.PositiveIntegerField(_("当场办结件数"), default=0)
    working_days = models.PositiveBigIntegerField(
        _("办结用时合计（工作日）"), default=0
    )
    deliveries = models.PositiveIntegerField(_("送达件数"), default=0)
    visits = models.PositiveIntegerField(_("跑动次数合计"), default=0)
    at_most_once = models.PositiveIntegerField(_("最多跑一次件数"), default=0)
    rated_very_satisfied = models.PositiveIntegerField(_("非常满意评价数"), default=0)
    rated_satisfied = models.PositiveIntegerField(_("满意评价数"), default=0)
    rated_basic = models.PositiveIntegerField(_("基本满意评价数"), default=0)
    rated_dissatisfied = models.PositiveIntegerField(_("不满意评价数"), default=0)
    rated_very_dissatisfied = models.PositiveIntegerField(
        _("非常不满意评价数"), default=0
    )

    class Meta:
        abstract = True


class DailyFigures(Figures):
    day = models.DateField(_("日期"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department", "item", "channel"],
                name="analytics_daily_key",
            ),
        ]
        indexes = [models.Index(fields=["day", "region"], name="analytics_daily_day")]


class MonthlyFigures(Figures):
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    # Working days used per completed case: {"3": 120, "5": 40} — merged for the p90.
    days_histogram = models.JSONField(_("办结用时分布"), default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "department", "item", "channel"],
                name="analytics_monthly_key",
            ),
        ]
        indexes = [
            models.Index(fields=["month", "region"], name="analytics_monthly_month")
        ]


class RollupCursor(models.Model):
    """How far the roll-up has read a feed: "cases", the last timeline event (cases.CaseEvent
    id); "ratings", the last audit ledger entry (core.AuditEntry id)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)
