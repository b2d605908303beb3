"""Template helpers of the public catalogue pages.

    {% load catalogue_public %}
    {% guide_flowchart guide.content %}      the process flowchart, inline SVG
    {{ item.item_type|item_type_label }}     a code's label
"""

from typing import Any

from django import template
from django.utils.safestring import mark_safe

from onewindow.catalogue.choices import CaseType, ItemList, ItemType, OnlineDepth
from onewindow.catalogue.flowchart import flowchart_svg
from onewindow.catalogue.guide import choice_label, days_text

register = template.Library()


@register.simple_tag
def guide_flowchart(content: Any) -> str:
    """The flowchart of a version's content; every text in it is XML-escaped by flowchart_svg."""
    return mark_safe(flowchart_svg(content if isinstance(content, dict) else {}))


@register.filter
def item_type_label(value: Any) -> str:
    return choice_label(ItemType, value)


@register.filter
def case_type_label(value: Any) -> str:
    return choice_label(CaseType, value)


@register.filter
def online_depth_label(value: Any) -> str:
    return choice_label(OnlineDepth, value)


@register.filter
def list_label(value: Any) -> str:
    return choice_label(ItemList, value)


@register.filter
def working_days(value: Any) -> str:
    return days_text(value)
