"""Template access to the working-day calendar (the admin dashboard's missing-year alert)."""

from django import template

from onewindow.core import workdays

register = template.Library()


@register.simple_tag
def calendar_missing_years() -> list[int]:
    """This year and next year if they have no confirmed holiday schedule."""
    return workdays.missing_years()
