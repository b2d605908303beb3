"""Limits on public verification by number, so licence numbers cannot be harvested by trying
them one after another: per client address, a number of lookups a minute, and far fewer
misses (numbers that are not in the library) an hour. Counters live in the cache: shared by
every server with Redis, per process with the local-memory cache.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from onewindow.core.errors import DomainError


class TooManyRequests(DomainError):
    """Over the limit (HTTP 429)."""

    status_code = 429


def _bump(key: str, ttl: int) -> int:
    if cache.add(key, 1, ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


def _misses_key(ip: str) -> str:
    return f"licences:verify-miss:{ip}:{int(time.time() // 3600)}"


def check_lookup(ip: str | None) -> None:
    """Count one lookup by `ip`; refuse it when the minute's or the hour's misses are used up."""
    address = ip or "unknown"
    misses = cache.get(_misses_key(address), 0)
    if misses >= settings.LICENCE_VERIFY_MISSES_PER_HOUR:
        raise TooManyRequests(_("查询了过多不存在的证照编号，请一小时后再试。"))
    lookups = _bump(f"licences:verify:{address}:{int(time.time() // 60)}", 120)
    if lookups > settings.LICENCE_VERIFY_PER_MINUTE:
        raise TooManyRequests(_("核验过于频繁，请稍后再试。"))


def record_miss(ip: str | None) -> None:
    _bump(_misses_key(ip or "unknown"), 7200)
