"""Reading a bulk import of existing licences (存量证照入库) from Excel, CSV or JSON.

One row per licence. Columns: holder_id, holder_name, valid_from, valid_until, issued_on,
legacy_number, case_number, and one column per field of the licence type, named by the
field's key or its label. JSON is a list of objects with the same names. Rows are returned as
plain dicts for `services.licence_import`, which checks them; a file that cannot be read at all
is refused here with the reason.
"""

import csv
import datetime as dt
import io
import json
from typing import Any

from django.utils.translation import gettext as _

from onewindow.core.errors import InvalidInput
from onewindow.licences.models import LicenceType

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
COLUMNS = (
    "holder_id",
    "holder_name",
    "valid_from",
    "valid_until",
    "issued_on",
    "legacy_number",
    "case_number",
)


def _rows_from_table(header: list[Any], body: list[list[Any]]) -> list[dict[str, Any]]:
    names = [str(name).strip() if name is not None else "" for name in header]
    rows = []
    for values in body:
        if all(value in (None, "") for value in values):
            continue
        rows.append(
            {name: value for name, value in zip(names, values, strict=False) if name}
        )
    return rows


def read_rows(content: bytes, filename: str) -> list[dict[str, Any]]:
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("导入文件不能超过 20 MB。"), field="file")
    name = filename.lower()
    try:
        if name.endswith(".json"):
            data = json.loads(content.decode("utf-8-sig"))
            if not isinstance(data, list) or not all(
                isinstance(row, dict) for row in data
            ):
                raise InvalidInput(
                    _("JSON 导入文件应为对象的列表，每个对象一份证照。"), field="file"
                )
            rows = data
        elif name.endswith(".csv"):
            table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            rows = _rows_from_table(table[0], table[1:]) if table else []
        elif name.endswith(".xlsx"):
            from openpyxl import load_workbook

            sheet = load_workbook(
                io.BytesIO(content), read_only=True, data_only=True
            ).active
            table = [list(row) for row in sheet.iter_rows(values_only=True)]
            rows = _rows_from_table(table[0], table[1:]) if table else []
        else:
            raise InvalidInput(
                _("导入文件应为 .xlsx、.csv 或 .json 格式。"), field="file"
            )
    except (UnicodeDecodeError, ValueError, KeyError, OSError) as exc:
        raise InvalidInput(
            _("导入文件无法读取：%(error)s") % {"error": exc}, field="file"
        ) from None
    except Exception as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(
            _("导入文件无法读取：%(error)s") % {"error": exc}, field="file"
        ) from None
    if not rows:
        raise InvalidInput(_("导入文件中没有数据行。"), field="file")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(
            _("一次最多导入 %(n)s 份证照。") % {"n": MAX_ROWS}, field="file"
        )
    return rows


def split_row(licence_type: LicenceType, row: dict[str, Any]) -> dict[str, Any]:
    """A row as `services.prepare` keywords: the fixed columns, and the fields by key or label."""
    by_label = {spec.get("label"): spec["key"] for spec in licence_type.fields}
    keys = {spec["key"] for spec in licence_type.fields}
    values: dict[str, Any] = {column: row.get(column) for column in COLUMNS}
    fields = {}
    for name, value in row.items():
        if name in COLUMNS:
            continue
        key = name if name in keys else by_label.get(name, name)
        if isinstance(value, dt.datetime):
            value = value.date()
        if value not in (None, ""):
            fields[key] = value.isoformat() if isinstance(value, dt.date) else value
    for column in ("valid_from", "valid_until", "issued_on"):
        value = values[column]
        if isinstance(value, dt.datetime):
            values[column] = value.date()
    values["fields"] = fields
    values["holder_id"] = str(values["holder_id"] or "")
    values["holder_name"] = str(values["holder_name"] or "")
    values["legacy_number"] = str(values["legacy_number"] or "")
    values["case_number"] = str(values["case_number"] or "")
    return values
