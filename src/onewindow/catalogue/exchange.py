"""Bulk import and export of the service catalogue: one exchange model, three encodings.

The exchange model is a list of service themes and a list of implementation items, each item
with its basic item, implementing department, codes and one `schema.ItemContent` document:

    {"format": "onewindow-catalogue", "version": 1,
     "themes": [{"code", "name", "audience", "order"}],
     "items": [{"basic": {"basic_code", "name", "item_type", "exercise_level", "legal_basis"},
                "department_uscc", "impl_code" ("" = generated), "handle_item_code",
                "content": {...ItemContent...}}]}

Encodings:

- JSON: the model as it is.
- Excel (.xlsx): one workbook, one sheet per table below.
- CSV: the same tables as CSV files (UTF-8 with or without BOM; GB18030 is accepted too), either
  a single 事项 CSV or a .zip with one file per sheet named after it (事项.csv, 申请材料.csv …).

Sheets and columns (headers as below, a leading "*" is ignored; docs/catalogue-import.md has
the meaning of each column):

    事项      实施编码, 业务办理项编码, 基本编码*, 实施主体统一社会信用代码*, then every scalar
              element of ItemContent under its schema.LABELS name; a time limit is three columns
              (法定办结时限 / 法定办结时限单位 / 法定办结时限说明, the same for 承诺办结时限);
              the contact elements are 办理地点 … 网办地址; 与基本目录的差异说明 is a JSON object
    申请材料  实施编码*, 材料编号, 材料名称, 设定依据, 来源渠道, 出具机构, 材料形式, 材料要求,
              原件份数, 复印件份数, 签字盖章要求, 必要, 可容缺, 可替代的电子证照, 空白表格, 示例样表
    办理流程  实施编码*, 环节编号, 环节名称, 环节类型, 办理角色, 环节时限, 说明
    收费项目  实施编码*, 收费项目名称, 收费标准, 收费金额, 收费依据, 允许减免
    特别程序  实施编码*, 特别程序种类, 特别程序名称, 最长时限, 时限单位, 设定依据
    常见问题  实施编码*, 问题, 解答
    申请表    实施编码*, 申请表定义（JSON）   (one row per item: form definitions are nested)
    服务主题  主题代码*, 主题名称, 面向, 排序

(* the column must be present.) One 事项 row per implementation item; the rows of the other
item sheets belong to the item with that 实施编码 (for an item whose 实施编码 is left empty: the
generated code, USCC + exercise level + basic code), in sheet order. Code-set columns take the
code or its label (事项类型 "01" or "行政许可"); multi-valued columns are separated by "、"
or ";". An empty cell is an element not given: a required one is an error, an optional one
takes its default. A sheet that is missing means an empty list (a single 事项 CSV can only
import items whose content is valid without materials, steps …, which ItemContent refuses for
steps). A spreadsheet row holds no basic-item columns: a new basic item takes its name, type,
level and legal basis from the item's content.

Reading never stops at the first problem: every structural problem and, per row, the first
problem of that row's elements is reported as a `RowError` (sheet, row, column, message).
Import (`catalogue_import`) runs all the services inside one transaction and writes nothing
unless every row is good; imported items are drafts that still go through legal review and
publication. Export (`export_catalogue`) writes the same tables, so export → import gives the
same content.

Untrusted files: at most MAX_BYTES and MAX_ROWS data rows; ZIP containers (xlsx, CSV zip)
are checked against the upload limits of `core.files` before they are opened; XML entity
expansion is bounded by expat (≥ 2.4); spreadsheet text starting with = + - @ is never a
formula (xlsx: a string cell; CSV: escaped with a leading apostrophe, which import removes).
"""

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import openpyxl
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import active_assignments, is_platform_admin
from onewindow.catalogue import codes, formdef, schema, selectors, services
from onewindow.catalogue.choices import (
    Audience,
    CaseType,
    DeliveryMethod,
    ExerciseLevel,
    GeneralScope,
    HandlingForm,
    ImplementingNature,
    ItemList,
    ItemType,
    MaterialFormat,
    MaterialSource,
    OnlineDepth,
    ResultType,
    ServiceObject,
    SpecialProcedureKind,
    StepKind,
    TimeUnit,
    VersionStatus,
    Visits,
)
from onewindow.catalogue.models import BasicItem, ImplementationItem, ItemVersion, Theme
from onewindow.core import audit, files, structured
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.models import Department

logger = logging.getLogger(__name__)

FORMAT_NAME = "onewindow-catalogue"
FORMAT_VERSION = 1
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000  # data rows over all sheets (themes + items in JSON)
MAX_SCANNED_ROWS = 200_000  # rows read from spreadsheets, empty ones included
MAX_CSV_MEMBERS = 20
HEADER_SEARCH_ROWS = 10  # a sheet's header may follow title rows up to this row

Fmt = Literal["json", "xlsx", "csv"]
CONTENT_TYPES = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
}
EXTENSIONS = {"json": "json", "xlsx": "xlsx", "csv": "zip"}

# Text a spreadsheet program would run as a formula; CSV cells starting so get an apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_APOSTROPHE = "'"
# Characters the xlsx format cannot hold (openpyxl refuses them).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LIST_SEPARATORS = re.compile(r"[;；]")


# --- errors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem, where the user can find it: 事项 第5行「承诺办结时限」：….

    `row` is the spreadsheet row (the header is row 1) or, in JSON, the position in the list
    (`unit` "item"); an error about the whole file has no sheet.
    """

    sheet: str
    row: int | None
    column: str
    message: str
    unit: Literal["row", "item"] = "row"

    def __str__(self) -> str:
        if not self.sheet:
            return self.message
        if self.row is None:
            place = self.sheet
        elif self.unit == "item":
            place = _("%(sheet)s 第%(row)s项") % {"sheet": self.sheet, "row": self.row}
        else:
            place = _("%(sheet)s 第%(row)s行") % {"sheet": self.sheet, "row": self.row}
        if self.column:
            # A JSON location is a path with its own brackets ("申请材料第2项「材料名称」").
            place = f"{place} {self.column}" if self.unit == "item" else f"{place}「{self.column}」"
        return f"{place}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message,
                "text": str(self)}


class _FileProblem(Exception):
    """The file as a whole cannot be read; the message is translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _file_error(message: str) -> RowError:
    return RowError("", None, "", message)


# --- sheets and columns ----------------------------------------------------------------

