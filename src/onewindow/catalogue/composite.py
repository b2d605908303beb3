"""一件事: what an applicant fills in and hands in once for all member items of a composite service.

Fields of the members' application forms that share a key are one field, filled once; they must
agree on their type and choices. Attachment fields are not fields of the combined form: the
combined material list takes their place, where materials of the same name are one material,
handed in once and attached to every member that asks for it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from onewindow.catalogue.models import ImplementationItem


@dataclass(frozen=True)
class Member:
    """A member item as the combination reads it: the guide content of one of its versions."""

    item_id: int
    name: str
    content: dict[str, Any]

    @classmethod
    def current(cls, item: ImplementationItem) -> "Member":
        """The item's published guide, as an applicant starting now gets it."""
        return cls(item.pk, item.name, item.current_version.content)


@dataclass(frozen=True)
class CombinedMaterial:
    key: str
    name: str
    required: bool
    # (member item id, the member's own material key) for every member asking for it
    members: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class CombinedApplication:
    fields: list[dict[str, Any]]
    materials: list[CombinedMaterial]
    problems: list[str]  # conflicts between members: a composite with any cannot be saved


def _shape(field: dict[str, Any]) -> tuple:
    """What two fields must share to be one: the type, and the values a choice offers."""
    return field.get("type"), tuple(sorted(str(choice.get("value")) for choice in field.get("choices", [])))


def combine(members: Sequence[Member]) -> CombinedApplication:
    """The combined form and material list of the members' guides."""
    fields: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    materials: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for item in members:
        content = item.content
        for field in content.get("form", {}).get("fields", []):
            if field.get("type") == "attachment":
                continue
            known = fields.get(field["key"])
            if known is None:
                fields[field["key"]] = dict(field)
                owners[field["key"]] = item.name
            elif _shape(known) != _shape(field):
                problems.append(_("成员事项“%(first)s”与“%(second)s”的申请表字段“%(key)s”类型或选项不一致，无法合并填写。")
                                % {"first": owners[field["key"]], "second": item.name, "key": field["key"]})
            else:
                known["required"] = known.get("required", False) or field.get("required", False)
        for material in content.get("materials", []):
            name = material["name"].strip()
            entry = materials.setdefault(name, {"key": material["key"], "required": False, "members": []})
            entry["required"] = entry["required"] or material.get("required", True)
            entry["members"].append((item.item_id, material["key"]))
    keys: set[str] = set()
    combined = []
    for name, entry in materials.items():
        key = entry["key"]
        while key in keys:  # two different materials under one key in different members
            key = f"{key}_{len(keys)}"
        keys.add(key)
        combined.append(CombinedMaterial(key=key, name=name, required=entry["required"],
                                         members=tuple(entry["members"])))
    return CombinedApplication(fields=list(fields.values()), materials=combined, problems=problems)
