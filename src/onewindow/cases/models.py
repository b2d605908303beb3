"""Cases (办件): an application for one catalogue item version, from draft to archive.

Fields follow GB/T 39046-2020 §6.2–6.5 (办事申请, 事项受理, 事项办理, 事项办结). Written only
through `onewindow.cases.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.accounts.choices import Role
from onewindow.accounts.models import Enterprise
from onewindow.cases.choices import (
    CaseStatus,
    Channel,
    Decision,
    DeliveryMethod,
    DocumentKind,
    JointStatus,
    StepOutcome,
    StepStatus,
)
from onewindow.catalogue.choices import SpecialProcedureKind, StepKind
from onewindow.catalogue.models import CompositeService, ImplementationItem, ItemVersion
from onewindow.core.models import Department, Region, StoredFile
from onewindow.core.models.base import TimeStampedModel

USER = settings.AUTH_USER_MODEL


class DailySerial(models.Model):
    """The last serial handed out for one prefix (an implementation code, a document kind) on one day."""

    impl_code = models.CharField(max_length=50)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["impl_code", "day"], name="cases_serial_code_day")]


class JointCase(TimeStampedModel):
    """一件事联办件: one application for the member items of a composite service, accepted once by
    the lead department; acceptance splits it into a member case per item, in its department,
    each under its own clock within the joint promised date."""

    composite = models.ForeignKey(CompositeService, verbose_name=_("一件事"), on_delete=models.PROTECT,
                                  related_name="joint_cases")
    lead_department = models.ForeignKey(Department, verbose_name=_("牵头部门"), on_delete=models.PROTECT,
                                        related_name="+")
    number = models.CharField(_("联办件编号"), max_length=60, unique=True, null=True, blank=True)
    query_code = models.CharField(_("查询码"), max_length=8, blank=True)
    applicant = models.ForeignKey(USER, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="joint_cases")
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("申请单位"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="joint_cases")
    status = models.CharField(_("状态"), max_length=12, choices=JointStatus.choices, default=JointStatus.DRAFT)
    form_data = models.JSONField(_("合并申请表"), default=dict)
    idempotency_key = models.CharField(_("提交幂等键"), max_length=64, null=True, blank=True)
    submitted_at = models.DateTimeField(_("申请时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(USER, verbose_name=_("受理人"), null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    joint_due = models.DateField(_("联办承诺办结日期"), null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("一件事联办件")
        verbose_name_plural = _("一件事联办件")
        constraints = [models.UniqueConstraint(fields=["applicant", "idempotency_key"],
                                               name="cases_joint_applicant_key")]

    def __str__(self) -> str:
        return self.number or f"{self.composite.name}（{_('草稿')}）"


class JointMeeting(models.Model):
    """联席会商: member departments met on a joint case and agreed on a conclusion."""

    joint = models.ForeignKey(JointCase, on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField(_("会商日期"))
    departments = models.ManyToManyField(Department, verbose_name=_("参加部门"), related_name="+")
    conclusion = models.TextField(_("会商结论"))
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        ordering = ["joint_id", "held_on", "id"]


class Case(TimeStampedModel):
    number = models.CharField(_("办件编号"), max_length=60, unique=True, null=True, blank=True)
    query_code = models.CharField(_("查询码"), max_length=8, blank=True)
    item = models.ForeignKey(ImplementationItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="cases")
    # Every case action changes the status, so each UPDATE writes every index of this table anew:
    # foreign keys no query filters on (the version, who accepted, who decided), or that lead a
    # composite index (department, applicant), have none of their own.
    version = models.ForeignKey(ItemVersion, verbose_name=_("事项版本"), on_delete=models.PROTECT, related_name="cases",
                                db_index=False)
    department = models.ForeignKey(Department, verbose_name=_("受理部门"), on_delete=models.PROTECT, related_name="cases",
                                   db_index=False)
    region = models.ForeignKey(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey(USER, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="cases",
                                  db_index=False)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("申请单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    channel = models.CharField(_("申报来源"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    filed_by = models.ForeignKey(
        USER, verbose_name=_("代为申报人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agent_consent = models.TextField(_("委托代办声明"), blank=True)
    agent_consent_file = models.ForeignKey(
        StoredFile, verbose_name=_("委托书"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    form_data = models.JSONField(_("申请表"), default=dict)
    joint = models.ForeignKey(JointCase, verbose_name=_("所属联办件"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="members")
    idempotency_key = models.CharField(_("提交幂等键"), max_length=64, null=True, blank=True)
    submitted_at = models.DateTimeField(_("申请时间"), null=True, blank=True)
    # When the item's approval rules looked at the submission (智慧审批), whatever they said.
    auto_checked_at = models.DateTimeField(_("智能审查时间"), null=True, blank=True)
    acceptance_due = models.DateField(_("受理期限"), null=True, blank=True, db_index=True)
    # 受理
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        USER, verbose_name=_("受理人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    accepted_on_receipt = models.BooleanField(_("逾期视为受理"), default=False)
    refusal_reasons = models.TextField(_("不予受理理由"), blank=True)
    refusal_basis = models.TextField(_("不予受理依据"), blank=True)
    # 容缺受理: the applicant's commitment, given with the application.
    deferral_requested = models.JSONField(_("申请容缺的材料"), default=list, blank=True)
    commitment = models.TextField(_("容缺受理承诺"), blank=True)
    committed_at = models.DateTimeField(_("承诺时间"), null=True, blank=True)
    # The clock, in working days from acceptance. Special procedures pause it: the paused
    # working days and any authorised extension push the due dates back.
    clock_start = models.DateField(_("计时起算日"), null=True, blank=True)
    promised_due = models.DateField(_("承诺办结日期"), null=True, blank=True, db_index=True)
    legal_due = models.DateField(_("法定办结日期"), null=True, blank=True, db_index=True)
    paused_days = models.PositiveIntegerField(_("暂停计时工作日"), default=0)
    paused_since = models.DateField(_("暂停计时起始日"), null=True, blank=True)
    extension_days = models.PositiveIntegerField(_("延长审批工作日"), default=0)
    due_confirmed = models.BooleanField(_("期限按已确认的工作日历计算"), default=True)
    # 办结
    decision = models.CharField(_("审批结果"), max_length=10, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        USER, verbose_name=_("决定人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decision_opinion = models.TextField(_("决定意见"), blank=True)
    decision_basis = models.TextField(_("决定依据"), blank=True)
    result_name = models.CharField(_("结果名称"), max_length=200, blank=True)
    result_number = models.CharField(_("结果编号"), max_length=100, blank=True)
    result_valid_until = models.DateField(_("结果有效期至"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # 送达
    delivery_method = models.CharField(_("送达方式"), max_length=10, choices=DeliveryMethod.choices, blank=True)
    delivery_address = models.CharField(_("送达地址"), max_length=300, blank=True)
    delivery_recipient = models.CharField(_("收件人"), max_length=50, blank=True)
    carrier = models.CharField(_("物流公司"), max_length=50, blank=True)
    tracking_number = models.CharField(_("物流单号"), max_length=50, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    ended_reason = models.TextField(_("撤回或终止原因"), blank=True)
    visits = models.PositiveSmallIntegerField(_("跑动次数"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"], condition=Q(idempotency_key__isnull=False),
                name="cases_submission_key",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "promised_due"], name="cases_department_status_due"),
            models.Index(fields=["applicant", "-created_at"], name="cases_applicant_recent"),
            models.Index(fields=["status", "promised_due"], name="cases_status_due"),
        ]

    def __str__(self) -> str:
        return self.number or _("草稿 %(pk)s") % {"pk": self.pk}


class CaseMaterial(TimeStampedModel):
    """One file of a material (several per material), or a reference to the applicant's licence."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    material_key = models.CharField(_("材料编号"), max_length=40)
    file = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    licence_number = models.CharField(_("电子证照编号"), max_length=100, blank=True)
    licence_type = models.CharField(_("电子证照类型"), max_length=50, blank=True)
    added_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["case_id", "material_key", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(file__isnull=False, licence_number="") | Q(file__isnull=True) & ~Q(licence_number=""),
                name="cases_material_file_or_licence",
            ),
        ]


