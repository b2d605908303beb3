"""Live workbench counters: after a case changes, its department's open workbench pages are
told to refresh their counters (Channels group per department; the consumer is in consumers.py)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def department_group(department_id: int) -> str:
    return f"cases.department.{department_id}"


def case_changed(department_id: int) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(department_group(department_id), {"type": "counters.changed"})
