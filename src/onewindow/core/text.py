"""Small pieces of user-facing text shared by every app."""

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from onewindow.core.errors import InvalidInput


def listing(values: Iterable[object]) -> str:
    """Items joined the way the reader's language lists them ("甲、乙" / "A, B")."""
    return pgettext("list separator", "、").join(str(value) for value in values)


def clean_text(value: Any, *, field: str, message: str, max_length: int = 4000, required: bool = True) -> str:
    """Typed text without surrounding blanks; refused (400 naming `field`) when required and
    empty (with `message`) or longer than `max_length`."""
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(message, field=field)
    if len(text) > max_length:
        raise InvalidInput(_("内容过长（不超过 %(n)s 字）。") % {"n": max_length}, field=field)
    return text


def unstorable(text: str) -> bool:
    """Text no database can store: a NUL character (PostgreSQL refuses it) or an unpaired
    surrogate (JSON escapes allow it, UTF-8 does not)."""
    return "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
