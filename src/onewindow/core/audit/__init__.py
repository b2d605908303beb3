"""The audit ledger: every state change writes one entry in its own transaction.

    from onewindow.core import audit
    audit.record(actor=user, action="department.create", target=dept, after={"name": dept.name})

`record` only inserts a row: no lock, no hashing, nothing scheduled, so a business
transaction never waits on the ledger. The worker's sweep (`ledger.seal_sweep`, every 2 s)
seals committed entries into the Merkle tree and signs a new tree head; `onewindow audit
verify` checks the whole ledger.
"""

import json
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from onewindow.core import request_context
from onewindow.core.models import AuditEntry
from onewindow.core.prepared import insert


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
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must be called inside the service's transaction")
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    actor_label = actor.get_username() if is_user else (str(actor) if actor else "system")
    ip = request_context.client_ip.get()
    # NUL separates the fields of a sealed leaf (ledger.entry_data); keeping it out of every
    # text field is what makes that encoding unambiguous. JSON escapes it in `changes`.
    if any("\x00" in value for value in (actor_label, action, object_type, object_id, ip or "")):
        raise ValueError("audit fields must not contain NUL characters")
    entry = AuditEntry(
        created_at=timezone.now(),
        actor=actor if is_user else None,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=canonical_json({"before": before or {}, "after": after or {}}),
        ip=ip,
    )
    insert(entry, using=connection.alias)  # a plain INSERT, its SQL made once; no signals for entries
    return entry
