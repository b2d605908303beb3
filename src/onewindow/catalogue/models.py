"""Service-item catalogue: basic items, implementation items and their versions, publication
batches, themes, and the denormalised facets the public catalogue filters on.

Written only through `onewindow.catalogue.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.catalogue.choices import (
    OPEN_VERSION_STATUSES,
    Audience,
    BatchKind,
    BatchStatus,
    CaseType,
    CompositeStatus,
    ExerciseLevel,
    ItemList,
    ItemType,
    MemberDenialRule,
    VersionStatus,
)
from onewindow.core.models import Department, Region
from onewindow.core.models.base import TimeStampedModel


class Theme(TimeStampedModel):
    """A life event (个人办事主题) or enterprise theme (法人办事主题) the portal browses by."""

    code = models.CharField(_("主题代码"), max_length=30, unique=True)
    name = models.CharField(_("主题名称"), max_length=50)
    audience = models.CharField(_("面向"), max_length=12, choices=Audience.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["audience", "order", "code"]
        verbose_name = _("服务主题")
        verbose_name_plural = _("服务主题")

    def __str__(self) -> str:
        return self.name


class BasicItem(TimeStampedModel):
    """基本目录: one item as the law sets it, shared by every region that implements it."""

    basic_code = models.CharField(_("基本编码"), max_length=12, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices)
    exercise_level = models.CharField(_("行使层级"), max_length=1, choices=ExerciseLevel.choices)
    legal_basis = models.TextField(_("设定依据"))
    # The standard elements (see schema.STANDARD_ELEMENTS) implementation items start from.
    standard = models.JSONField(_("标准要素"), default=dict)

    class Meta:
        ordering = ["basic_code"]
        verbose_name = _("基本目录事项")
        verbose_name_plural = _("基本目录事项")

    def __str__(self) -> str:
        return f"{self.name}（{self.basic_code}）"


class ImplementationItem(TimeStampedModel):
    """实施清单: a basic item as one department in one region implements it.

    The columns after `current_version` copy facets of the published version, so the public
    catalogue filters and sorts without reading version documents.
    """

    basic_item = models.ForeignKey(
        BasicItem, verbose_name=_("基本目录事项"), on_delete=models.PROTECT, related_name="implementations"
    )
    impl_code = models.CharField(_("实施编码"), max_length=36, unique=True)
    handle_item_code = models.CharField(_("业务办理项编码"), max_length=50, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("实施主体"), on_delete=models.PROTECT, related_name="catalogue_items"
    )
    region = models.ForeignKey(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    current_version = models.ForeignKey(
        "ItemVersion", verbose_name=_("现行版本"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("事项名称"), max_length=200, blank=True)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices, blank=True)
    case_type = models.CharField(_("办件类型"), max_length=1, choices=CaseType.choices, blank=True)
    promised_days = models.PositiveSmallIntegerField(_("承诺时限"), null=True, blank=True)
    visits = models.PositiveSmallIntegerField(_("到办事现场次数"), null=True, blank=True)
    online_depth = models.PositiveSmallIntegerField(_("网上办理深度"), null=True, blank=True)
    themes = models.ManyToManyField(Theme, verbose_name=_("服务主题"), blank=True, related_name="items")
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["impl_code"]
        verbose_name = _("实施清单事项")
        verbose_name_plural = _("实施清单事项")
        indexes = [
            models.Index(fields=["item_type", "name"], name="catalogue_item_type_name"),
            models.Index(fields=["department", "name"], name="catalogue_item_dept_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.basic_item.name}（{self.impl_code}）"

    @property
    def is_published(self) -> bool:
        return self.current_version_id is not None


class ItemListMembership(models.Model):
    """The six lists (六张清单) as tags on published items."""

    item = models.ForeignKey(ImplementationItem, on_delete=models.CASCADE, related_name="list_memberships")
    list_code = models.CharField(_("清单"), max_length=30, choices=ItemList.choices)

    class Meta:
        verbose_name = _("清单归属")
        verbose_name_plural = _("清单归属")
        constraints = [models.UniqueConstraint(fields=["list_code", "item"], name="catalogue_list_item_unique")]


class PublicationBatch(TimeStampedModel):
    """A publication: the regular June and December batches, or one urgent change."""

    kind = models.CharField(_("批次类型"), max_length=10, choices=BatchKind.choices)
    title = models.CharField(_("批次名称"), max_length=100)
    publish_on = models.DateField(_("计划发布日期"))
    reason = models.TextField(_("紧急发布理由"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-publish_on", "-id"]
        verbose_name = _("发布批次")
        verbose_name_plural = _("发布批次")

    def __str__(self) -> str:
        return self.title


class ItemVersion(TimeStampedModel):
    """One version of an implementation item: the whole guide as one validated document.

    A published version never changes; a change is a new draft that goes through legal review
    and publication. Cases keep a reference to the version they were filed under.
    """

    item = models.ForeignKey(ImplementationItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(_("状态"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    content = models.JSONField(_("内容"))
    content_sha256 = models.CharField(_("内容摘要"), max_length=64)
    change_note = models.TextField(_("变更说明"), blank=True)
    urgent = models.BooleanField(_("紧急变更"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("编辑人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("法制审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("法制审核时间"), null=True, blank=True)
    review_opinion = models.TextField(_("法制审核意见"), blank=True)
    batch = models.ForeignKey(
        PublicationBatch, verbose_name=_("发布批次"), null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("替代时间"), null=True, blank=True)

    class Meta:
        ordering = ["item", "-number"]
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="catalogue_version_number_unique"),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status__in=OPEN_VERSION_STATUSES),
                name="catalogue_one_open_version",
                violation_error_message=_("该事项已有一个正在编辑或审核的版本。"),
            ),
        ]
        indexes = [models.Index(fields=["status", "item"], name="catalogue_version_status")]

    def __str__(self) -> str:
        return f"{self.item.impl_code} v{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_VERSION_STATUSES


class SearchDocument(models.Model):
    """The searchable text of one published item, already cut into words (see catalogue.search).

    Each column holds space-separated words, so the database's full-text engine only has to
    split on spaces. Written only by `onewindow.catalogue.search`. The full-text index lives
    outside the model, created by migration 0002: an FTS5 table kept in sync by triggers on
    SQLite, generated `search_vector` and `head_vector` columns with GIN indexes on
    PostgreSQL (columns this model does not declare; the database fills them). A later
    migration that rebuilds this table on SQLite must recreate those triggers, then run
    `onewindow catalogue_reindex`.
    """

    item = models.OneToOneField(
        ImplementationItem,
        verbose_name=_("事项"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    title = models.TextField(_("名称分词"), blank=True)
    keywords = models.TextField(_("关键词分词"), blank=True)
    body = models.TextField(_("正文分词"), blank=True)

    class Meta:
        verbose_name = _("检索文档")
        verbose_name_plural = _("检索文档")

    def __str__(self) -> str:
        return str(self.item_id)


class CompositeService(TimeStampedModel):
    """一件事: several implementation items of several departments, applied for once, accepted once
    by the lead department (一口受理), processed in parallel within one joint time limit."""

    code = models.CharField(_("一件事编码"), max_length=40, unique=True)
    name = models.CharField(_("一件事名称"), max_length=200)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("牵头部门"), on_delete=models.PROTECT, related_name="led_composites"
    )
    joint_limit_days = models.PositiveSmallIntegerField(_("联办承诺时限（工作日）"))
    denial_rule = models.CharField(_("成员事项不予许可时"), max_length=10, choices=MemberDenialRule.choices,
                                   default=MemberDenialRule.PARTIAL)
    merge_results = models.BooleanField(_("多证合一"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=CompositeStatus.choices,
                              default=CompositeStatus.DRAFT)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    items = models.ManyToManyField(ImplementationItem, through="CompositeMember", related_name="composites")

    class Meta:
        ordering = ["code"]
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class CompositeMember(models.Model):
    composite = models.ForeignKey(CompositeService, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(ImplementationItem, verbose_name=_("成员事项"), on_delete=models.PROTECT,
                             related_name="+")
    position = models.PositiveSmallIntegerField(_("顺序"))

    class Meta:
        ordering = ["composite_id", "position"]
        constraints = [models.UniqueConstraint(fields=["composite", "item"], name="catalogue_composite_member")]
