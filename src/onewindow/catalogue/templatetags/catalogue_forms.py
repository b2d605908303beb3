"""Rendering of application forms (申请表) from their definition.

    {% load catalogue_forms %}
    <form method="post" enctype="multipart/form-data" novalidate>
      {% csrf_token %}
      {% render_application_form definition data errors %}
      <button type="submit">提交</button>
    </form>

`definition` is a FormDefinition or its JSON; `data` is what `formdef.data_from_post` or
`formdef.validate_submission` returned (or `formdef.initial_data` for a blank form); `errors` is
`FormErrors.errors` or the FormErrors itself. Both may be omitted. The page supplies the <form>
element, the CSRF token and the submit button; this renders the fields and loads
catalogue-form.js (show/hide, table rows) and catalogue.css.

Without JavaScript every field is shown and the server drops what its show_if hides.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import template
from django.core.exceptions import ValidationError
from django.utils import timezone

from onewindow.catalogue.formdef import (
    FORM_ERROR_KEY,
    FormDefinition,
    FormErrors,
    FormField,
    date_bound,
    field_name,
    parse_form_definition,
    show_if_json,
)
from onewindow.core.identifiers import normalise_region_code

register = template.Library()

# A required single choice with this many options or fewer shows as radio buttons; longer lists,
# and optional ones (radios cannot be cleared), as a select.
RADIO_MAX_CHOICES = 5
ROW_PLACEHOLDER = "__row__"


@dataclass
class Option:
    value: str
    label: str
    selected: bool


@dataclass
class Row:
    index: int | str
    number: int | str
    cells: list["Control"]
    error: str = ""


@dataclass
class Control:
    """One field, or one table cell, ready for the templates."""

    field: FormField
    name: str
    widget: str  # input, textarea, select, radios, checkboxes, address, table, attachment
    in_cell: bool = False
    value: str = ""
    values: list[str] = field(default_factory=list)  # attachment tokens
    options: list[Option] = field(default_factory=list)
    input_type: str = "text"
    inputmode: str = ""
    autocomplete: str = ""
    maxlength: int | None = None
    min: str = ""
    max: str = ""
    region: str = ""
    detail: str = ""
    region_name: str = ""
    error: str = ""
    region_error: str = ""
    detail_error: str = ""
    show_if: str = ""
    rows: list[Row] = field(default_factory=list)
    template_row: Row | None = None
    next_row: int = 0

    @property
    def id(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        return self.field.key

    @property
    def describedby(self) -> str:
        ids = []
        if self.field.help and not self.in_cell:
            ids.append(f"{self.id}-help")
        if self.error:
            ids.append(f"{self.id}-error")
        return " ".join(ids)

    @property
    def grouped(self) -> bool:
        """Whether the field holds several controls and is labelled by a legend, not a label."""
        return self.widget in ("radios", "checkboxes", "address", "table")

    @property
    def invalid(self) -> bool:
        return bool(self.error or self.region_error or self.detail_error) or any(
            row.error or any(cell.invalid for cell in row.cells) for row in self.rows
        )


class _Errors:
    """The errors to show; remembers which were placed next to a control."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = {str(key): str(message) for key, message in errors.items()}
        self.used: set[str] = set()

    def take(self, path: str | None) -> str:
        """The message for `path`; None is the path of a row template, which has no errors."""
        if path is not None and path in self.errors:
            self.used.add(path)
            return self.errors[path]
        return ""

    def rest(self) -> list[str]:
        return [message for key, message in self.errors.items() if key not in self.used]


def _text_of(value: Any) -> str:
    # Only scalars are echoed back: an odd value (a list where text was expected) shows as empty.
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (str, int, float, Decimal)):
        return str(value)
    return ""


def _texts_of(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str)]
    return [value] if isinstance(value, str) and value else []