Path = tuple[str | int, ...]
Kind = Literal["text", "int", "decimal", "bool", "code", "codes", "list", "json"]


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: where its value lives in the row object, and how it is written."""

    path: tuple[str, ...]
    title: Any  # a lazy translated string
    kind: Kind = "text"
    choices: Any = None  # a Choices class for "code" and "codes"
    required: bool = False  # the column must be present in the sheet


@dataclass(frozen=True)
class Sheet:
    key: str
    title: Any
    columns: tuple[Column, ...]
    # The content list this sheet's rows fill ("materials" …), "form", or "" (items, themes).
    field: str = ""


def _element(name: str, kind: Kind = "text", choices: Any = None) -> Column:
    return Column(("content", name), schema.LABELS[name], kind, choices)


def _limit(name: str, unit_title: Any, note_title: Any) -> tuple[Column, ...]:
    return (
        Column(("content", name, "amount"), schema.LABELS[name], "int"),
        Column(("content", name, "unit"), unit_title, "code", TimeUnit),
        Column(("content", name, "note"), note_title),
    )


def _part(name: str, title: Any = None, kind: Kind = "text", choices: Any = None) -> Column:
    return Column(("element", name), title or schema.LABELS[name], kind, choices)


_IMPL_CODE_KEY = Column(("impl_code",), gettext_lazy("实施编码"), required=True)

ITEMS = Sheet("items", gettext_lazy("事项"), (
    Column(("impl_code",), gettext_lazy("实施编码")),
    Column(("handle_item_code",), gettext_lazy("业务办理项编码")),
    Column(("basic", "basic_code"), gettext_lazy("基本编码"), required=True),
    Column(("department_uscc",), gettext_lazy("实施主体统一社会信用代码"), required=True),
    _element("name"),
    _element("item_type", "code", ItemType),
    _element("legal_basis"),
    _element("exercise_level", "code", ExerciseLevel),
    _element("power_division"),
    _element("exercise_content"),
    _element("implementing_nature", "code", ImplementingNature),
    _element("co_implementing", "list"),
    _element("undertaking_office"),
    _element("responsible_post"),
    _element("service_objects", "codes", ServiceObject),
    _element("themes", "list"),
    _element("lists", "codes", ItemList),
    _element("keywords", "list"),
    _element("handling_forms", "codes", HandlingForm),
    _element("case_type", "code", CaseType),
    _element("general_scope", "code", GeneralScope),
    *_limit("legal_limit", gettext_lazy("法定办结时限单位"), gettext_lazy("法定办结时限说明")),
    *_limit("promised_limit", gettext_lazy("承诺办结时限单位"), gettext_lazy("承诺办结时限说明")),
    _element("compression_reason"),
    _element("visits", "code", Visits),
    _element("online_depth", "code", OnlineDepth),
    _element("supports_booking", "bool"),
    _element("supports_online_payment", "bool"),
    _element("supports_express", "bool"),
    _element("charges_fee", "bool"),
    _element("quantity_limit"),
    _element("intermediary_services"),
    _element("conditions"),
    _element("result_type", "code", ResultType),
    _element("result_name"),
    _element("result_sample"),
    _element("delivery_methods", "codes", DeliveryMethod),
    *(Column(("content", "contact", name), schema.LABELS[name])
      for name in ("hall_address", "hall_hours", "consult_phone", "supervise_phone", "online_url")),
    _element("notes"),
    _element("differences", "json"),
))
MATERIALS = Sheet("materials", gettext_lazy("申请材料"), (
    _IMPL_CODE_KEY,
    _part("key", gettext_lazy("材料编号")),
    _part("name", gettext_lazy("材料名称")),
    _part("basis", gettext_lazy("设定依据")),
    _part("source", None, "code", MaterialSource),
    _part("issuer"),
    _part("format", None, "code", MaterialFormat),
    _part("content"),
    _part("originals", None, "int"),
    _part("copies", None, "int"),
    _part("sign_seal"),
    _part("required", None, "bool"),
    _part("deferrable", None, "bool"),
    _part("licence_type"),
    _part("blank_form"),
    _part("sample"),
), field="materials")
STEPS = Sheet("steps", gettext_lazy("办理流程"), (
    _IMPL_CODE_KEY,
    _part("key", gettext_lazy("环节编号")),
    _part("name", gettext_lazy("环节名称")),
    _part("kind", gettext_lazy("环节类型"), "code", StepKind),
    _part("role", None, "code", Role),
    _part("limit_days", None, "int"),
    _part("description"),
), field="steps")
FEES = Sheet("fees", gettext_lazy("收费项目"), (
    _IMPL_CODE_KEY,
    _part("name", gettext_lazy("收费项目名称")),
    _part("standard"),
    _part("amount", gettext_lazy("收费金额"), "decimal"),
    _part("basis", gettext_lazy("收费依据")),
    _part("reducible", None, "bool"),
), field="fees")
SPECIAL_PROCEDURES = Sheet("special_procedures", gettext_lazy("特别程序"), (
    _IMPL_CODE_KEY,
    _part("kind", gettext_lazy("特别程序种类"), "code", SpecialProcedureKind),
    _part("name", gettext_lazy("特别程序名称")),
    _part("max_days", None, "int"),
    _part("unit", gettext_lazy("时限单位"), "code", TimeUnit),
    _part("basis", gettext_lazy("设定依据")),
), field="special_procedures")
FAQ = Sheet("faq", gettext_lazy("常见问题"), (
    _IMPL_CODE_KEY,
    _part("question"),
    _part("answer"),
), field="faq")
FORMS = Sheet("forms", gettext_lazy("申请表"), (
    _IMPL_CODE_KEY,
    Column(("form",), gettext_lazy("申请表定义（JSON）"), "json"),
), field="form")
THEMES = Sheet("themes", gettext_lazy("服务主题"), (
    Column(("code",), gettext_lazy("主题代码"), required=True),
    Column(("name",), gettext_lazy("主题名称")),
    Column(("audience",), gettext_lazy("面向"), "code", Audience),
    Column(("order",), gettext_lazy("排序"), "int"),
))

SHEETS = (ITEMS, MATERIALS, STEPS, FEES, SPECIAL_PROCEDURES, FAQ, FORMS, THEMES)
LIST_SHEETS = (MATERIALS, STEPS, FEES, SPECIAL_PROCEDURES, FAQ)
_LIST_SHEET_BY_FIELD = {sheet.field: sheet for sheet in LIST_SHEETS}
# The model of one element of each content list, to check rows one by one.
_ELEMENT_MODELS: dict[str, type[BaseModel]] = {
    "materials": schema.Material,
    "steps": schema.ProcessStep,
    "fees": schema.Fee,
    "special_procedures": schema.SpecialProcedure,
    "faq": schema.Question,
}


def _spellings(text: Any) -> set[str]:
    """A translated string in every language of the site (files may come from either)."""
    found = {str(text)}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(text))
    return found


def _header_key(text: str) -> str:
    return re.sub(r"\s+", "", text).strip("*")


@functools.cache
def _headers(sheet_key: str) -> dict[str, Column]:
    sheet = next(s for s in SHEETS if s.key == sheet_key)
    return {_header_key(spelling): column for column in sheet.columns for spelling in _spellings(column.title)}


@functools.cache
def _sheet_names() -> dict[str, Sheet]:
    return {_header_key(spelling): sheet for sheet in SHEETS for spelling in _spellings(sheet.title)}


def _sheet_named(name: str) -> Sheet | None:
    return _sheet_names().get(_header_key(name))


@functools.cache
def _code_lookup(choices: Any) -> dict[str, Any]:
    lookup: dict[str, Any] = {}
    for value, label in choices.choices:
        for spelling in _spellings(label):
            lookup.setdefault(spelling.strip(), value)
    for value in choices.values:
        lookup[str(value)] = value
    return lookup


# --- the read model ----------------------------------------------------------------------


class _ThemeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, StringConstraints(min_length=1, max_length=30, strip_whitespace=True)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=50, strip_whitespace=True)]
    audience: Audience
    order: Annotated[int, Field(ge=0, le=32767)] = 0


class _BasicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    basic_code: Annotated[str, StringConstraints(min_length=1, max_length=12, strip_whitespace=True, to_upper=True)]
    name: schema.Name
    item_type: ItemType
    exercise_level: ExerciseLevel
    legal_basis: schema.Text


Code = Annotated[str, StringConstraints(max_length=50, strip_whitespace=True, to_upper=True)]


class _ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    basic: _BasicIn
    department_uscc: Annotated[str, StringConstraints(min_length=1, max_length=18, strip_whitespace=True, to_upper=True)]
    impl_code: Code = ""
    handle_item_code: Code = ""
    content: dict[str, Any]


_THEME_LABELS = {column.path[0]: column.title for column in THEMES.columns}
_RECORD_LABELS = {
    **schema.LABELS,
    "basic": gettext_lazy("基本目录事项"),
    "basic_code": gettext_lazy("基本编码"),
    "department_uscc": gettext_lazy("实施主体统一社会信用代码"),
    "impl_code": gettext_lazy("实施编码"),
    "handle_item_code": gettext_lazy("业务办理项编码"),
}
_CONTENT_TITLE = gettext_lazy("办事指南内容")


def _location(path: Path, labels: dict[str, Any]) -> str:
    return structured.location_label(tuple(path), labels)


def _split_error(exc: InvalidInput, labels: dict[str, Any]) -> tuple[Path, str]:
    """An InvalidInput from `structured.parse` as (location, problem without the location)."""
    loc: Path = tuple(int(p) if p.isdigit() else p for p in exc.field.split(".")) if exc.field else ()
    where = _location(loc, labels)
    prefix = f"{where}："
    message = exc.message[len(prefix):] if where and exc.message.startswith(prefix) else exc.message
    return loc, message


def _strip_structure(path: Path) -> Path:
    """Drop the row-object parts that are no element name ("content", "element")."""
    return tuple(p for i, p in enumerate(path) if not (i == 0 and p in ("content", "element")))


def _place(sheet: Sheet, path: Path) -> tuple[str, str]:
    """(column title, where inside the cell) of `path` in a row object of `sheet`: the column
    holding it, or the nearest one above it; without one, the element's own name."""
    column = max(
        (c for c in sheet.columns if tuple(path[: len(c.path)]) == c.path), key=lambda c: len(c.path), default=None
    )
    rest = _strip_structure(path[len(column.path):] if column else path)
    if column is not None and column.path[:1] == ("form",):
        where = _location(rest, formdef.LABELS)
    else:
        where = _location(rest, schema.LABELS if sheet is not THEMES else _THEME_LABELS)
    title = str(column.title) if column else ""
    return (title, where) if title else (where, "")


