"""Electronic supervision (电子监察): signals, events, rules, supervision items and notices (督办),
denial filing reviews, spot checks, and the charge and result records other systems report.

Fields follow GB/T 39046-2020 §6.8 (监察编号, 监察规则编号, 监察预警类型代码, 状态产生时间, 监察结果描述,
责任部门, 督办内容, 被督办机构). Written only through `onewindow.supervision.services`; cases are read,
never written, except the review fields of a denial filing that exist for supervision.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.cases.models import Case, CaseStep, DenialFiling, JointCase
from onewindow.catalogue.models import ImplementationItem
from onewindow.core.models import Department
from onewindow.supervision.choices import (
    Colour,
    DenialOutcome,
    ItemStatus,
    NoticeStatus,
    RuleKind,
    SampleResult,
    SignalKind,
    SpotCheckStatus,
    WarningType,
)

USER = settings.AUTH_USER_MODEL


class SupervisionRule(models.Model):
    """A supervision rule (监察规则): switched on or off, with its parameters (thresholds)."""

    code = models.CharField(_("监察规则编号"), max_length=8, unique=True)
    kind = models.CharField(_("规则类别"), max_length=10, choices=RuleKind.choices)
    name = models.CharField(_("规则名称"), max_length=100)
    description = models.TextField(_("规则说明"))
    enabled = models.BooleanField(_("启用"), default=True)
    parameters = models.JSONField(_("参数"), default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("监察规则")
        verbose_name_plural = _("监察规则")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def parameter(self, name: str, default: int) -> int:
        value = self.parameters.get(name, default)
        return value if isinstance(value, int) and value >= 0 else default


class ItemSetting(models.Model):
    """Supervision settings of one item: when its cases and steps turn yellow, and whether one
    person may both accept and decide its cases."""

    item = models.OneToOneField(
        ImplementationItem,
        verbose_name=_("事项"),
        on_delete=models.CASCADE,
        related_name="supervision_setting",
    )
    near_days = models.PositiveSmallIntegerField(
        _("预警提前工作日"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(60)],
        help_text=_("留空则按时限的百分比计算"),
    )
    near_percent = models.PositiveSmallIntegerField(
        _("预警剩余时限百分比"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    separate_accept_and_decide = models.BooleanField(
        _("受理与决定须由不同人员办理"), default=False
    )

    class Meta:
        verbose_name = _("事项监察设置")
        verbose_name_plural = _("事项监察设置")

    def __str__(self) -> str:
        return str(self.item)


class Signal(models.Model):
    """The current colour of one open case, one open step, or one joint case in progress (its
    most urgent member case, or its own joint date; `case` is then that member); kept by the
    warning sweep, deleted when no longer open. The red/yellow lists and the board read it."""

    kind = models.CharField(_("对象"), max_length=5, choices=SignalKind.choices)
    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="+"
    )
    step = models.ForeignKey(
        CaseStep,
        verbose_name=_("环节"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    joint = models.ForeignKey(
        JointCase,
        verbose_name=_("联办件"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    item = models.ForeignKey(
        ImplementationItem,
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    colour = models.CharField(
        _("信号"), max_length=6, choices=Colour.choices, default=Colour.GREEN
    )
    due = models.DateField(_("期限"), null=True, blank=True)
    responsible = models.ForeignKey(
        USER,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("状态产生时间"))
    red_since = models.DateField(_("超期起始日"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("升级督办时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警信号")
        verbose_name_plural = _("预警信号")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(kind="case"),
                name="supervision_signal_case",
            ),
            models.UniqueConstraint(
                fields=["joint"],
                condition=Q(kind="joint"),
                name="supervision_signal_joint",
            ),
            models.UniqueConstraint(
                fields=["step"],
                condition=Q(step__isnull=False),
                name="supervision_signal_step",
            ),
        ]
        indexes = [
            # The red/yellow list of one department, most overdue first.
            models.Index(
                fields=["department", "colour", "due"], name="supervision_signal_dept"
            ),
            models.Index(
                fields=["colour", "escalated_at"], name="supervision_signal_escalate"
            ),
            # The board's red list: most overdue first, across the region's departments.
            models.Index(fields=["colour", "due", "id"], name="supervision_signal_due"),
        ]


class SignalTally(models.Model):
    """How many signals of a kind and colour a department has for an item, as of the last warning
    sweep (which alone writes signals): the board counts from these rows instead of every open
    case's signal."""

    department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.CASCADE, related_name="+"
    )
    item = models.ForeignKey(
        ImplementationItem, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("对象"), max_length=5, choices=SignalKind.choices)
    colour = models.CharField(_("信号"), max_length=6, choices=Colour.choices)
    count = models.PositiveIntegerField(_("数量"))

    class Meta:
        verbose_name = _("预警信号计数")
        verbose_name_plural = _("预警信号计数")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "item", "kind", "colour"],
                name="supervision_signaltally_key",
            )
        ]


