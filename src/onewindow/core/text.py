"""Small pieces of user-facing text shared by every app."""

from collections.abc import Iterable

from django.utils.translation import pgettext


def listing(values: Iterable[object]) -> str:
    """Items joined the way the reader's language lists them ("甲、乙" / "A, B")."""
    return pgettext("list separator", "、").join(str(value) for value in values)
