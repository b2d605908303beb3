"""Read-only admin screens for the audit ledger.

Nobody adds, changes or deletes entries or heads here (the database refuses it anyway);
`onewindow audit verify` checks the ledger and `onewindow audit proof` proves one entry.
"""

from django.contrib import admin

from onewindow.core.admin.base import ReadOnlyAdmin
from onewindow.core.models.audit import AuditEntry, TreeHead


class _LedgerAdmin(ReadOnlyAdmin):
    # Ledgers grow into millions of rows: no full COUNT(*) on every page.
    show_full_result_count = False


@admin.register(AuditEntry)
class AuditEntryAdmin(_LedgerAdmin):
    list_display = ["id", "seq", "created_at", "actor_label", "action", "object_type", "object_id", "ip"]
    list_display_links = ["id"]
    search_fields = ["action", "object_type", "object_id", "actor_label"]
    ordering = ["-id"]
    fields = [
        "id", "seq", "created_at", "actor", "actor_label", "action", "object_type", "object_id", "changes", "ip",
        "leaf_hash",
    ]
    readonly_fields = fields


@admin.register(TreeHead)
class TreeHeadAdmin(_LedgerAdmin):
    list_display = ["size", "root_hash", "key_id", "created_at"]
    ordering = ["-size"]
    search_fields = ["root_hash"]
    fields = ["size", "root_hash", "signature", "key_id", "created_at", "frontier"]
    readonly_fields = fields
