"""Per-request facts (client IP, request id) that services and the audit ledger read.

Set by RequestContextMiddleware for web requests; the CLI and the worker leave them empty.
"""

import contextvars
from contextlib import contextmanager
from collections.abc import Iterator

client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


@contextmanager
def bind(*, ip: str | None) -> Iterator[None]:
    token = client_ip.set(ip)
    try:
        yield
    finally:
        client_ip.reset(token)
