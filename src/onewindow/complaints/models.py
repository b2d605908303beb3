"""Consultations and complaints (咨询投诉, 12345, 网上信箱): topics (the Open311 services), editable
routing rules, the requests themselves with their history, and the exposure column (曝光纠错).

Fields follow GB/T 39046-2020 §6.7 (办事互动): title, content, who asked and about whom, source,
time, the handling unit and person, the answer and its time, the promised limit, extension and
its reason, overdue days and the region. Written only through `onewindow.complaints.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.catalogue.models import ImplementationItem
from onewindow.complaints.choices import Kind, Rating, Source, Status, UpdateKind
from onewindow.core.models import Department, Region, StoredFile
from onewindow.core.models.base import TimeStampedModel

USER = settings.AUTH_USER_MODEL


class HotlineCentre(TimeStampedModel):
    """The 12345 centre of a region: its staff take calls and dispatch requests in the region."""

    department = models.OneToOneField(
        Department,
        verbose_name=_("热线中心"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("服务区域"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("12345热线中心")
        verbose_name_plural = _("12345热线中心")

    def __str__(self) -> str:
        return self.department.name


class Topic(TimeStampedModel):
    """诉求类别: what a request is about; published as an Open311 service."""

    code = models.SlugField(_("类别代码"), max_length=40, unique=True)
    name = models.CharField(_("类别名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=500, blank=True)
    group = models.CharField(_("分组"), max_length=50, blank=True)
    keywords = models.CharField(
        _("关键词"), max_length=300, blank=True, help_text=_("以逗号分隔")
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("默认承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    promised_days = models.PositiveSmallIntegerField(
        _("承诺答复时限（工作日）"), default=5
    )
    # Open311 service definition attributes: [{code, datatype, required, description, order, values}].
    attributes = models.JSONField(_("附加信息项"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["group", "code"]
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")

    def __str__(self) -> str:
        return self.name


class RoutingRule(TimeStampedModel):
    """Sends matching requests to a department: every condition set must match (category, item,
    region including the regions below it, a keyword in the title or content); the lowest
    priority number wins."""

    priority = models.PositiveSmallIntegerField(
        _("优先级"), default=100, help_text=_("数字小的先匹配")
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("诉求类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    item = models.ForeignKey(
        ImplementationItem,
        verbose_name=_("事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("行政区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    keyword = models.CharField(_("关键词"), max_length=50, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("承办单位"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    promised_days = models.PositiveSmallIntegerField(
        _("承诺答复时限（工作日）"),
        null=True,
        blank=True,
        help_text=_("不填则按诉求类别"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")


class SerialCounter(models.Model):
    """The last request serial of one day."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)


class Complaint(TimeStampedModel):
    """One consultation, complaint, suggestion or request for help, from intake to close."""

    number = models.CharField(_("编号"), max_length=20, unique=True)
    query_code = models.CharField(_("查询码"), max_length=8)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("诉求类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    title = models.CharField(_("标题"), max_length=100)
    content = models.TextField(_("内容"))
    complainant = models.ForeignKey(
        USER,
        verbose_name=_("诉求人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    contact_email = models.EmailField(_("电子邮箱"), blank=True)
    respondent = models.CharField(_("被投诉单位或人员"), max_length=100, blank=True)
    item = models.ForeignKey(
        ImplementationItem,
        verbose_name=_("事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.DecimalField(
        _("纬度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    long = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    attributes = models.JSONField(_("附加信息"), default=dict, blank=True)
    media = models.ManyToManyField(
        StoredFile, verbose_name=_("图片或附件"), blank=True, related_name="+"
    )
    idempotency_key = models.CharField(
        _("提交幂等键"), max_length=100, null=True, blank=True, unique=True
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    received_at = models.DateTimeField(_("登记时间"))
    received_by = models.ForeignKey(
        USER,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("承办时间"), null=True, blank=True)
    handler = models.ForeignKey(
        USER,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"))
    due = models.DateField(_("答复期限"), null=True, blank=True)
    due_confirmed = models.BooleanField(_("期限按已确认的工作日历计算"), default=True)
    extension_days = models.PositiveSmallIntegerField(
        _("延期时限（工作日）"), default=0
    )
    extension_reason = models.TextField(_("延期原因"), blank=True)
    answer = models.TextField(_("答复意见"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    overdue_days = models.PositiveSmallIntegerField(_("超期天数"), default=0)
    rating = models.PositiveSmallIntegerField(
        _("满意度"), choices=Rating.choices, null=True, blank=True
    )
    rating_comment = models.TextField(_("评价意见"), blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重新办理次数"), default=0)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("咨询投诉")
        verbose_name_plural = _("咨询投诉")
        indexes = [
            models.Index(
                fields=["department", "status", "due"], name="complaints_department_due"
            ),
            models.Index(fields=["status", "due"], name="complaints_status_due"),
            models.Index(
                fields=["complainant", "-received_at"], name="complaints_complainant"
            ),
            models.Index(fields=["received_at"], name="complaints_received"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=Status.RECEIVED) | Q(department__isnull=False),
                name="complaints_assigned_has_department",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ComplaintUpdate(models.Model):
    """One entry of a request's history; public entries are what the citizen and Open311 see."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="updates"
    )
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=UpdateKind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["complaint", "at", "id"]


class Exposure(TimeStampedModel):
    """曝光纠错: a resolved problem published without anyone's name, phone or ID, with the result."""

    complaint = models.OneToOneField(
        Complaint, on_delete=models.PROTECT, related_name="exposure"
    )
    title = models.CharField(_("标题"), max_length=100)
    problem = models.TextField(_("问题"))
    result = models.TextField(_("整改结果"))
    department_name = models.CharField(_("承办单位"), max_length=200)
    published_at = models.DateTimeField(_("公开时间"))
    published_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("曝光纠错")
        verbose_name_plural = _("曝光纠错")