def _with_where(where: str, message: str) -> str:
    return f"{where}：{message}" if where else message


def _cell_error(sheet: Sheet, row: int, path: Path, message: str) -> RowError:
    title, where = _place(sheet, path)
    return RowError(str(sheet.title), row, title, _with_where(where, message))


@dataclass
class _RowLocator:
    """A theme row, or an item row with the rows of its materials, steps … in the other sheets."""

    sheet: Sheet
    row: int
    children: dict[str, list[int]] = field(default_factory=dict)
    form_row: int | None = None

    def error(self, path: Path, message: str) -> RowError:
        if path[:1] == ("content",) and len(path) > 2 and isinstance(path[2], int):
            rows = self.children.get(str(path[1]), [])
            if path[2] < len(rows):
                return _cell_error(_LIST_SHEET_BY_FIELD[str(path[1])], rows[path[2]], ("element", *path[3:]), message)
        if path[:2] == ("content", "form") and self.form_row is not None:
            return _cell_error(FORMS, self.form_row, path[1:], message)
        if path[:1] == ("basic",) and path[1:2] != ("basic_code",):
            path = ("content", *path[1:])  # a spreadsheet's basic item is read from the content columns
        return _cell_error(self.sheet, self.row, path, message)


@dataclass(frozen=True)
class _JsonLocator:
    """An entry of a JSON file's themes or items, named with the spreadsheet's column titles."""

    sheet: Sheet
    index: int

    def error(self, path: Path, message: str) -> RowError:
        where = ""
        if self.sheet is THEMES:
            column, where = _place(THEMES, path)
        elif path == ("content",):
            column = str(_CONTENT_TITLE)
        elif path[:1] == ("content",) and len(path) > 2 and isinstance(path[2], int) and path[1] in _LIST_SHEET_BY_FIELD:
            sheet = _LIST_SHEET_BY_FIELD[str(path[1])]
            column, where = _place(sheet, ("element", *path[3:]))
            listing = _("%(list)s第%(n)s项") % {"list": sheet.title, "n": path[2] + 1}
            column = f"{listing}「{column}」" if column else listing
        elif path[:2] == ("content", "form"):
            column, where = str(schema.LABELS["form"]), _location(path[2:], formdef.LABELS)
        elif path[:1] == ("basic",) and path[1:2] != ("basic_code",):
            column = _location(path, _RECORD_LABELS)
        else:
            column, where = _place(ITEMS, path)
        return RowError(str(self.sheet.title), self.index + 1, column, _with_where(where, message), unit="item")


@dataclass
class _RawRecord:
    """One theme or item as read, before validation, with where it came from."""

    data: Any
    locator: _RowLocator | _JsonLocator
    # Better messages for cells the reader could not convert (path prefix → message).
    hints: dict[Path, str] = field(default_factory=dict)

    def error(self, path: Path, message: str) -> RowError:
        for hint_path, hint in self.hints.items():
            if tuple(path[: len(hint_path)]) == hint_path:
                message = hint
                break
        return self.locator.error(tuple(path), message)


@dataclass
class ThemeRecord:
    code: str
    name: str
    audience: str
    order: int
    source: _RawRecord = field(repr=False)

    def error(self, path: Path, message: str) -> RowError:
        return self.source.error(path, message)


@dataclass
class ItemRecord:
    """One implementation item, validated: `content` is the stored form of an ItemContent."""

    basic: dict[str, Any]
    department_uscc: str
    impl_code: str
    handle_item_code: str
    content: dict[str, Any]
    source: _RawRecord = field(repr=False)

    def error(self, path: Path, message: str) -> RowError:
        return self.source.error(path, message)

    def exchange(self) -> dict[str, Any]:
        return {"basic": self.basic, "department_uscc": self.department_uscc, "impl_code": self.impl_code,
                "handle_item_code": self.handle_item_code, "content": self.content}