class _Builder:
    def __init__(self, errors: _Errors) -> None:
        self.errors = errors
        self.today = timezone.localdate()
        self._region_names: dict[str, str] = {}

    def region_name(self, code: str) -> str:
        try:
            code = normalise_region_code(code)
        except ValidationError:  # a malformed code simply has no name to show
            return ""
        if code not in self._region_names:
            from onewindow.core.models import Region  # models load after the template library

            self._region_names[code] = Region.objects.filter(code=code).values_list("name", flat=True).first() or ""
        return self._region_names[code]

    def control(
        self, definition: FormField, value: Any, name: str, path: str | None, *, in_cell: bool = False
    ) -> Control:
        kind = definition.type
        control = Control(field=definition, name=name, widget="input", in_cell=in_cell)
        control.error = self.errors.take(path)
        if kind == "text":
            control.value = _text_of(value)
            control.widget = "textarea" if definition.multiline and not in_cell else "input"
            control.maxlength = definition.max_length
            control.input_type, control.inputmode, control.autocomplete = {
                "phone": ("tel", "tel", "tel"),
                "mobile": ("tel", "tel", "tel"),
                "email": ("email", "email", "email"),
                "postcode": ("text", "numeric", "postal-code"),
            }.get(definition.format, ("text", "", ""))
            if definition.format == "postcode":
                control.maxlength = 6
        elif kind == "number":
            control.value = _text_of(value)
            control.inputmode = "decimal" if definition.decimals or (definition.min or 0) < 0 else "numeric"
        elif kind == "date":
            control.value = _text_of(value)
            control.input_type = "date"
            low, high = (date_bound(definition.min_date, self.today), date_bound(definition.max_date, self.today))
            control.min = low.isoformat() if low else ""
            control.max = high.isoformat() if high else ""
        elif kind in ("id_number", "uscc"):
            control.value = _text_of(value)
            control.maxlength = 18
            control.autocomplete = "off"
        elif kind == "choice":
            picked = set(_texts_of(value))
            control.options = [Option(c.value, c.label, c.value in picked) for c in definition.choices]
            if definition.multiple:
                control.widget = "select" if in_cell else "checkboxes"
            elif definition.required and len(definition.choices) <= RADIO_MAX_CHOICES and not in_cell:
                control.widget = "radios"
            else:
                control.widget = "select"
        elif kind == "address":
            control.widget = "address"
            parts = value if isinstance(value, Mapping) else {}
            control.region = _text_of(parts.get("region"))
            control.detail = _text_of(parts.get("detail"))
            control.region_name = self.region_name(control.region) if control.region else ""
            control.region_error = self.errors.take(path and f"{path}.region")
            control.detail_error = self.errors.take(path and f"{path}.detail")
        elif kind == "attachment":
            control.widget = "attachment"
            control.values = _texts_of(value)
        elif kind == "table":
            control.widget = "table"
            given = [row if isinstance(row, Mapping) else {} for row in value] if isinstance(value, list) else []
            # An empty table still shows the rows it needs, so it can be filled without the script.
            count = len(given) or max(definition.min_rows, 1)
            control.rows = [self.row(definition, given[i] if i < len(given) else {}, i, path) for i in range(count)]
            control.template_row = self.row(definition, {}, ROW_PLACEHOLDER, None)
            control.next_row = count
        return control

    def row(self, table: FormField, values: Mapping[str, Any], index: int | str, path: str | None) -> Row:
        cells = []
        for column in table.columns:
            name = field_name(table.key, index, column.key)
            cell_path = f"{path}.{index}.{column.key}" if path is not None else None
            cells.append(self.control(column, values.get(column.key), name, cell_path, in_cell=True))
        error = self.errors.take(path and f"{path}.{index}")
        number = index + 1 if isinstance(index, int) else ""
        return Row(index=index, number=number, cells=cells, error=error)


@register.inclusion_tag("catalogue/includes/form_fields.html")
def render_application_form(
    definition: FormDefinition | Mapping[str, Any], data: Mapping[str, Any] | None = None, errors: Any = None
) -> dict[str, Any]:
    """Every field of the form, with the values in `data` and the messages in `errors`."""
    if not isinstance(definition, FormDefinition):
        definition = parse_form_definition(definition)
    if isinstance(errors, FormErrors):
        errors = errors.errors
    found = _Errors(errors if isinstance(errors, Mapping) else {})
    data = data if isinstance(data, Mapping) else {}
    builder = _Builder(found)
    fields = []
    for definition_field in definition.fields:
        control = builder.control(
            definition_field, data.get(definition_field.key), field_name(definition_field.key), definition_field.key
        )
        control.show_if = show_if_json(definition_field.show_if) if definition_field.show_if else ""
        fields.append(control)
    form_error = found.take(FORM_ERROR_KEY)
    # Messages no control shows (an unknown key, a column that does not exist) are listed on top.
    other_errors = ([form_error] if form_error else []) + found.rest()
    return {"fields": fields, "form_errors": other_errors, "required_note": any(f.field.required for f in fields)}
