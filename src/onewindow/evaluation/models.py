"""Evaluations of services (好差评) and the rectification of bad reviews.

Fields follow GB/T 39046-2020 §6.6 (政务服务绩效评价): the case, the channel, the rater, the time,
the number of ratings (评价次数), the level (A.8) and the written comment, with the region. A
case is rated once (一事一评) and a visit to a window once (一次一评); the rater may change the
rating within a window of days. Written only through `onewindow.evaluation.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.catalogue.models import ImplementationItem
from onewindow.core.models import Department, Region
from onewindow.core.models.base import TimeStampedModel
from onewindow.evaluation.choices import (
    BAD_LEVELS,
    AppealKind,
    EvaluationChannel,
    Level,
    RectificationOutcome,
    RectificationStatus,
    Subject,
)

USER = settings.AUTH_USER_MODEL


class Evaluation(TimeStampedModel):
    """One rating of one case or one visit."""

    subject = models.CharField(_("评价对象"), max_length=5, choices=Subject.choices)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ticket = models.ForeignKey(
        "hall.QueueTicket",
        verbose_name=_("排队号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # None: an anonymous visitor rating at the window (QR code on the ticket, the hall tablet).
    rater = models.ForeignKey(
        USER,
        verbose_name=_("评价人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    real_name = models.BooleanField(_("实名评价"), default=False)
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        ImplementationItem,
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # 谁办理、谁负责: the clerk who served the visit, or who decided (else accepted) the case.
    staff = models.ForeignKey(
        USER,
        verbose_name=_("工作人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window = models.ForeignKey(
        "hall.Window",
        verbose_name=_("窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(
        _("评价渠道"), max_length=8, choices=EvaluationChannel.choices
    )
    level = models.PositiveSmallIntegerField(_("满意度"), choices=Level.choices)
    indicators = models.JSONField(_("分项评价"), default=dict, blank=True)
    comment = models.TextField(_("文字评价"), blank=True)
    rated_at = models.DateTimeField(_("评价时间"))
    changeable_until = models.DateTimeField(_("可修改至"))
    times = models.PositiveSmallIntegerField(_("评价次数"), default=1)
    # False once a supervisor upholds the department's appeal: the rating leaves the figures.
    counted = models.BooleanField(_("计入统计"), default=True)

    class Meta:
        ordering = ["-rated_at", "-id"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(case__isnull=False),
                name="evaluation_one_per_case",
                violation_error_message=_("该办件已评价。"),
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(ticket__isnull=False),
                name="evaluation_one_per_visit",
                violation_error_message=_("本次服务已评价。"),
            ),
            models.CheckConstraint(
                condition=Q(
                    subject=Subject.CASE, case__isnull=False, ticket__isnull=True
                )
                | Q(subject=Subject.VISIT, case__isnull=True, ticket__isnull=False),
                name="evaluation_case_or_visit",
            ),
        ]
        indexes = [
            models.Index(
                fields=["department", "rated_at"], name="evaluation_department_time"
            ),
            models.Index(fields=["rater", "-rated_at"], name="evaluation_rater_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.get_level_display()}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class Invitation(models.Model):
    """The invitation sent when a finished case stays unrated (one per case)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("邀请时间"))


class Rectification(TimeStampedModel):
    """差评整改: the item a bad review opens for the responsible department, with its named
    handler, call-backs, fix-by deadline in working days and, if the department contests the
    rating, the supervisor's decision on the appeal (申诉复核)."""

    evaluation = models.OneToOneField(
        Evaluation,
        verbose_name=_("评价"),
        on_delete=models.PROTECT,
        related_name="rectification",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    handler = models.ForeignKey(
        USER,
        verbose_name=_("整改责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=RectificationStatus.choices,
        default=RectificationStatus.OPEN,
    )
    fix_due = models.DateField(_("整改期限"))
    due_confirmed = models.BooleanField(_("期限按已确认的工作日历计算"), default=True)
    # Real-name bad reviews are all called back before the item can close.
    call_back_required = models.BooleanField(_("须回访"), default=False)
    called_back_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    outcome = models.CharField(
        _("整改结果"), max_length=10, choices=RectificationOutcome.choices, blank=True
    )
    result = models.TextField(_("整改情况"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_late = models.BooleanField(_("逾期整改"), default=False)
    appeal_kind = models.CharField(
        _("申诉类型"), max_length=10, choices=AppealKind.choices, blank=True
    )
    appeal_reason = models.TextField(_("申诉理由"), blank=True)
    appealed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    appealed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appeal_upheld = models.BooleanField(_("申诉成立"), null=True, blank=True)
    appeal_opinion = models.TextField(_("复核意见"), blank=True)
    appeal_decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    overdue_notified_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)

    class Meta:
        ordering = ["fix_due", "id"]
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        indexes = [
            models.Index(
                fields=["status", "fix_due"], name="evaluation_rect_status_due"
            ),
            models.Index(
                fields=["department", "status"], name="evaluation_rect_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.fix_due:%Y-%m-%d}"


class CallBack(models.Model):
    """One call-back (回访) to the rater: whether they were reached and what they said."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="call_backs"
    )
    at = models.DateTimeField(_("回访时间"))
    by = models.ForeignKey(
        USER, verbose_name=_("回访人"), on_delete=models.PROTECT, related_name="+"
    )
    reached = models.BooleanField(_("已联系上"))
    note = models.TextField(_("回访记录"))

    class Meta:
        ordering = ["rectification", "at", "id"]