class SupervisionEvent(models.Model):
    """One supervision record (监察记录): a signal changing colour, an anomaly found, an escalation."""

    number = models.CharField(_("监察编号"), max_length=40, unique=True)
    rule = models.ForeignKey(
        SupervisionRule,
        verbose_name=_("监察规则"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    warning_type = models.CharField(
        _("监察预警类型"), max_length=1, choices=WarningType.choices
    )
    case = models.ForeignKey(
        Case,
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    step = models.ForeignKey(
        CaseStep,
        verbose_name=_("环节"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("状态产生时间"))
    description = models.TextField(_("监察结果描述"))

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("监察记录")
        verbose_name_plural = _("监察记录")
        indexes = [
            models.Index(
                fields=["department", "-occurred_at"], name="supervision_event_dept"
            ),
            models.Index(
                fields=["case", "-occurred_at"], name="supervision_event_case"
            ),
        ]


class SupervisionItem(models.Model):
    """A matter for supervision (监察事项): opened by a rule hit, an escalation, a questioned
    denial filing, a failed spot check or by a supervisor; followed up by notices (督办)."""

    number = models.CharField(_("事项编号"), max_length=40, unique=True)
    rule = models.ForeignKey(
        SupervisionRule,
        verbose_name=_("监察规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    case = models.ForeignKey(
        Case,
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.CharField(_("问题"), max_length=200)
    description = models.TextField(_("监察结果描述"))
    status = models.CharField(
        _("状态"), max_length=8, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    # One item per finding: a rule seen twice on the same facts does not open a second one.
    finding_key = models.CharField(max_length=120, unique=True)
    opened_at = models.DateTimeField(_("发现时间"))
    opened_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("监察事项")
        verbose_name_plural = _("监察事项")
        indexes = [
            models.Index(fields=["department", "status"], name="supervision_item_dept")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class SupervisionNotice(models.Model):
    """督办通知: a supervisor tells a department to rectify by a deadline; the department answers;
    the supervisor closes it or escalates it to the level above."""

    number = models.CharField(_("督办编号"), max_length=40, unique=True)
    item = models.ForeignKey(
        SupervisionItem,
        verbose_name=_("监察事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )
    case = models.ForeignKey(
        Case,
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("被督办机构"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    content = models.TextField(_("督办内容"))
    deadline = models.DateField(_("整改期限"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=NoticeStatus.choices,
        default=NoticeStatus.ISSUED,
    )
    issued_at = models.DateTimeField(_("督办发出时间"))
    issued_by = models.ForeignKey(
        USER, verbose_name=_("督办人"), on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("整改情况"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    conclusion = models.TextField(_("办结或升级意见"), blank=True)
    concluded_at = models.DateTimeField(_("办结或升级时间"), null=True, blank=True)
    concluded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("督办通知")
        verbose_name_plural = _("督办通知")
        indexes = [
            models.Index(
                fields=["department", "status"], name="supervision_notice_dept"
            )
        ]

    def __str__(self) -> str:
        return self.number


class DenialReview(models.Model):
    """The supervisor's review of a denial filing (否定报备)."""

    filing = models.OneToOneField(
        DenialFiling, on_delete=models.PROTECT, related_name="supervision_review"
    )
    outcome = models.CharField(
        _("审查结论"), max_length=10, choices=DenialOutcome.choices
    )
    opinion = models.TextField(_("审查意见"))
    reviewed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审查时间"))
    item = models.ForeignKey(
        SupervisionItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("否定报备审查")
        verbose_name_plural = _("否定报备审查")


class SpotCheck(models.Model):
    """办件定期抽查: a random sample of one department's cases completed in a period. The seed is
    recorded, so the same seed over the same period draws the same sample again."""

    number = models.CharField(_("抽查编号"), max_length=40, unique=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("被抽查部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    period_from = models.DateField(_("办结日期自"))
    period_to = models.DateField(_("办结日期至"))
    sample_size = models.PositiveIntegerField(_("抽取件数"))
    population = models.PositiveIntegerField(_("期内办结件数"))
    seed = models.CharField(_("随机种子"), max_length=64)
    checklist = models.JSONField(_("检查项"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=SpotCheckStatus.choices,
        default=SpotCheckStatus.OPEN,
    )
    created_at = models.DateTimeField(_("抽取时间"))
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("办件抽查")
        verbose_name_plural = _("办件抽查")


class SpotCheckSample(models.Model):
    """One drawn case: the answers to the checklist, the findings and their follow-up."""

    check_run = models.ForeignKey(
        SpotCheck, on_delete=models.CASCADE, related_name="samples"
    )
    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField(_("抽取顺序"))
    answers = models.JSONField(_("检查结果"), default=dict, blank=True)
    findings = models.TextField(_("发现的问题"), blank=True)
    result = models.CharField(
        _("结论"),
        max_length=8,
        choices=SampleResult.choices,
        default=SampleResult.PENDING,
    )
    checked_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    checked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        SupervisionItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["check_run", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_run", "case"], name="supervision_sample_once"
            )
        ]


class ChargeRecord(models.Model):
    """A fee collected (收费记录), as the payment system reports it: checked against the guide."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.PROTECT, related_name="+"
    )
    fee_name = models.CharField(_("收费项目名称"), max_length=200)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    reported_at = models.DateTimeField(_("报送时间"))
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-reported_at", "-id"]


class ResultRecord(models.Model):
    """A result issued (出证记录), as the licence or document system reports it: a result with no
    case approved behind it is 体外循环."""

    department = models.ForeignKey(
        Department,
        verbose_name=_("出证部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    result_name = models.CharField(_("结果名称"), max_length=200)
    result_number = models.CharField(_("结果编号"), max_length=100)
    case_number = models.CharField(_("办件编号"), max_length=60, blank=True)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_on = models.DateField(_("出证日期"))
    reported_at = models.DateTimeField(_("报送时间"))
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "result_number"], name="supervision_result_once"
            ),
        ]


class FeedCursor(models.Model):
    """How far a sweep has read an append-only feed (the cases' timeline): the last id done."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)
