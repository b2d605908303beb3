"""Periodic sweeps run by the worker (deadline checks, retries, ledger sealing).

Each app registers its sweeps in a `sweeps` module:

    from onewindow.core.periodic import sweep

    @sweep(every_seconds=60)
    def notifications_retry() -> int:
        ...  # returns how many rows it handled

The worker calls every sweep whose interval has passed; sweeps must be idempotent and
use conditional updates, since two workers may run at once.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)


@dataclass
class Sweep:
    name: str
    every_seconds: float
    function: Callable[[], int]
    last_run: float = field(default=0.0)


registry: dict[str, Sweep] = {}


def sweep(*, every_seconds: float) -> Callable[[Callable[[], int]], Callable[[], int]]:
    def register(function: Callable[[], int]) -> Callable[[], int]:
        name = f"{function.__module__}.{function.__name__}"
        registry[name] = Sweep(name=name, every_seconds=every_seconds, function=function)
        return function

    return register


def autodiscover() -> None:
    autodiscover_modules("sweeps")


def run_due(now: float | None = None) -> dict[str, int]:
    """Run every sweep whose interval has passed; a failing sweep is logged, not fatal."""
    now = time.monotonic() if now is None else now
    handled: dict[str, int] = {}
    for item in registry.values():
        if item.last_run and now - item.last_run < item.every_seconds:
            continue
        item.last_run = now
        try:
            handled[item.name] = item.function()
        except Exception:
            logger.exception("sweep %s failed", item.name)
    return handled
