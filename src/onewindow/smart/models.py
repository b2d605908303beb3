"""Smart-approval rule sets (智慧审批规则): per implementation item, versioned, each with the
example applications that test it. Written only through `onewindow.smart.services`."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onewindow.catalogue.models import ImplementationItem, ItemVersion
from onewindow.core.models.base import TimeStampedModel
from onewindow.smart.choices import RuleSetStatus


class RuleSet(TimeStampedModel):
    """One version of an item's approval rules.

    `rules` is a list of {"name", "condition" (a rules.py expression), "explanation" (a
    template)}; `examples` a list of {"name", "form", "applicant", "expected"}. A draft is
    edited; publishing checks it against the form of the item's published version (kept in
    `checked_version`) and runs every example; the new version supersedes the old one.
    """

    item = models.ForeignKey(
        ImplementationItem,
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="rule_sets",
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=RuleSetStatus.choices,
        default=RuleSetStatus.DRAFT,
    )
    rules = models.JSONField(_("规则"), default=list)
    examples = models.JSONField(_("示例申请"), default=list)
    allow_auto_deny = models.BooleanField(
        _("允许自动不予批准"),
        default=False,
        help_text=_(
            "不勾选时，不符合规则的申请转人工审查，不会自动作出不予批准的决定。"
        ),
    )
    change_note = models.TextField(_("变更说明"), blank=True)
    checked_version = models.ForeignKey(
        ItemVersion,
        verbose_name=_("校验所依据的事项版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("编辑人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("替代时间"), null=True, blank=True)

    class Meta:
        ordering = ["item", "-number"]
        verbose_name = _("智能审批规则集")
        verbose_name_plural = _("智能审批规则集")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "number"], name="smart_rule_set_number_unique"
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=RuleSetStatus.DRAFT),
                name="smart_one_draft",
                violation_error_message=_("该事项已有一个规则集草稿。"),
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=RuleSetStatus.PUBLISHED),
                name="smart_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.impl_code} v{self.number}"

    @property
    def label(self) -> str:
        return _("%(name)s 智能审批规则第 %(number)s 版") % {
            "name": self.item.name,
            "number": self.number,
        }