@dataclass
class CatalogueDocument:
    """What a file holds: the good themes and items, and every problem found."""

    format: str = ""
    themes: list[ThemeRecord] = field(default_factory=list)
    items: list[ItemRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    def exchange(self) -> dict[str, Any]:
        return _envelope(
            [{"code": t.code, "name": t.name, "audience": t.audience, "order": t.order} for t in self.themes],
            [item.exchange() for item in self.items],
        )


@dataclass
class _Raw:
    themes: list[_RawRecord] = field(default_factory=list)
    items: list[_RawRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


def _envelope(themes: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "themes": themes, "items": items}


# --- cells -------------------------------------------------------------------------------


def _split_list(text: str) -> list[str]:
    parts = _LIST_SEPARATORS.split(text) if _LIST_SEPARATORS.search(text) else text.split("、")
    return [part.strip() for part in parts if part.strip()]


def _join_list(values: Iterable[str]) -> str:
    values = [str(value) for value in values]
    return (";" if any("、" in value for value in values) else "、").join(values)


def _clean_cell(value: Any, *, from_csv: bool) -> Any:
    """A cell as a plain value: None when empty, whole floats as int, dates as ISO text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    if from_csv and text[:1] == _APOSTROPHE and text[1:2] in (*_FORMULA_START, _APOSTROPHE):
        text = text[1:]
    return text.strip() or None


def _code(column: Column, value: Any) -> tuple[Any, str | None]:
    lookup = _code_lookup(column.choices)
    text = str(value).strip()
    candidates = [text, text.zfill(2)] if text.isdigit() else [text]
    for candidate in candidates:
        if candidate in lookup:
            return lookup[candidate], None
    options = "、".join(f"{code} {label}" if str(code) else str(label) for code, label in column.choices.choices)
    return text, _("“%(value)s”不在代码表中，可填：%(options)s。") % {"value": text, "options": options}


_TRUE = {"是", "y", "yes", "true", "1", "√"}
_FALSE = {"否", "n", "no", "false", "0", "×"}


def _parse_cell(column: Column, value: Any) -> tuple[Any, str | None]:
    """A cleaned, non-empty cell as the value of its element (and a message if it is not one)."""
    kind = column.kind
    if kind == "text":
        return str(value), None
    if kind in ("int", "decimal"):
        return (str(value) if isinstance(value, float) else value), None
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        yes, no = {*_TRUE, str(_("是"))}, {*_FALSE, str(_("否"))}
        return (True if text in yes else False if text in no else str(value)), None
    if kind == "code":
        return _code(column, value)
    if kind == "codes":
        pairs = [_code(column, part) for part in _split_list(str(value))]
        hint = next((hint for _value, hint in pairs if hint), None)
        return [code for code, _hint in pairs], hint
    if kind == "list":
        return _split_list(str(value)), None
    try:  # json
        return json.loads(str(value)), None
    except (ValueError, RecursionError):
        return str(value), _("不是有效的 JSON。")


def _cell_text(column: Column, value: Any) -> Any:
    """The cell written for an element's value (None: empty)."""
    if value is None:
        return None
    kind = column.kind
    if kind == "bool":
        return _("是") if value else _("否")
    if kind == "int":
        return value
    if kind == "code":
        return _code_label(column.choices, value)
    if kind == "codes":
        return _join_list(_code_label(column.choices, code) for code in value) if value else None
    if kind == "list":
        return _join_list(value) if value else None
    if kind == "json":
        return json.dumps(value, ensure_ascii=False) if value else None
    return str(value) if value != "" else None


def _code_label(choices: Any, value: Any) -> str:
    for code, label in choices.choices:
        if code == value:
            return str(label)
    return str(value)


def _get(obj: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _put(obj: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        obj = obj.setdefault(part, {})
    obj[path[-1]] = value


# --- reading tables (xlsx and CSV) ------------------------------------------------------------


@dataclass
class _Budget:
    rows: int = 0
    scanned: int = 0

    def scan(self) -> None:
        self.scanned += 1
        if self.scanned > MAX_SCANNED_ROWS:
            raise _FileProblem(_("表格超过 %(n)s 行（含空行），请删除多余的行后再导入。") % {"n": MAX_SCANNED_ROWS})

    def take(self) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise _FileProblem(_("一次最多导入 %(n)s 行，请分批导入。") % {"n": MAX_ROWS})


@dataclass
class _SheetRow:
    number: int
    obj: dict[str, Any]
    hints: dict[Path, str]


def _find_header(
    rows: Iterator[tuple[int, Sequence[Any]]], lookup: dict[str, Column], *, from_csv: bool, budget: _Budget
) -> tuple[int, list[Any]] | None:
    """The header row: the first row naming a known column, after blank rows and up to
    HEADER_SEARCH_ROWS title rows (a sheet often starts with its title); without one, the first
    non-blank row, so that its unknown names are reported."""
    first: tuple[int, list[Any]] | None = None
    for number, cells in rows:
        budget.scan()
        texts = [_clean_cell(cell, from_csv=from_csv) for cell in cells]
        if all(text is None for text in texts):
            continue
        if any(text is not None and _header_key(str(text)) in lookup for text in texts):
            return number, texts
        first = first or (number, texts)
        if number >= HEADER_SEARCH_ROWS:
            break
    return first


def _read_table(
    sheet: Sheet, rows: Iterator[tuple[int, Sequence[Any]]], *, from_csv: bool, errors: list[RowError], budget: _Budget
) -> list[_SheetRow]:
    title = str(sheet.title)
    lookup = _headers(sheet.key)
    header = _find_header(rows, lookup, from_csv=from_csv, budget=budget)
    if header is None:
        return []
    number, header_texts = header
    columns: list[Column | None] = []
    for text in header_texts:
        column = lookup.get(_header_key(str(text))) if text is not None else None
        if text is not None and column is None:
            errors.append(RowError(title, number, str(text), _("不是可识别的列名。")))
        elif column is not None and column in columns:
            errors.append(RowError(title, number, str(text), _("列名重复。")))
            column = None
        columns.append(column)
    missing = [column for column in sheet.columns if column.required and column not in columns]
    for column in missing:
        errors.append(RowError(title, number, str(column.title), _("缺少该列。")))
    if missing:
        return []
    unnamed: set[int] = set()
    result: list[_SheetRow] = []
    for number, cells in rows:
        budget.scan()
        values = [_clean_cell(cell, from_csv=from_csv) for cell in cells]
        if all(value is None for value in values):
            continue
        budget.take()
        obj: dict[str, Any] = {}
        hints: dict[Path, str] = {}
        for index, value in enumerate(values):
            if value is None:
                continue
            column = columns[index] if index < len(columns) else None
            if column is None:
                named = index < len(header_texts) and header_texts[index] is not None
                if not named and index not in unnamed:
                    unnamed.add(index)
                    errors.append(RowError(title, number, _("第%(n)s列") % {"n": index + 1}, _("该列有内容但没有列名。")))
                continue
            parsed, hint = _parse_cell(column, value)
            _put(obj, column.path, parsed)
            if hint:
                hints[column.path] = hint
        result.append(_SheetRow(number, obj, hints))
    return result


def _item_key(data: dict[str, Any]) -> str | None:
    """What the other sheets use to name this item: its 实施编码, or the generated one."""
    given = str(data.get("impl_code") or "").strip().upper()
    if given:
        return given
    uscc = str(data.get("department_uscc") or "").strip().upper()
    level = _get(data, ("content", "exercise_level"))
    basic_code = str(_get(data, ("basic", "basic_code")) or "").strip().upper()
    if not (uscc and isinstance(level, str) and basic_code):
        return None
    return codes.make_impl_code(uscc=uscc, exercise_level=level, basic_code=basic_code)


def _assemble(tables: Iterable[tuple[Sheet, Iterator[tuple[int, Sequence[Any]]]]], *, from_csv: bool,
              raw: _Raw) -> _Raw:
    """Rows of the sheets → raw theme and item records (the rows of an item's lists joined to it)."""
    budget = _Budget()
    read: dict[str, list[_SheetRow]] = {}
    for sheet, rows in tables:
        if sheet.key in read:
            raw.errors.append(RowError(str(sheet.title), None, "", _("工作表重复。")))
            continue
        read[sheet.key] = _read_table(sheet, rows, from_csv=from_csv, errors=raw.errors, budget=budget)
    raw.rows = budget.rows
    for row in read.get(THEMES.key, []):
        raw.themes.append(_RawRecord(row.obj, _RowLocator(THEMES, row.number), row.hints))
    items: dict[str, _RawRecord] = {}
    for row in read.get(ITEMS.key, []):
        data = row.obj
        content = data.setdefault("content", {})
        basic = data.setdefault("basic", {})
        hints = dict(row.hints)
        for name in ("name", "item_type", "exercise_level", "legal_basis"):
            if name in content:
                basic[name] = content[name]
            if ("content", name) in hints:
                hints[("basic", name)] = hints[("content", name)]
        record = _RawRecord(data, _RowLocator(ITEMS, row.number), hints)
        key = _item_key(data)
        if key in items:
            raw.errors.append(record.error(("impl_code",), _("实施编码 %(code)s 与第%(row)s行重复。")
                                           % {"code": key, "row": items[key].locator.row}))
            continue
        if key:
            items[key] = record
        raw.items.append(record)
    for sheet in (*LIST_SHEETS, FORMS):
        for row in read.get(sheet.key, []):
            key = str(row.obj.get("impl_code") or "").strip().upper()
            record = items.get(key)
            if record is None:
                raw.errors.append(_cell_error(sheet, row.number, ("impl_code",),
                                              _("事项表中没有实施编码为“%(code)s”的事项。") % {"code": key}))
                continue
            content, locator = record.data["content"], record.locator
            if sheet is FORMS:
                if locator.form_row is not None:
                    raw.errors.append(_cell_error(sheet, row.number, ("impl_code",),
                                                  _("该事项的申请表已在第%(row)s行填写。") % {"row": locator.form_row}))
                    continue
                locator.form_row = row.number
                if "form" in row.obj:
                    content["form"] = row.obj["form"]
                record.hints.update({("content", *path): hint for path, hint in row.hints.items()})
                continue
            elements = content.setdefault(sheet.field, [])
            index = len(elements)
            elements.append(row.obj.get("element", {}))
            locator.children.setdefault(sheet.field, []).append(row.number)
            record.hints.update({("content", sheet.field, index, *path[1:]): hint for path, hint in row.hints.items()})
    return raw


def _xlsx_rows(worksheet: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    iterator = worksheet.iter_rows(values_only=True)
    number = 0
    while True:
        try:
            cells = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds on a damaged workbook)
            logger.info("unreadable worksheet: %r", exc)
            raise _FileProblem(_("Excel 文件已损坏，无法读取，请重新保存后再导入。")) from None
        number += 1
        yield number, cells


def _check_zip(data: bytes) -> zipfile.ZipFile:
    """Open a ZIP container within the upload limits (entries, size, ratio), or refuse it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _FileProblem(_("压缩文件已损坏，无法读取。")) from None
    declared = sum(member.file_size for member in members)
    if (
        len(members) > files.ZIP_MAX_ENTRIES
        or declared > files.ZIP_MAX_UNCOMPRESSED_BYTES
        or declared > files.ZIP_MAX_RATIO * max(len(data), 1)
    ):
        raise _FileProblem(_("压缩文件解压后过大或文件过多，不能导入。"))
    if any(member.flag_bits & 0x1 for member in members):
        raise _FileProblem(_("压缩文件已加密，请去掉密码后再导入。"))
    return archive


def _read_xlsx(data: bytes) -> _Raw:
    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds on a damaged workbook)
        logger.info("unreadable workbook: %r", exc)
        raise _FileProblem(_("不是有效的 Excel（.xlsx）文件，或文件已损坏。")) from None
    raw = _Raw()
    try:
        tables = []
        for worksheet in workbook.worksheets:
            sheet = _sheet_named(worksheet.title)
            if sheet is None:
                # Excel's empty default sheets ("Sheet1") are no reason to refuse a workbook.
                if not _is_blank(worksheet):
                    raw.errors.append(_unknown_sheet(worksheet.title))
                continue
            tables.append((sheet, _xlsx_rows(worksheet)))
        return _assemble(tables, from_csv=False, raw=raw)
    finally:
        workbook.close()


def _is_blank(worksheet: Any) -> bool:
    for number, cells in _xlsx_rows(worksheet):
        if number > MAX_SCANNED_ROWS or any(_clean_cell(cell, from_csv=False) is not None for cell in cells):
            return False
    return True


def _unknown_sheet(name: str) -> RowError:
    return RowError(name, None, "", _("不是可导入的工作表（可用的有：%(sheets)s），请改名或删除。")
                    % {"sheets": "、".join(str(sheet.title) for sheet in SHEETS)})


def _decode_text(data: bytes) -> str:
    """CSV text: UTF-8 (with or without BOM), else GB18030 (what Excel on Chinese Windows writes)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _FileProblem(_("不支持 UTF-16 编码的文本，请另存为“CSV UTF-8（逗号分隔）”。"))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _FileProblem(_("无法识别文件的字符编码，请另存为 UTF-8 编码的 CSV 文件。")) from None


def _csv_rows(text: str) -> Iterator[tuple[int, Sequence[Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise _FileProblem(_("CSV 文件第%(row)s行格式有误（引号不配对或单元格过长）。") % {"row": number + 1}) from None
        number += 1
        yield number, cells


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's file name; names written without the UTF-8 flag are usually GBK on Windows."""
    name = member.filename
    if not member.flag_bits & 0x800:
        raw = name.encode("cp437", errors="replace")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.decode("gb18030", errors="replace")
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _read_csv_zip(data: bytes) -> _Raw:
    archive = _check_zip(data)
    raw = _Raw()
    tables = []
    members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    if len(members) > MAX_CSV_MEMBERS:
        raise _FileProblem(_("压缩包中的文件过多。"))
    for member in members:
        name = _member_name(member)
        if name.startswith("."):
            continue
        stem, dot, extension = name.rpartition(".")
        sheet = _sheet_named(stem) if dot and extension.lower() == "csv" else None
        if sheet is None:
            raw.errors.append(_unknown_sheet(name))
            continue
        try:
            content = archive.read(member)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error):
            raise _FileProblem(_("压缩文件已损坏，无法读取。")) from None
        tables.append((sheet, _csv_rows(_decode_text(content))))
    if not tables and not raw.errors:
        raise _FileProblem(_("压缩包中没有 CSV 文件。"))
    return _assemble(tables, from_csv=True, raw=raw)


def _read_csv(data: bytes, filename: str) -> _Raw:
    stem = filename.rsplit("/", 1)[-1].rpartition(".")[0]
    sheet = _sheet_named(stem) or ITEMS
    return _assemble([(sheet, _csv_rows(_decode_text(data)))], from_csv=True, raw=_Raw())


def _read_json(data: bytes) -> _Raw:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _FileProblem(_("JSON 文件须为 UTF-8 编码。")) from None
    except json.JSONDecodeError as exc:
        raise _FileProblem(_("JSON 格式有误：第%(line)s行第%(column)s列。") % {"line": exc.lineno, "column": exc.colno}) from None
    except (ValueError, RecursionError):
        raise _FileProblem(_("JSON 格式有误或嵌套过深。")) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise _FileProblem(_("不是事项目录交换文件（format 应为“%(name)s”）。") % {"name": FORMAT_NAME})
    if document.get("version") != FORMAT_VERSION:
        raise _FileProblem(_("不支持的目录文件版本“%(version)s”，应为 %(expected)s。")
                           % {"version": document.get("version"), "expected": FORMAT_VERSION})
    unknown = sorted(set(document) - {"format", "version", "themes", "items"})
    if unknown:
        raise _FileProblem(_("目录文件中有不认识的字段：%(names)s。") % {"names": "、".join(map(str, unknown))})
    themes, items = document.get("themes", []), document.get("items", [])
    if not isinstance(themes, list) or not isinstance(items, list):
        raise _FileProblem(_("themes 和 items 须为列表。"))
    if len(themes) + len(items) > MAX_ROWS:
        raise _FileProblem(_("一次最多导入 %(n)s 行，请分批导入。") % {"n": MAX_ROWS})
    return _Raw(
        themes=[_RawRecord(theme, _JsonLocator(THEMES, index)) for index, theme in enumerate(themes)],
        items=[_RawRecord(item, _JsonLocator(ITEMS, index)) for index, item in enumerate(items)],
        rows=len(themes) + len(items),
    )


# --- validation (the same for every encoding) ------------------------------------------------


def _content_problems(content: dict[str, Any]) -> list[tuple[Path, str]]:
    """Problems of one content document: the first of each list element (one spreadsheet row
    each) and of the form, then the first of the rest."""
    problems: list[tuple[Path, str]] = []
    checked = dict(content)
    element_problems = False
    for name, model in _ELEMENT_MODELS.items():
        elements = content.get(name)
        if not isinstance(elements, list):
            continue
        good = []
        for index, element in enumerate(elements):
            try:
                structured.parse(model, element, labels=schema.LABELS)
            except InvalidInput as exc:
                loc, message = _split_error(exc, schema.LABELS)
                problems.append(((name, index, *loc), message))
                element_problems = True
            else:
                good.append(element)
        checked[name] = good
    if "form" in content:
        try:
            formdef.parse_form_definition(content["form"])
        except InvalidInput as exc:
            loc, message = _split_error(exc, formdef.LABELS)
            problems.append((("form", *loc), message))
            checked["form"] = {}
            element_problems = True
    try:
        schema.parse_content(checked)
    except InvalidInput as exc:
        loc, message = _split_error(exc, schema.LABELS)
        # With bad rows left out, list lengths and rules across elements are no longer meaningful.
        if not (element_problems and (not loc or loc[0] in _ELEMENT_MODELS or loc[0] == "form")):
            problems.append((loc, message))
    return problems


def _item_problems(data: Any) -> tuple[_ItemIn | None, list[tuple[Path, str]]]:
    problems: list[tuple[Path, str]] = []
    envelope = None
    try:
        envelope = structured.parse(_ItemIn, data, labels=_RECORD_LABELS)
    except InvalidInput as exc:
        problems.append(_split_error(exc, _RECORD_LABELS))
    content = data.get("content") if isinstance(data, dict) else None
    if isinstance(content, dict):
        problems.extend((("content", *loc), message) for loc, message in _content_problems(content))
    if envelope is not None:
        try:
            codes.clean_basic_code(envelope.basic.basic_code, item_type=envelope.basic.item_type)
        except InvalidInput as exc:
            problems.append((("basic", "basic_code"), exc.message))
    return envelope, problems


def _validate(raw: _Raw, *, fmt: str) -> CatalogueDocument:
    document = CatalogueDocument(format=fmt, errors=list(raw.errors), rows=raw.rows)
    theme_codes: set[str] = set()
    for record in raw.themes:
        try:
            theme = structured.parse(_ThemeIn, record.data, labels=_THEME_LABELS)
        except InvalidInput as exc:
            document.errors.append(record.error(*_split_error(exc, _THEME_LABELS)))
            continue
        if theme.code in theme_codes:
            document.errors.append(record.error(("code",), _("主题代码 %(code)s 重复。") % {"code": theme.code}))
            continue
        theme_codes.add(theme.code)
        document.themes.append(ThemeRecord(theme.code, theme.name, theme.audience, theme.order, record))
    for record in raw.items:
        envelope, problems = _item_problems(record.data)
        if problems:
            document.errors.extend(_unique_cells(record.error(path, message) for path, message in problems))
            continue
        assert envelope is not None
        document.items.append(ItemRecord(
            basic=envelope.basic.model_dump(mode="json"),
            department_uscc=envelope.department_uscc,
            impl_code=envelope.impl_code,
            handle_item_code=envelope.handle_item_code,
            content=schema.content_json(schema.parse_content(envelope.content)),
            source=record,
        ))
    document.errors = _sorted(document.errors)
    return document


def _unique_cells(errors: Iterable[RowError]) -> list[RowError]:
    """One error per cell (a spreadsheet's basic item and content share their cells)."""
    seen: set[tuple[str, int | None, str]] = set()
    kept = []
    for error in errors:
        place = (error.sheet, error.row, error.column)
        if place not in seen:
            seen.add(place)
            kept.append(error)
    return kept


def _sorted(errors: list[RowError]) -> list[RowError]:
    order = {str(sheet.title): index for index, sheet in enumerate(SHEETS)}
    return sorted(errors, key=lambda e: (bool(e.sheet), order.get(e.sheet, len(order)), e.row or 0))


# --- reading ------------------------------------------------------------------------------------


def _file_bytes(source: Any) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        size = getattr(source, "size", None)
        if isinstance(size, int) and size > MAX_BYTES:
            raise _FileProblem(_too_big())
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _FileProblem(_too_big())
    if not data:
        raise _FileProblem(_("文件是空的。"))
    return data


def _too_big() -> str:
    return _("文件超过 %(n)s MB，请分批导入。") % {"n": MAX_BYTES // (1024 * 1024)}


def _detect(data: bytes, filename: str) -> str:
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _FileProblem(_("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入。"))
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            raise _FileProblem(_("压缩文件已损坏，无法读取。")) from None
        return "xlsx" if "[Content_Types].xml" in names else "zip"
    if extension in ("xlsx", "zip"):
        raise _FileProblem(_("文件已损坏，或不是它的扩展名所说的格式。"))
    if extension == "json" or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return "json"
    return "csv"


def read_catalogue(source: Any, *, filename: str) -> CatalogueDocument:
    """Read a catalogue file (bytes or an uploaded file): JSON, .xlsx, .csv or a .zip of CSV files.

    Never raises for a bad file: a file that cannot be read gives a document with one error."""
    fmt = ""
    try:
        data = _file_bytes(source)
        fmt = _detect(data, filename or "")
        if fmt == "json":
            raw = _read_json(data)
        elif fmt == "xlsx":
            raw = _read_xlsx(data)
        elif fmt == "zip":
            raw = _read_csv_zip(data)
        else:
            raw = _read_csv(data, filename or "")
    except _FileProblem as problem:
        return CatalogueDocument(format=fmt, errors=[_file_error(problem.message)])
    return _validate(raw, fmt="csv" if fmt == "zip" else fmt)


# --- import ---------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a file with errors, would have done)."""

    filename: str
    sha256: str
    format: str
    dry_run: bool
    written: bool = False
    rows: int = 0
    themes: int = 0
    basic_items_created: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in (
            "rows", "themes", "basic_items_created", "items_created", "items_updated", "items_unchanged")}

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename, "sha256": self.sha256, "format": self.format, "dry_run": self.dry_run,
            "written": self.written, **self.counts(), "errors": [error.as_dict() for error in self.errors],
        }


def may_import(actor: Any) -> bool:
    """Platform administrators and department administrators (for their departments' items)."""
    return is_platform_admin(actor) or active_assignments(actor).filter(role=Role.DEPARTMENT_ADMIN).exists()


def _service_error(record: ItemRecord | ThemeRecord, exc: DomainError) -> RowError:
    """A service's refusal, at the cell it concerns."""
    if isinstance(record, ThemeRecord):
        return record.error(("code",), exc.message)
    field_name = exc.field or ""
    if field_name in ("impl_code", "handle_item_code", "department_uscc"):
        return record.error((field_name,), exc.message)
    if field_name == "basic_code":
        return record.error(("basic", "basic_code"), exc.message)
    if field_name:
        loc, message = _split_error(exc, schema.LABELS)
        return record.error(("content", *loc), message)
    if isinstance(exc, PermissionDenied):
        return record.error(("department_uscc",), exc.message)
    return record.error((), exc.message)


@dataclass
class _Run:
    actor: Any
    report: ImportReport
    change_note: str
    departments: dict[str, Department | None] = field(default_factory=dict)
    basics: dict[str, BasicItem | None] = field(default_factory=dict)

    def fail(self, error: RowError) -> None:
        self.report.errors.append(error)

    def checkpoint(self) -> Callable[[], None]:
        """Undo for what one row adds to the caches and counts when its savepoint is rolled back."""
        basics, counts = dict(self.basics), self.report.counts()

        def restore() -> None:
            self.basics = basics
            for name, value in counts.items():
                setattr(self.report, name, value)

        return restore

    def department(self, uscc: str) -> Department | None:
        if uscc not in self.departments:
            self.departments[uscc] = Department.objects.select_related("region").filter(uscc=uscc).first()
        return self.departments[uscc]

    def basic(self, code: str) -> BasicItem | None:
        if code not in self.basics:
            self.basics[code] = BasicItem.objects.filter(basic_code=code).first()
        return self.basics[code]


class _RowFailed(Exception):
    """A row the import refuses; raised to roll back what the row already wrote."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


def _import_themes(run: _Run, themes: list[ThemeRecord]) -> None:
    platform = is_platform_admin(run.actor)
    for theme in themes:
        existing = Theme.objects.filter(code=theme.code).first()
        if existing is not None and (existing.name, existing.audience, existing.order) == (
            theme.name, theme.audience, theme.order
        ):
            continue
        if not platform:
            message = (
                _("服务主题“%(code)s”不存在；只有平台管理员可以新增服务主题。") if existing is None
                else _("服务主题“%(code)s”与平台上的不同；只有平台管理员可以修改服务主题。")
            )
            run.fail(theme.error(("code",), message % {"code": theme.code}))
            continue
        try:
            services.theme_save(actor=run.actor, code=theme.code, name=theme.name, audience=theme.audience,
                                order=theme.order)
        except DomainError as exc:
            run.fail(_service_error(theme, exc))
            continue
        run.report.themes += 1


def _standard(record: ItemRecord) -> dict[str, Any]:
    """A new basic item's standard: the basic block, the rest of the standard from the content."""
    return {name: record.basic.get(name, record.content.get(name)) for name in schema.STANDARD_ELEMENTS}


def _basic_item(run: _Run, record: ItemRecord) -> BasicItem:
    code = record.basic["basic_code"]
    basic = run.basic(code)
    if basic is not None:
        return basic
    try:
        basic = services.basic_item_create(actor=run.actor, basic_code=code, standard=_standard(record))
    except PermissionDenied as exc:
        raise _RowFailed(record.error(("basic", "basic_code"), _("基本目录中没有基本编码 %(code)s：%(reason)s")
                                      % {"code": code, "reason": exc.message})) from None
    run.basics[code] = basic
    run.report.basic_items_created += 1
    return basic


def _refuse_department(record: ItemRecord, department: Department) -> _RowFailed:
    return _RowFailed(record.error(("department_uscc",), _("您不是“%(department)s”的部门管理员，不能导入该部门的事项。")
                                   % {"department": department.name}))


def _import_item(run: _Run, record: ItemRecord, known_themes: set[str]) -> None:
    unknown = sorted(set(record.content.get("themes", [])) - known_themes)
    if unknown:
        raise _RowFailed(record.error(("content", "themes"), _("服务主题代码“%(codes)s”不存在。")
                                      % {"codes": "、".join(unknown)}))
    department = run.department(record.department_uscc)
    if department is None:
        raise _RowFailed(record.error(("department_uscc",), _("没有统一社会信用代码为 %(uscc)s 的部门。")
                                      % {"uscc": record.department_uscc}))
    if not services.may_edit(run.actor, ImplementationItem(department=department, region=department.region)):
        raise _refuse_department(record, department)
    basic = _basic_item(run, record)
    impl_code = record.impl_code or codes.make_impl_code(
        uscc=department.uscc, exercise_level=record.content["exercise_level"], basic_code=basic.basic_code
    )
    existing = ImplementationItem.objects.select_related("department", "basic_item").filter(impl_code=impl_code).first()
    if existing is None:
        services.item_create(
            actor=run.actor, basic_item=basic, department=department, impl_code=record.impl_code,
            handle_item_code=record.handle_item_code, content=record.content, change_note=run.change_note,
        )
        run.report.items_created += 1
        return
    if existing.department_id != department.pk:
        raise _RowFailed(record.error(("impl_code",), _("实施编码 %(code)s 已属于“%(department)s”。")
                                      % {"code": impl_code, "department": existing.department.name}))
    if existing.basic_item_id != basic.pk:
        raise _RowFailed(record.error(("basic", "basic_code"), _("实施编码 %(code)s 的事项对应的基本编码是 %(basic)s。")
                                      % {"code": impl_code, "basic": existing.basic_item.basic_code}))
    if record.handle_item_code and record.handle_item_code != existing.handle_item_code:
        raise _RowFailed(record.error(("handle_item_code",), _("已有事项的业务办理项编码不能通过导入修改。")))
    latest = existing.versions.exclude(status=VersionStatus.DISCARDED).order_by("-number").first()
    if latest is not None and latest.content == record.content:
        run.report.items_unchanged += 1
        return
    draft = services.version_new_draft(actor=run.actor, item=existing, change_note=run.change_note)
    services.version_update(actor=run.actor, version=draft, content=record.content)
    run.report.items_updated += 1


def _import_items(run: _Run, items: list[ItemRecord]) -> None:
    """Each row in its own savepoint: a refused row leaves nothing behind, and the next rows are
    still checked so that the report lists every problem."""
    known_themes = set(Theme.objects.values_list("code", flat=True))
    for record in items:
        restore = run.checkpoint()
        try:
            with transaction.atomic():
                _import_item(run, record, known_themes)
        except _RowFailed as failed:
            restore()
            run.fail(failed.error)
        except DomainError as exc:
            restore()
            run.fail(_service_error(record, exc))
        except IntegrityError:
            restore()
            logger.info("catalogue import: integrity error on row of %s", record.impl_code or record.basic)
            run.fail(record.error((), _("与同时进行的其他修改冲突，请稍后重试。")))


def catalogue_import(*, actor: Any, file: Any, filename: str, dry_run: bool) -> ImportReport:
    """Import a catalogue file: themes, new basic items, and a draft for every new or changed item.

    Everything runs in one transaction. A dry run, or a file with any error, is rolled back
    and only reported; a real run without errors writes one `catalogue.import` audit entry
    besides the entries of the services it calls.
    """
    if not may_import(actor):
        raise PermissionDenied(_("只有平台管理员或部门管理员可以导入事项目录。"))
    name = files.clean_filename(filename or "") or _("未命名文件")
    try:
        data = _file_bytes(file)
    except _FileProblem as problem:
        return ImportReport(filename=name, sha256="", format="", dry_run=dry_run,
                            errors=[_file_error(problem.message)])
    digest = hashlib.sha256(data).hexdigest()
    document = read_catalogue(data, filename=name)
    report = ImportReport(filename=name, sha256=digest, format=document.format, dry_run=dry_run,
                          rows=document.rows, errors=list(document.errors))
    if not document.themes and not document.items:
        if not report.errors:
            report.errors.append(_file_error(_("文件中没有可导入的事项或服务主题。")))
        return report
    run = _Run(actor=actor, report=report, change_note=_("批量导入：%(filename)s") % {"filename": name})
    with transaction.atomic():
        _import_themes(run, document.themes)
        _import_items(run, document.items)
        if report.errors or dry_run:
            transaction.set_rollback(True)
        else:
            audit.record(actor=actor, action="catalogue.import", object_type="catalogue.import", object_id=digest[:16],
                         after={"counts": report.counts(), "filename": name, "sha256": digest,
                                "format": document.format})
            report.written = True
    report.errors = _sorted(report.errors)
    return report


# --- export ---------------------------------------------------------------------------------------


def catalogue_exchange(*, actor: Any, items: QuerySet[ImplementationItem]) -> dict[str, Any]:
    """The exchange document of `items`: each item's published version, or for staff who may
    see the item's versions its latest one (drafts included). Items with neither are left out."""
    latest = Subquery(
        selectors.staff_versions(actor).exclude(status=VersionStatus.DISCARDED)
        .filter(item=OuterRef("pk")).order_by("-number").values("pk")[:1]
    )
    rows = list(
        items.select_related("basic_item", "department", "current_version")
        .annotate(export_version=latest).order_by("impl_code")
    )
    versions = ItemVersion.objects.in_bulk([row.export_version for row in rows if row.export_version])
    exported = []
    for item in rows:
        version = versions.get(item.export_version) or item.current_version
        if version is None:
            continue
        basic = item.basic_item
        exported.append({
            "basic": {"basic_code": basic.basic_code, "name": basic.name, "item_type": basic.item_type,
                      "exercise_level": basic.exercise_level, "legal_basis": basic.legal_basis},
            "department_uscc": item.department.uscc,
            "impl_code": item.impl_code,
            "handle_item_code": item.handle_item_code,
            "content": version.content,
        })
    themes = [{"code": t.code, "name": t.name, "audience": t.audience, "order": t.order}
              for t in Theme.objects.order_by("audience", "order", "code")]
    return _envelope(themes, exported)


def _sheet_rows(document: dict[str, Any]) -> list[tuple[Sheet, list[list[Any]]]]:
    """The exchange document as the rows of each sheet (header first), in SHEETS order."""
    tables: dict[str, list[list[Any]]] = {sheet.key: [] for sheet in SHEETS}

    def add(sheet: Sheet, obj: dict[str, Any]) -> None:
        tables[sheet.key].append([_cell_text(column, _get(obj, column.path)) for column in sheet.columns])

    for theme in document["themes"]:
        add(THEMES, theme)
    for item in document["items"]:
        content, key = item["content"], _item_key(item)
        add(ITEMS, item)
        for sheet in LIST_SHEETS:
            for element in content.get(sheet.field, []):
                add(sheet, {"impl_code": key, "element": element})
        if content.get("form", {}).get("fields"):
            add(FORMS, {"impl_code": key, "form": _compact_form(content["form"])})
    return [(sheet, [[str(column.title) for column in sheet.columns], *tables[sheet.key]]) for sheet in SHEETS]


def _compact_form(form: dict[str, Any]) -> dict[str, Any]:
    """A form definition without its default values: shorter to read and edit in one cell."""
    try:
        return formdef.parse_form_definition(form).model_dump(mode="json", exclude_defaults=True)
    except InvalidInput:
        return form


def _write_json(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_xlsx(document: dict[str, Any]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet, rows in _sheet_rows(document):
        worksheet = workbook.create_sheet(str(sheet.title))
        worksheet.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = 30 if column.kind == "json" else 16
        for number, row in enumerate(rows):
            cells = []
            for value in row:
                if isinstance(value, str):
                    cell = WriteOnlyCell(worksheet, value=_XLSX_ILLEGAL.sub("", value))
                    cell.data_type = "s"  # text, never a formula
                else:
                    cell = WriteOnlyCell(worksheet, value=value)
                if number == 0:
                    cell.font = bold
                cells.append(cell)
            worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return _APOSTROPHE + text if text.startswith((*_FORMULA_START, _APOSTROPHE)) else text


def _write_csv_zip(document: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for sheet, rows in _sheet_rows(document):
            text = io.StringIO(newline="")
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerows([[_csv_cell(value) for value in row] for row in rows])
            archive.writestr(f"{sheet.title}.csv", ("\ufeff" + text.getvalue()).encode("utf-8"))
    return buffer.getvalue()


_WRITERS: dict[Fmt, Callable[[dict[str, Any]], bytes]] = {
    "json": _write_json,
    "xlsx": _write_xlsx,
    "csv": _write_csv_zip,
}


def write_catalogue(document: dict[str, Any], *, fmt: Fmt) -> bytes:
    """An exchange document (see the module docstring) encoded as `fmt`."""
    if fmt not in _WRITERS:
        raise InvalidInput(_("导出格式应为 json、xlsx 或 csv。"), field="format")
    return _WRITERS[fmt](document)


def export_catalogue(*, actor: Any, items: QuerySet[ImplementationItem], fmt: Fmt) -> tuple[bytes, str, str]:
    """`items` as a file: (bytes, content type, file name). CSV is a .zip with one file per sheet."""
    data = write_catalogue(catalogue_exchange(actor=actor, items=items), fmt=fmt)
    filename = f"catalogue-{timezone.localdate():%Y%m%d}.{EXTENSIONS[fmt]}"
    return data, CONTENT_TYPES[fmt], filename

