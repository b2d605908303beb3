"""An application form as submitted, as rows of text under the labels of its definition: the
applicant's case page and the staff's case page show it the same way."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from onewindow.catalogue.formdef import FormField, parse_form_definition
from onewindow.core.errors import InvalidInput
from onewindow.core.models import Region
from onewindow.core.text import listing


@dataclass
class FormRow:
    """One field: its value as text, or a table as column labels and rows of cells."""

    label: str
    value: str = ""
    columns: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)


def _shown(form_field: FormField, value: Any, regions: Mapping[str, str]) -> str:
    if value in (None, "", [], {}):
        return "—"
    if form_field.type == "choice":
        labels = {choice.value: choice.label for choice in form_field.choices}
        return listing(labels.get(str(v), str(v)) for v in (value if isinstance(value, list) else [value]))
    if form_field.type == "address" and isinstance(value, Mapping):
        region = str(value.get("region") or "")
        return " ".join(part for part in (regions.get(region, region), str(value.get("detail") or "")) if part)
    if form_field.type == "attachment" and isinstance(value, list):
        return _("%(n)s 个文件（见申请材料）") % {"n": len(value)}
    return str(value)


def form_rows(content: Mapping[str, Any], data: Any) -> list[FormRow]:
    """The fields of `data` in the order of the version's form, labelled as the guide labels them."""
    data = data if isinstance(data, Mapping) else {}
    try:
        definition = parse_form_definition(content.get("form") or {})
    except InvalidInput:
        return [FormRow(str(key), str(value)) for key, value in data.items()]
    codes = {value.get("region") for f in definition.fields if f.type == "address"
             for value in [data.get(f.key)] if isinstance(value, Mapping)} - {None}
    regions = dict(Region.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    rows = []
    for form_field in definition.fields:
        if form_field.key not in data:
            continue
        value = data[form_field.key]
        if form_field.type == "table" and isinstance(value, list):
            rows.append(FormRow(form_field.label, columns=[c.label for c in form_field.columns], table=[
                [_shown(c, row.get(c.key), regions) for c in form_field.columns]
                for row in value if isinstance(row, Mapping)
            ]))
        else:
            rows.append(FormRow(form_field.label, _shown(form_field, value, regions)))
    return rows
