"""Element-by-element differences between two versions of an item's content.

Lists of keyed entries (materials, steps, form fields, fees, questions) are matched by their key,
so a reordered list is not reported as every entry changed.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from onewindow.catalogue.schema import LABELS

# The key that identifies an entry in each list of objects.
_ENTRY_KEYS = {"materials": "key", "steps": "key", "fields": "key", "columns": "key", "fees": "name",
               "faq": "question", "special_procedures": "name", "choices": "value"}


@dataclass(frozen=True)
class Change:
    path: tuple[str, ...]
    label: str
    kind: str  # "added", "removed", "changed"
    old: Any
    new: Any

    KIND_LABELS = {"added": _("新增"), "removed": _("删除"), "changed": _("修改")}

    @property
    def kind_label(self) -> str:
        return str(self.KIND_LABELS[self.kind])


def _label(path: tuple[str, ...]) -> str:
    parts = []
    for part in path:
        if part.startswith("[") and parts:
            parts[-1] = f"{parts[-1]}{part}"
        else:
            parts.append(str(LABELS.get(part, part)))
    return " › ".join(parts)


def _is_keyed(name: str, value: Any) -> bool:
    key = _ENTRY_KEYS.get(name)
    return key is not None and isinstance(value, list) and all(isinstance(v, dict) and key in v for v in value)


def _walk(path: tuple[str, ...], old: Any, new: Any, out: list[Change]) -> None:
    if old == new:
        return
    name = path[-1] if path else ""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                out.append(Change(path + (key,), _label(path + (key,)), "removed", old[key], None))
            elif key not in old:
                out.append(Change(path + (key,), _label(path + (key,)), "added", None, new[key]))
            else:
                _walk(path + (key,), old[key], new[key], out)
        return
    if _is_keyed(name, old) and _is_keyed(name, new):
        key = _ENTRY_KEYS[name]
        old_entries = {entry[key]: entry for entry in old}
        new_entries = {entry[key]: entry for entry in new}
        for entry_key in [*old_entries, *(k for k in new_entries if k not in old_entries)]:
            entry_path = path + (f"[{entry_key}]",)
            if entry_key not in new_entries:
                out.append(Change(entry_path, _label(entry_path), "removed", old_entries[entry_key], None))
            elif entry_key not in old_entries:
                out.append(Change(entry_path, _label(entry_path), "added", None, new_entries[entry_key]))
            else:
                _walk(entry_path, old_entries[entry_key], new_entries[entry_key], out)
        if [e[key] for e in old if e[key] in new_entries] != [e[key] for e in new if e[key] in old_entries]:
            out.append(Change(path, _label(path), "changed", [e[key] for e in old], [e[key] for e in new]))
        return
    out.append(Change(path, _label(path), "changed", old, new))


def diff_content(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """The changes from `old` to `new` (everything is "added" when there is no old version)."""
    changes: list[Change] = []
    _walk((), old or {}, new, changes)
    return changes
