"""Code sets of the electronic licence library."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HolderKind(models.TextChoices):
    PERSON = "person", _("自然人")
    LEGAL_PERSON = "legal_person", _("法人")


class FieldType(models.TextChoices):
    TEXT = "text", _("文本")
    DATE = "date", _("日期")
    INTEGER = "integer", _("整数")
    BOOLEAN = "boolean", _("是/否")


class Algorithm(models.TextChoices):
    ED25519 = "ed25519", _("Ed25519")
    SM2 = "sm2", _("SM2/SM3（国密）")


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("使用中")
    # Signs nothing new; what it signed while active stays valid.
    RETIRED = "retired", _("已轮换")
    # Compromised: nothing it signed is trusted any more.
    REVOKED = "revoked", _("已吊销")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("有效")
    SUSPENDED = "suspended", _("已暂停")
    REVOKED = "revoked", _("已吊销")
    CANCELLED = "cancelled", _("已注销")
    EXPIRED = "expired", _("已过期")


class VersionKind(models.TextChoices):
    ISSUE = "issue", _("签发")
    CHANGE = "change", _("变更")
    RENEW = "renew", _("延续")
    CANCEL = "cancel", _("注销")


class AccessKind(models.TextChoices):
    LOOKUP = "lookup", _("部门调用")
    DOWNLOAD = "download", _("下载")


class CheckResult(models.TextChoices):
    VALID = "valid", _("通过")
    INVALID = "invalid", _("未通过")
    SKIPPED = "skipped", _("未核验")
