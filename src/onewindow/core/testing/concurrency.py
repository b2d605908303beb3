"""Several people acting at the same moment, for the tests that prove one of them wins."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from onewindow.core.errors import DomainError


def at_once(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run the actions in threads released together, each in its own database connection;
    returns each action's result, or the DomainError it raised, in order. Needs a test with
    `transaction=True`, so that each thread sees what the others commit."""
    results: list[Any] = [None] * len(actions)
    barrier = threading.Barrier(len(actions))

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except DomainError as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