class SupplementNotice(TimeStampedModel):
    """补正告知书: everything missing, notified at once."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supplement_notices")
    submission = models.PositiveSmallIntegerField(_("第几次提交"))
    missing = models.JSONField(_("需补正的材料与事项"))
    note = models.TextField(_("说明"), blank=True)
    issued_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    repeated = models.BooleanField(_("再次告知（违反一次性告知）"), default=False)
    answered_at = models.DateTimeField(_("补正时间"), null=True, blank=True)

    class Meta:
        ordering = ["case_id", "id"]


class DeferredMaterial(TimeStampedModel):
    """A secondary material accepted as missing (容缺), to be supplied by `due`."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deferred_materials")
    material_key = models.CharField(_("材料编号"), max_length=40)
    name = models.CharField(_("材料名称"), max_length=200)
    due = models.DateField(_("补交期限"), db_index=True)
    warned_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    supplied_at = models.DateTimeField(_("补交时间"), null=True, blank=True)

    class Meta:
        ordering = ["case_id", "due", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "material_key"], name="cases_deferred_once")]


class CaseStep(models.Model):
    """One run of a step of the item's process template (a step returned to runs again)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("环节序号"))
    key = models.CharField(_("环节编号"), max_length=40)
    name = models.CharField(_("环节名称"), max_length=200)
    kind = models.CharField(_("环节类型"), max_length=10, choices=StepKind.choices)
    role = models.CharField(_("办理角色"), max_length=20, choices=Role.choices)
    limit_days = models.PositiveSmallIntegerField(_("环节时限（工作日）"))
    status = models.CharField(_("环节办理状态"), max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING)
    assignee = models.ForeignKey(
        USER, verbose_name=_("环节处理人"), null=True, blank=True, on_delete=models.PROTECT, related_name="case_steps"
    )
    started_at = models.DateTimeField(_("环节开始时间"))
    due = models.DateField(_("环节期限"), null=True, blank=True)
    finished_at = models.DateTimeField(_("环节结束时间"), null=True, blank=True)
    outcome = models.CharField(_("业务动作"), max_length=10, choices=StepOutcome.choices, blank=True)
    opinion = models.TextField(_("处理意见"), blank=True)

    class Meta:
        ordering = ["case_id", "started_at", "id"]
        indexes = [models.Index(fields=["status", "due"], name="cases_step_status_due")]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=~Q(status=StepStatus.DONE), name="cases_one_open_step"),
        ]

    def __str__(self) -> str:
        return self.name


class SpecialProcedureRun(models.Model):
    """A special procedure (特别程序) of the case: its time is not counted in the limit. An
    extension (延长审批) does not pause the clock; it adds working days to the limits."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="special_procedures")
    kind = models.CharField(_("特别程序种类"), max_length=1, choices=SpecialProcedureKind.choices)
    name = models.CharField(_("特别程序名称"), max_length=200)
    max_days = models.PositiveSmallIntegerField(_("最长时限"))
    basis = models.TextField(_("理由或依据"))
    reason = models.TextField(_("启动理由"))
    started_at = models.DateTimeField(_("开始时间"))
    started_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    days_used = models.PositiveSmallIntegerField(_("用时（工作日）"), null=True, blank=True)
    result = models.TextField(_("特别程序结果"), blank=True)

    class Meta:
        ordering = ["case_id", "started_at", "id"]


