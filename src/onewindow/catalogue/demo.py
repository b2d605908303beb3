"""The demo catalogue: realistic items of the demo city's departments, published.

`load` imports `data/demo_catalogue.json` through the catalogue import (as the platform
administrator), then takes every imported draft through legal review (the demo legal reviewer)
and publishes it, as a real first publication would; then it composes and publishes the demo
"one thing" services (一件事) of those items. It is idempotent: items and composites already
present are left alone.
"""

import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from onewindow.accounts.models import User
from onewindow.catalogue import exchange, services
from onewindow.catalogue.choices import MemberDenialRule, VersionStatus
from onewindow.catalogue.codes import make_impl_code
from onewindow.catalogue.models import CompositeService, ImplementationItem, ItemVersion
from onewindow.core.errors import DomainError

DATA_FILE = Path(__file__).resolve().parent / "data" / "demo_catalogue.json"
PUBLISHER = "admin"
LEGAL_REVIEWER = "legal"


def demo_document() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@transaction.atomic
def load() -> dict[str, int]:
    """Import and publish the demo items not yet in the catalogue; returns counts."""
    publisher = User.objects.filter(username=PUBLISHER).first()
    reviewer = User.objects.filter(username=LEGAL_REVIEWER).first()
    if publisher is None or reviewer is None:
        return {"published": 0, "skipped": 0}
    document = demo_document()
    existing = set(ImplementationItem.objects.values_list("impl_code", flat=True))
    missing = [entry for entry in document["items"] if not _known(entry, existing)]
    if not missing:
        return {"published": 0, "skipped": len(document["items"]), "composites": _compose(publisher)}
    payload = json.dumps({**document, "items": missing}, ensure_ascii=False).encode()
    report = exchange.catalogue_import(actor=publisher, file=payload, filename="demo_catalogue.json", dry_run=False)
    if not report.written:
        raise DomainError(_("演示目录导入失败：%(errors)s") % {"errors": "；".join(str(e) for e in report.errors[:5])})
    drafts = ItemVersion.objects.filter(status=VersionStatus.DRAFT, created_by=publisher, item__current_version__isnull=True)
    published = 0
    for draft in drafts.select_related("item"):
        draft = services.version_update(actor=publisher, version=draft, content=draft.content,
                                        change_note=_("演示目录首次发布"))
        draft = services.version_submit(actor=publisher, version=draft)
        draft = services.version_approve(actor=reviewer, version=draft, opinion=_("符合法律法规规定。"))
        services.version_publish_urgent(actor=publisher, version=draft, reason=_("演示目录首次发布"))
        published += 1
    return {"published": published, "skipped": len(document["items"]) - len(missing),
            "composites": _compose(publisher)}


# 一件事 of the demo city: (code, name, lead item, member item names, joint limit, denial rule).
COMPOSITES = [
    ("YJS-KBQY", "开办企业一件事", "公司设立登记", ["公司设立登记", "发票领用", "就业登记"], 1,
     MemberDenialRule.DENY_ALL),
    ("YJS-XSECS", "新生儿出生一件事", "生育登记", ["生育登记", "户口迁入登记", "社会保障卡申领"], 5,
     MemberDenialRule.PARTIAL),
]


def _compose(publisher: User) -> int:
    """Compose and publish the demo composites not yet present; returns how many were made."""
    made = 0
    existing = set(CompositeService.objects.values_list("code", flat=True))
    for code, name, lead, members, days, rule in COMPOSITES:
        if code in existing:
            continue
        by_name = {item.name: item for item in ImplementationItem.objects.filter(
            name__in=members, current_version__isnull=False).select_related("current_version", "department")}
        items = [by_name[member] for member in members if member in by_name]
        if len(items) != len(members):
            continue  # the demo catalogue was changed: leave the composite out rather than half of it
        composite = services.composite_save(actor=publisher, composite_service=None, code=code, name=name,
                                           lead_department=by_name[lead].department, items=items,
                                           joint_limit_days=days, denial_rule=rule, merge_results=False)
        services.composite_publish(actor=publisher, composite_service=composite)
        made += 1
    return made


def _known(entry: dict[str, Any], existing: set[str]) -> bool:
    code = entry.get("impl_code") or ""
    if code:
        return code in existing
    basic = entry["basic"]
    return make_impl_code(uscc=entry["department_uscc"], exercise_level=basic["exercise_level"],
                          basic_code=basic["basic_code"]) in existing
