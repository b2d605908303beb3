"""Per-request facts (client IP) that services and the audit ledger read, and a memo for facts
read once per request (the actor's role assignments).

Set by RequestContextMiddleware for web requests; the CLI and the worker leave them empty, so
outside a request nothing is memoised and every read goes to the database.
"""

import contextvars
from collections.abc import Callable, Iterator, Hashable
from contextlib import contextmanager
from typing import TypeVar

client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
_memo: contextvars.ContextVar[dict[Hashable, object] | None] = contextvars.ContextVar("request_memo", default=None)

T = TypeVar("T")


@contextmanager
def bind(*, ip: str | None) -> Iterator[None]:
    ip_token = client_ip.set(ip)
    memo_token = _memo.set({})
    try:
        yield
    finally:
        client_ip.reset(ip_token)
        _memo.reset(memo_token)


def memoised(key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, once per request for `key`; every time outside a request."""
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]  # type: ignore[return-value]


def forget() -> None:
    """Drop what this request memoised (a grant it read has just changed)."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()
