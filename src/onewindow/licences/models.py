"""The electronic licence library (电子证照库): licence types, the departments' signing keys,
their status lists, licences with their versions, and who looked at which licence.

Written only through `onewindow.licences.services`.

A licence is held by a person (ID number) or a legal person (USCC). Each version of it is a
signed data file (`LicenceVersion.document`, see `document.py`): every field salted and hashed,
the hashes combined into one target hash, and that signed with the issuing department's key.
Revocation and suspension are bits in the department's status list (W3C Bitstring Status
List), at the index the licence's documents name.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.core.models import Department
from onewindow.core.models.base import TimeStampedModel
from onewindow.licences.choices import (
    AccessKind,
    Algorithm,
    HolderKind,
    KeyStatus,
    LicenceStatus,
    VersionKind,
)


class LicenceType(TimeStampedModel):
    """证照类型: what a department issues, which fields it has, how long it is valid, and which
    catalogue items issue it and which materials it replaces.

    `fields` is a list of {"key", "label", "type" (FieldType), "required"}; a field is filled
    from the case's form value of the same key when the licence is issued for a case.
    """

    code = models.SlugField(_("证照类型代码"), max_length=50, unique=True)
    name = models.CharField(_("证照名称"), max_length=100)
    department = models.ForeignKey(
        Department,
        verbose_name=_("签发部门"),
        on_delete=models.PROTECT,
        related_name="licence_types",
    )
    holder_kind = models.CharField(
        _("持证主体类型"), max_length=12, choices=HolderKind.choices
    )
    fields = models.JSONField(_("照面字段"), default=list)
    validity_years = models.PositiveSmallIntegerField(
        _("有效期（年）"), null=True, blank=True, help_text=_("留空表示长期有效")
    )
    reminder_days = models.PositiveSmallIntegerField(_("到期前提醒天数"), default=30)
    algorithm = models.CharField(
        _("签名算法"),
        max_length=10,
        choices=Algorithm.choices,
        default=Algorithm.ED25519,
    )
    print_title = models.CharField(_("打印版式标题"), max_length=100, blank=True)
    print_note = models.TextField(_("打印版式说明"), blank=True)
    issued_for_items = models.JSONField(
        _("办结签发的事项"),
        default=list,
        blank=True,
        help_text=_("这些事项的办件准予许可后签发本类证照（实施编码）"),
    )
    replaces_materials = models.JSONField(
        _("可替代的申请材料"),
        default=list,
        blank=True,
        help_text=_("可用本证照替代、免于提交的材料名称"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class SigningKey(TimeStampedModel):
    """One signing key of a department: the trusted-issuer registry is these rows.

    The private key is kept sealed (AES-256-GCM under the platform's licence master key, see
    `crypto.py`); the public key is published. A rotation retires the active key: it signs
    nothing new, and what it signed stays verifiable.
    """

    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="licence_keys",
    )
    algorithm = models.CharField(_("算法"), max_length=10, choices=Algorithm.choices)
    key_id = models.CharField(_("密钥标识"), max_length=32, unique=True)
    public_key = models.CharField(_("公钥"), max_length=200)
    sealed_private_key = models.BinaryField(_("私钥（密封）"), editable=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=KeyStatus.choices, default=KeyStatus.ACTIVE
    )
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("吊销原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["department", "algorithm", "-created_at"]
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "algorithm"],
                condition=Q(status=KeyStatus.ACTIVE),
                name="licences_one_active_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.algorithm})"


class StatusList(models.Model):
    """A department's two bitstring status lists (revocation, suspension), one bit per licence
    at its `status_index`; `next_index` hands out the indexes."""

    department = models.OneToOneField(
        Department, on_delete=models.PROTECT, related_name="licence_status_list"
    )
    revoked_bits = models.BinaryField()
    suspended_bits = models.BinaryField()
    next_index = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("证照状态列表")
        verbose_name_plural = _("证照状态列表")


class Licence(TimeStampedModel):
    """An electronic licence (电子证照) in the library, as of its current version."""

    number = models.CharField(_("证照编号"), max_length=40, unique=True)
    licence_type = models.ForeignKey(
        LicenceType,
        verbose_name=_("证照类型"),
        on_delete=models.PROTECT,
        related_name="licences",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("签发部门"),
        on_delete=models.PROTECT,
        related_name="licences",
    )
    holder_kind = models.CharField(
        _("持证主体类型"), max_length=12, choices=HolderKind.choices
    )
    holder_id = models.CharField(
        _("持证主体代码"), max_length=20, help_text=_("身份证件号码或统一社会信用代码")
    )
    holder_name = models.CharField(_("持证主体名称"), max_length=200)
    fields = models.JSONField(_("照面信息"), default=dict)
    issued_on = models.DateField(_("发证日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(
        _("有效期至"), null=True, blank=True, help_text=_("留空表示长期有效")
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=LicenceStatus.choices,
        default=LicenceStatus.VALID,
    )
    status_reason = models.CharField(_("状态原因"), max_length=300, blank=True)
    status_index = models.PositiveBigIntegerField(_("状态列表位置"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    current_version = models.OneToOneField(
        "LicenceVersion",
        verbose_name=_("现行版本"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    case_number = models.CharField(_("办件编号"), max_length=50, blank=True)
    legacy_number = models.CharField(_("原证照编号"), max_length=100, blank=True)
    reminded_for = models.DateField(_("已提醒到期日"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "status_index"],
                name="licences_status_index_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["holder_id", "status"], name="licences_holder"),
            models.Index(fields=["status", "valid_until"], name="licences_due"),
            models.Index(
                fields=["department", "-issued_on"], name="licences_department"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LicenceVersion(models.Model):
    """One version of a licence: the first issue, each change (变更) and renewal (延续) with its
    newly signed document, and the cancellation (注销), each with the case that caused it."""

    licence = models.ForeignKey(
        Licence, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    kind = models.CharField(_("类型"), max_length=10, choices=VersionKind.choices)
    case_number = models.CharField(_("办件编号"), max_length=50, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    fields = models.JSONField(_("照面信息"), default=dict)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    # The signed data file (canonical JSON, see document.py); empty for a cancellation.
    document = models.TextField(_("签名数据文件"), blank=True)
    key = models.ForeignKey(
        SigningKey, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["licence", "number"]
        verbose_name = _("证照版本")
        verbose_name_plural = _("证照版本")
        constraints = [
            models.UniqueConstraint(
                fields=["licence", "number"], name="licences_version_unique"
            )
        ]


class LicenceAccess(models.Model):
    """Who used which licence, when, for which case and why: shown to the holder."""

    licence = models.ForeignKey(
        Licence, on_delete=models.PROTECT, related_name="accesses"
    )
    kind = models.CharField(_("方式"), max_length=12, choices=AccessKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case_number = models.CharField(_("办件编号"), max_length=50, blank=True)
    purpose = models.CharField(_("用途"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("证照调用记录")
        verbose_name_plural = _("证照调用记录")
        indexes = [
            models.Index(fields=["licence", "-at"], name="licences_access_recent")
        ]
