"""The electronic archive of a case (电子档案): a manifest of the case's facts, its documents,
its materials, its timeline and its audit entries, each file and entry with its hash.

The manifest is built once when the case is archived and its SHA-256 is written to the audit
ledger with the archive action, so a package exported later can be checked against both.
"""

import datetime as dt
import hashlib
import json
from typing import Any

from onewindow.cases.models import Case
from onewindow.core.models import AuditEntry

MANIFEST_VERSION = 1


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The canonical encoding the manifest's hash is taken over."""
    return json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _case_facts(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "item": case.item.name,
        "impl_code": case.item.impl_code,
        "version": case.version.number,
        "version_sha256": case.version.content_sha256,
        "department": case.department.name,
        "department_uscc": case.department.uscc,
        "region": case.region.code,
        "applicant": case.applicant.real_name or case.applicant.username,
        "channel": case.channel,
        "form_data": case.form_data,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "promised_due": case.promised_due,
        "legal_due": case.legal_due,
        "decision": case.decision,
        "decided_at": case.decided_at,
        "decision_opinion": case.decision_opinion,
        "decision_basis": case.decision_basis,
        "result_number": case.result_number,
        "completed_at": case.completed_at,
        "delivery_method": case.delivery_method,
        "delivered_at": case.delivered_at,
        "final_status": case.status,
        "visits": case.visits,
    }


def build_manifest(case: Case, *, archived_at: dt.datetime) -> dict[str, Any]:
    """The manifest as plain JSON values (dates and times as text), exactly as it is stored in
    `CaseArchive.manifest` and read back: its canonical bytes hash the same before and after."""
    return json.loads(manifest_bytes(_manifest(case, archived_at=archived_at)))


def _manifest(case: Case, *, archived_at: dt.datetime) -> dict[str, Any]:
    audit_entries = AuditEntry.objects.filter(object_type=case._meta.label_lower, object_id=str(case.pk)).order_by("id")
    return {
        "manifest_version": MANIFEST_VERSION,
        "archived_at": archived_at,
        "case": _case_facts(case),
        "documents": [
            {"kind": d.kind, "number": d.number, "issued_at": d.issued_at, "facts": d.facts}
            for d in case.documents.order_by("issued_at", "id")
        ],
        "materials": [
            {"material_key": m.material_key, "name": m.file.original_name if m.file else "",
             "sha256": m.file.sha256 if m.file else "", "size": m.file.size if m.file else 0,
             "token": m.file.token if m.file else "", "licence_number": m.licence_number}
            for m in case.materials.select_related("file").order_by("material_key", "id")
        ],
        "steps": [
            {"name": s.name, "kind": s.kind, "assignee": s.assignee.get_username() if s.assignee else "",
             "started_at": s.started_at, "finished_at": s.finished_at, "outcome": s.outcome, "opinion": s.opinion}
            for s in case.steps.select_related("assignee").order_by("started_at", "id")
        ],
        "special_procedures": [
            {"name": r.name, "kind": r.kind, "started_at": r.started_at, "ended_at": r.ended_at,
             "days_used": r.days_used, "result": r.result}
            for r in case.special_procedures.order_by("started_at", "id")
        ],
        "events": [
            {"at": e.at, "action": e.action, "from": e.from_status, "to": e.to_status, "note": e.note,
             "actor": e.actor.get_username() if e.actor else "system"}
            for e in case.events.select_related("actor").order_by("at", "id")
        ],
        "audit_entries": [
            {"id": entry.pk, "action": entry.action, "created_at": entry.created_at,
             "changes_sha256": hashlib.sha256(entry.changes.encode()).hexdigest()}
            for entry in audit_entries
        ],
    }
