"""The audit ledger: every state change writes one entry in its own transaction.

    from onewindow.core import audit
    audit.record(actor=user, action="department.create", target=dept, after={"name": dept.name})

`record` only inserts a row (no global lock); `onewindow.core.audit.ledger` seals entries
into the Merkle tree after commit.
"""

import json
from typing import Any

from django.db import models, transaction

from onewindow.core import request_context
from onewindow.core.models import AuditEntry


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the caller's transaction (services are atomic)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside the service's transaction")
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_label=actor.get_username() if is_user else (str(actor) if actor else "system"),
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=canonical_json({"before": before or {}, "after": after or {}}),
        ip=request_context.client_ip.get(),
    )
    from onewindow.core.audit import ledger

    transaction.on_commit(ledger.request_seal)
    return entry
