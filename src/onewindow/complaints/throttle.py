"""Limits counted in the cache: how many requests one address (not signed in) or one account may
file in an hour (hotline operators and staff filing for callers are not limited), and how many
wrong number and query code pairs one address may try in the progress lookup in an hour (the
query code is all that stands between a guessable number and the request's progress)."""

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


LOOKUP_FAILURES = 10


def _lookup_key(address: str) -> str:
    return f"complaints.progress.failures:{address}"


def check_lookup(address: str) -> None:
    """TooMany once `address` has made LOOKUP_FAILURES wrong lookups this hour."""
    if (cache.get(_lookup_key(address)) or 0) >= LOOKUP_FAILURES:
        raise TooMany(_("查询失败次数过多，请一小时后再试。"))


def lookup_failed(address: str) -> None:
    if not cache.add(_lookup_key(address), 1, WINDOW_SECONDS):
        try:
            cache.incr(_lookup_key(address))
        except ValueError:  # expired between the two calls
            cache.add(_lookup_key(address), 1, WINDOW_SECONDS)
