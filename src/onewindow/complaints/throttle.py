"""Limits on intake: how many requests one address (not signed in) or one account may file in
an hour, counted in the cache. Hotline operators and staff filing for callers are not limited."""

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from onewindow.core.errors import DomainError

WINDOW_SECONDS = 3600


class TooMany(DomainError):
    """Too many submissions in the window (HTTP 429)."""

    status_code = 429


def _limit(anonymous: bool) -> int:
    name = (
        "COMPLAINTS_ANONYMOUS_PER_HOUR" if anonymous else "COMPLAINTS_ACCOUNT_PER_HOUR"
    )
    return int(getattr(settings, name, 5 if anonymous else 20))


def take(key: str, *, anonymous: bool) -> None:
    """Count one submission under `key`; TooMany once the hour's limit is reached."""
    cache_key = f"complaints.intake:{key}"
    if cache.add(cache_key, 1, WINDOW_SECONDS):
        return
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between the two calls
        cache.add(cache_key, 1, WINDOW_SECONDS)
        return
    if count > _limit(anonymous):
        raise TooMany(_("提交过于频繁，请一小时后再试，或拨打12345热线。"))
