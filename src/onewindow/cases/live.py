"""Live workbench counters: after a case changes, its department's open workbench pages are
told to refresh their counters (Channels group per department; the consumer is in consumers.py)."""

import asyncio
import logging
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The event loop of the server's websockets, when requests are handled on threads beside it.
_server_loop: asyncio.AbstractEventLoop | None = None


def serve_from(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop
    _server_loop = loop


def department_group(department_id: int) -> str:
    return f"cases.department.{department_id}"


def case_changed(department_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    group, message = department_group(department_id), {"type": "counters.changed"}
    loop = _server_loop
    if loop is None or not loop.is_running():
        async_to_sync(layer.group_send)(group, message)
        return
    # The in-memory layer's queues belong to the consumers' loop, so the message is sent there;
    # the request does not wait for it, and a failure is logged rather than failing a done change.
    sent = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
    sent.add_done_callback(_log_failure)


def _log_failure(sent) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        logger.error("live counters not sent", exc_info=sent.exception())


@dataclass(frozen=True)
class _CountersChanged:
    department_id: int

    def __call__(self) -> None:
        case_changed(self.department_id)


def case_changed_on_commit(department_id: int) -> None:
    """Tell the department's workbenches once the transaction commits: once per transaction,
    however many of its cases (or changes of one case) it holds."""
    message = _CountersChanged(department_id)
    # The connection's callbacks waiting for the commit (those of a rolled-back savepoint are gone).
    if any(waiting == message for _savepoints, waiting, _robust in transaction.get_connection().run_on_commit):
        return
    transaction.on_commit(message)
