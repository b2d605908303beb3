from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One append-only record of a state change.

    Written by `onewindow.core.audit.record` inside the business transaction; sealed into
    the Merkle tree by the worker shortly after commit (`seq` and `leaf_hash` are set exactly
    once, which database triggers enforce; see `onewindow.core.audit.triggers`).
    """

    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=100)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    # Canonical JSON ({"before": ..., "after": ...}, sorted keys) kept as text so the
    # sealed hash is computed over exactly the bytes stored.
    changes = models.TextField(_("变更摘要"), blank=True)
    ip = models.GenericIPAddressField(_("请求IP"), null=True, blank=True)
    seq = models.BigIntegerField(_("账本序号"), null=True, blank=True, unique=True)
    leaf_hash = models.CharField(_("叶哈希"), max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        # A plain index for `action`: db_index would add a second, pattern-ops index on
        # PostgreSQL that no ledger query uses, and every index costs each record() and seal.
        indexes = [
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class TreeHead(models.Model):
    """A signed head of the audit Merkle tree (size, root) after a sealing batch."""

    size = models.BigIntegerField(_("条目数"), unique=True)
    root_hash = models.CharField(_("根哈希"), max_length=64)
    signature = models.CharField(_("签名"), max_length=200)
    key_id = models.CharField(_("密钥标识"), max_length=64)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    # The right edge of the tree (hex hashes of the complete subtrees, largest first), so the
    # next batch extends the tree without rereading earlier leaves.
    frontier = models.JSONField(_("右边界"), default=list)

    class Meta:
        ordering = ["size"]
        verbose_name = _("签名树头")
        verbose_name_plural = _("签名树头")


class AuditNode(models.Model):
    """Hash of a complete subtree of the audit tree at height 8, 16, 24 ….

    Kept so an inclusion or consistency proof reads at most a few hundred hashes instead of
    every leaf (≈0.4 % more rows than entries).
    """

    level = models.PositiveSmallIntegerField(_("高度"))
    index = models.BigIntegerField(_("位置"))
    hash = models.CharField(_("哈希"), max_length=64)

    class Meta:
        verbose_name = _("审计树节点")
        verbose_name_plural = _("审计树节点")
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="audit_node_position")]
