"""Live workbench counters: a staff member's open workbench page listens on a websocket and
refreshes its queue badges whenever a case of one of their departments changes (`live.py`
sends "counters.changed" to the department's group after each committed case action).

Only a signed-in, active staff account whose session passed the second factor (as the
workbench pages require) may listen; anyone else is refused at the handshake. The message
carries no case data: the page fetches the counts over HTTP, scoped as every read is.
"""

import time
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.middleware import session_expiry
from onewindow.accounts.permissions import staff_departments
from onewindow.cases import live

# Close code for a refused handshake (4000–4999 are the application's own).
REFUSED = 4403


def _listening_departments(scope: dict[str, Any]) -> list[int] | None:
    """The departments whose changes the connection may hear, or None to refuse it."""
    user = scope.get("user")
    session = scope.get("session")
    if user is None or not user.is_authenticated or not user.is_active or user.kind != AccountKind.STAFF:
        return None
    if session is None or session_expiry(SimpleNamespace(session=session), time.time()) is not None:
        return None
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if isinstance(persistent_id, str) else None
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return list(staff_departments(user).values_list("pk", flat=True))


class CaseCountersConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.listening: list[str] = []
        departments = await database_sync_to_async(_listening_departments)(self.scope)
        if departments is None:
            await self.close(code=REFUSED)
            return
        for department_id in departments:
            group = live.department_group(department_id)
            await self.channel_layer.group_add(group, self.channel_name)
            self.listening.append(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "listening", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page only listens."""

    async def counters_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "counters.changed"})