class CaseDocument(models.Model):
    """A written document of the case (受理通知书, 补正告知书 …): its facts are frozen when it is
    issued, so the PDF printed later says what was decided then."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("文书类型"), max_length=12, choices=DocumentKind.choices)
    number = models.CharField(_("文书编号"), max_length=60, unique=True)
    issued_at = models.DateTimeField(_("出具时间"))
    issued_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    facts = models.JSONField(_("文书内容"))

    class Meta:
        ordering = ["case_id", "issued_at", "id"]
        verbose_name = _("办件文书")
        verbose_name_plural = _("办件文书")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class DenialFiling(TimeStampedModel):
    """否定报备: every denial, with reasons and legal basis, filed for supervision to review."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="denial_filing")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    reasons = models.TextField(_("不予许可理由"))
    basis = models.TextField(_("法律依据"))
    # None when the item's approval rules denied the application (智慧审批).
    filed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("审查时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review_opinion = models.TextField(_("审查意见"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("否定报备")
        verbose_name_plural = _("否定报备")


class CaseEvent(models.Model):
    """The case's timeline: every action, who took it, when, and what it said."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("动作"), max_length=30)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["case_id", "at", "id"]


class CaseArchive(models.Model):
    """The electronic archive of a finished case: a manifest of every document, material,
    event and audit entry with their hashes; the manifest's own hash is on the audit ledger."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="archive")
    manifest = models.JSONField(_("归档清单"))
    manifest_sha256 = models.CharField(_("清单摘要"), max_length=64)
    created_at = models.DateTimeField(_("归档时间"))
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("电子档案")
        verbose_name_plural = _("电子档案")
