from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.core.choices import RegionLevel
from onewindow.core.identifiers import validate_region_code, validate_uscc_field
from onewindow.core.models.base import TimeStampedModel


class Region(TimeStampedModel):
    """An administrative region (GB/T 2260; 12-digit statistical codes below county).

    Written only through `onewindow.core.services.regions`, which derives `level` from the
    code, checks the parent the code implies and sets `path`.
    """

    code = models.CharField(_("区划代码"), max_length=12, unique=True, validators=[validate_region_code])
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of codes ("520000/520300/520302/") so "this region and everything
    # below it" is one indexed prefix query.
    path = models.CharField(_("路径"), max_length=80, db_index=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Department(TimeStampedModel):
    """A government department (or authorised organisation) in one region."""

    name = models.CharField(_("部门名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc_field])
    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments")
    parent = models.ForeignKey(
        "self", verbose_name=_("上级部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name
