"""Formatting of figures on the analytics pages."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

GROUP_LABELS = {
    "month": _("按月"),
    "department": _("按部门"),
    "item": _("按事项"),
    "channel": _("按申报来源"),
    "region": _("按行政区划"),
}


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@register.filter
def group_label(value: str) -> str:
    return str(GROUP_LABELS.get(value, value))
