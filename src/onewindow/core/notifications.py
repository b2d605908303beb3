"""Placeholder: the notification interface (inbox, SMS, email), filled in by the notifications work."""

from collections.abc import Sequence
from typing import Any


def notify(*, recipient: Any, subject: str, body: str, channels: Sequence[str] = ("inbox",), kind: str = "general") -> None:
    return None
