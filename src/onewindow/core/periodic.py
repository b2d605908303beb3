"""Periodic sweeps run by the worker (deadline checks, retries, ledger sealing).

Each app registers its sweeps in a `sweeps` module (or any module it imports at start):

    from onewindow.core.periodic import sweep

    @sweep(every_seconds=60)
    def notifications_send() -> int:
        ...  # returns how many rows it handled

The worker's scheduler enqueues a `run_sweep` task when a sweep is due, so sweeps run in
the task workers like any other job and are visible with them. A sweep is not enqueued
again while an earlier run of it is still queued or running. Sweeps must be idempotent
and use conditional updates, since several workers may run at once.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import autodiscover_modules
from django_tasks import task

logger = logging.getLogger(__name__)

SWEEP_QUEUE = "sweeps"


@dataclass
class Sweep:
    name: str
    every_seconds: float
    function: Callable[[], int]
    last_enqueued: float = 0.0


registry: dict[str, Sweep] = {}


def sweep(*, every_seconds: float) -> Callable[[Callable[[], int]], Callable[[], int]]:
    def register(function: Callable[[], int]) -> Callable[[], int]:
        name = f"{function.__module__}.{function.__name__}"
        registry[name] = Sweep(name=name, every_seconds=every_seconds, function=function)
        return function

    return register


def autodiscover() -> None:
    autodiscover_modules("sweeps")


@task(queue_name=SWEEP_QUEUE)
def run_sweep(name: str) -> int:
    """Run one registered sweep; returns how many rows it handled."""
    return registry[name].function()


def _pending_sweeps() -> set[str]:
    """Names of sweeps already queued or running (database backend only)."""
    from django.conf import settings

    if settings.TASK_BACKEND != "database":
        return set()
    from django_tasks_db.models import DBTaskResult

    active = DBTaskResult.objects.filter(
        task_path=run_sweep.module_path, status__in=["READY", "RUNNING"]
    ).values_list("args_kwargs", flat=True)
    return {item["args"][0] for item in active if item.get("args")}


def enqueue_due(now: float | None = None) -> list[str]:
    """Enqueue every sweep whose interval has passed; returns the names enqueued."""
    now = time.monotonic() if now is None else now
    due = [item for item in registry.values() if not item.last_enqueued or now - item.last_enqueued >= item.every_seconds]
    if not due:
        return []
    pending = _pending_sweeps()
    enqueued = []
    for item in due:
        item.last_enqueued = now
        if item.name in pending:
            continue
        run_sweep.enqueue(item.name)
        enqueued.append(item.name)
    return enqueued
