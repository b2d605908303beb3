"""Demo reference data: a real slice of regions (贵州省 → 遵义市 → its counties → some
townships) and a dozen departments of 遵义市 and 红花岗区.

`load` is idempotent: rows are matched by region code and by USCC, written through the
services (so every change is audited), and rows already as described are left alone.
"""

import json
from pathlib import Path
from typing import Any

from django.db import transaction

from onewindow.core.identifiers import make_uscc
from onewindow.core.models import Department, Region
from onewindow.core.services.regions import department_create, department_update, region_create, region_update

DATA_FILE = Path(__file__).resolve().parent / "data" / "demo_regions.json"

# GB 32100: registration authority 1 = 机构编制, institution category 1 = 机关.
REGISTRATION_AUTHORITY = "1"
INSTITUTION_CATEGORY = "1"


def demo_data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def demo_uscc(entry: dict[str, Any]) -> str:
    """The deterministic USCC of a demo department entry."""
    return make_uscc(REGISTRATION_AUTHORITY, INSTITUTION_CATEGORY, entry["region"][:6], entry["organisation_base"])


@transaction.atomic
def load(*, actor: Any = None) -> dict[str, int]:
    """Create or update the demo regions and departments; returns counts per outcome."""
    data = demo_data()
    counts = {
        f"{kind}_{outcome}": 0 for kind in ("regions", "departments") for outcome in ("created", "updated", "unchanged")
    }
    regions: dict[str, Region] = {}
    # Parents first: 6-digit codes before 12-digit ones, and among codes of one length a
    # parent's code (trailing zeros) sorts before its children's.
    for entry in sorted(data["regions"], key=lambda e: (len(e["code"]), e["code"])):
        region = Region.objects.filter(code=entry["code"]).first()
        if region is None:
            parent = regions[entry["parent"]] if entry["parent"] else None
            region = region_create(actor=actor, code=entry["code"], name=entry["name"], parent=parent)
            counts["regions_created"] += 1
        elif region.name != entry["name"]:
            region = region_update(actor=actor, region=region, name=entry["name"])
            counts["regions_updated"] += 1
        else:
            counts["regions_unchanged"] += 1
        regions[entry["code"]] = region

    departments: dict[str, Department] = {}
    for entry in data["departments"]:
        uscc = demo_uscc(entry)
        region = regions[entry["region"]]
        parent = departments[entry["parent"]] if entry["parent"] else None
        department = Department.objects.filter(uscc=uscc).first()
        if department is None:
            department = department_create(
                actor=actor,
                name=entry["name"],
                short_name=entry["short_name"],
                uscc=uscc,
                region=region,
                parent=parent,
            )
            counts["departments_created"] += 1
        elif (department.name, department.short_name, department.region_id, department.parent_id) != (
            entry["name"], entry["short_name"], region.pk, parent.pk if parent else None
        ):
            department = department_update(
                actor=actor,
                department=department,
                name=entry["name"],
                short_name=entry["short_name"],
                region=region,
                parent=parent,
            )
            counts["departments_updated"] += 1
        else:
            counts["departments_unchanged"] += 1
        departments[entry["organisation_base"]] = department
    return counts
