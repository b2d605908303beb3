"""Result publicity (双公示): licensing decisions and administrative penalties, published within
7 working days of the decision with the public fields only.

A publication holds copies of what may be public, never a link to the applicant: the holder's
name (a person's masked, an organisation's in full with its USCC), the decision's number, what
was decided, its basis and date, and the deciding department. Written only through
`onewindow.publicity.services`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.core.models import Department, Region
from onewindow.core.models.base import TimeStampedModel
from onewindow.publicity.choices import DecisionKind, HolderKind, PublicationStatus

USER = settings.AUTH_USER_MODEL


class Publication(TimeStampedModel):
    kind = models.CharField(_("类别"), max_length=10, choices=DecisionKind.choices)
    # The case a licensing decision came from; kept to find it again, never shown.
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("决定机关"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    decision_number = models.CharField(_("决定文书号"), max_length=100)
    title = models.CharField(_("项目名称"), max_length=200)
    holder_kind = models.CharField(
        _("相对人类别"), max_length=12, choices=HolderKind.choices
    )
    holder_name = models.CharField(_("相对人名称"), max_length=200)
    holder_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    content = models.TextField(_("决定内容"))
    basis = models.TextField(_("依据"), blank=True)
    decided_on = models.DateField(_("决定日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    due = models.DateField(_("公示期限"), db_index=True)
    due_confirmed = models.BooleanField(_("期限按已确认的工作日历计算"), default=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=PublicationStatus.choices,
        default=PublicationStatus.PENDING,
    )
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    late = models.BooleanField(_("逾期公示"), default=False)
    flagged_at = models.DateTimeField(_("逾期提示时间"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("撤销公示原因"), blank=True)

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        indexes = [
            models.Index(fields=["status", "due"], name="publicity_status_due"),
            models.Index(
                fields=["status", "-published_at"], name="publicity_published"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "kind", "decision_number"],
                name="publicity_decision_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.decision_number}"
