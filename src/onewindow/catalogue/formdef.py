"""Application form definitions (申请表): a declarative schema stored with each item version.

The same definition renders the form on the portal and validates the submission on the server.

    {"fields": [
      {"key": "applicant_name", "label": "申请人姓名", "type": "text", "required": true, "max_length": 50},
      {"key": "kind", "label": "申请类型", "type": "choice",
       "choices": [{"value": "new", "label": "新办"}, {"value": "change", "label": "变更"}]},
      {"key": "old_number", "label": "原证号", "type": "text", "show_if": {"field": "kind", "equals": "change"}},
      {"key": "staff", "label": "从业人员", "type": "table",
       "columns": [{"key": "name", "label": "姓名", "type": "text", "required": true},
                   {"key": "id", "label": "身份证号", "type": "id_number"}]},
      {"key": "site_photo", "label": "经营场所照片", "type": "attachment", "material": "site_photos"}
    ]}

Four entry points besides the models:

- `parse_form_definition(data)` validates a definition (shape and meaning) with located,
  translated errors; `version_form(version)` is a catalogue version's form, parsed once;
- `validate_submission(definition, data)` checks what an applicant submitted and returns the
  cleaned data, or raises `FormErrors` naming every field that needs a change;
- `data_from_post(definition, request.POST)` turns the rendered HTML form back into the dict
  `validate_submission` takes (the template tag is `catalogue_forms.render_application_form`).

Cleaned values (what `validate_submission` returns and what a case stores), per type; a field
hidden by its `show_if` is absent, a visible field that was left empty holds None (or [] for the
list types):

    text        str, stripped; phone numbers and postcodes in half-width digits without spaces,
                mobile numbers without "+86"
    number      str: a plain decimal with exactly `decimals` fraction digits ("12", "3.50"), so
                no float rounding reaches the case or the JSON it is stored in
    date        str: ISO "yyyy-mm-dd"
    choice      str, or list[str] in the order of the choices when `multiple`
    address     {"region": normalised region code, "detail": str}
    id_number   str: the normalised 18-character number
    uscc        str: the normalised 18-character code
    table       list of row dicts, each holding every column (cleaned the same way)
    attachment  list[str] of stored-file tokens (ownership is checked by the case services)
"""

import datetime
import json
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from onewindow.core import structured
from onewindow.core.errors import InvalidInput
from onewindow.core.identifiers import normalise_region_code, parse_id_number, parse_uscc

FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]

FIELD_TYPES = ("text", "number", "date", "choice", "address", "id_number", "uscc", "table", "attachment")
FieldType = Literal["text", "number", "date", "choice", "address", "id_number", "uscc", "table", "attachment"]
# Named text formats instead of free regular expressions (no user-written regex runs on the server).
TextFormat = Literal["", "phone", "mobile", "email", "postcode"]

# Where a field may be prefilled from: the applicant's verified identity, nothing else.
PREFILL_SOURCES = (
    "applicant.real_name",
    "applicant.id_number",
    "applicant.phone",
    "enterprise.name",
    "enterprise.uscc",
    "enterprise.legal_representative",
)
# Types a table column may have: a table inside a table has no sensible form, and uploads belong
# to the case's materials, one list per material.
COLUMN_TYPES = ("text", "number", "date", "choice", "address", "id_number", "uscc")
# Types a show_if may compare with equals/any_of; the others can only be tested with `filled`.
COMPARABLE_TYPES = ("text", "number", "date", "choice", "id_number", "uscc")
TODAY = "today"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Annotated[str, StringConstraints(min_length=1, max_length=50, strip_whitespace=True)]
    label: Label


class ShowIf(BaseModel):
    """Show the field only when an earlier field has one of these values (or any value)."""

    model_config = ConfigDict(extra="forbid")
    field: FieldKey
    equals: str | None = None
    any_of: list[str] | None = None
    filled: bool | None = None

    @model_validator(mode="after")
    def one_condition(self) -> "ShowIf":
        given = [name for name in ("equals", "any_of", "filled") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(_("显示条件须且只须给出 equals、any_of、filled 之一。"))
        if self.any_of is not None and not self.any_of:
            raise ValueError(_("显示条件 any_of 至少需要一个取值。"))
        return self

    def wanted(self) -> list[str] | None:
        """The values that show the field, or None for a `filled` condition."""
        if self.equals is not None:
            return [self.equals]
        return self.any_of


def _parse_date_bound(value: str) -> datetime.date | None:
    """A min_date/max_date as a date; None for "today". Raises ValueError when neither."""
    if value == TODAY:
        return None
    if not _ISO_DATE.fullmatch(value):
        raise ValueError(value)
    return datetime.date.fromisoformat(value)


def _duplicate(keys: list[str]) -> str | None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return None


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: FieldKey
    label: Label
    type: FieldType
    required: bool = False
    help: Annotated[str, StringConstraints(max_length=500)] = ""
    # text
    multiline: bool = False
    max_length: Annotated[int, Field(ge=1, le=10000)] | None = None
    format: TextFormat = ""
    # number
    min: float | None = None
    max: float | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] = 0
    unit: Annotated[str, StringConstraints(max_length=20)] = ""
    # date: ISO dates or "today"
    min_date: str | None = None
    max_date: str | None = None
    # choice
    choices: list[Choice] = []
    multiple: bool = False
    # table
    columns: list["FormField"] = []
    min_rows: Annotated[int, Field(ge=0, le=500)] = 0
    max_rows: Annotated[int, Field(ge=1, le=500)] = 50
    # attachment: the key of the guide material this upload is
    material: FieldKey | None = None
    # prefill from the applicant's verified identity ("applicant.real_name", "applicant.id_number",
    # "applicant.phone", "enterprise.name", "enterprise.uscc", "enterprise.legal_representative")
    prefill: Annotated[str, StringConstraints(max_length=50)] = ""
    show_if: ShowIf | None = None

    @model_validator(mode="after")
    def consistent(self) -> "FormField":
        for message in _field_problems(self):
            raise ValueError(message)
        return self


def _field_problems(field: FormField) -> list[str]:
    """Rules within one field (its choices, columns, bounds); the first one is reported."""
    problems: list[str] = []
    names = {"label": field.label}
    if field.type == "choice":
        if not field.choices:
            problems.append(_("选择字段“%(label)s”至少需要一个选项。") % names)
        duplicate = _duplicate([choice.value for choice in field.choices])
        if duplicate:
            problems.append(_("选择字段“%(label)s”的选项值“%(value)s”重复。") % {**names, "value": duplicate})
    if field.type == "table":
        if not field.columns:
            problems.append(_("表格字段“%(label)s”至少需要一列。") % names)
        duplicate = _duplicate([column.key for column in field.columns])
        if duplicate:
            problems.append(_("表格字段“%(label)s”的列编号“%(key)s”重复。") % {**names, "key": duplicate})
        for column in field.columns:
            if column.type not in COLUMN_TYPES:
                problems.append(
                    _("表格字段“%(label)s”的列“%(column)s”不能是表格或附件。") % {**names, "column": column.label}
                )
            if column.show_if is not None:
                # The client shows and hides whole fields; a column that comes and goes per row
                # would leave cells nobody can explain.
                problems.append(
                    _("表格字段“%(label)s”的列“%(column)s”不能设置显示条件。") % {**names, "column": column.label}
                )
        if field.min_rows > field.max_rows:
            problems.append(_("表格字段“%(label)s”的最少行数不能大于最多行数。") % names)
    elif field.columns:
        problems.append(_("只有表格字段才能设置表格列（“%(label)s”不是表格字段）。") % names)
    if field.type == "attachment" and not field.material:
        problems.append(_("附件字段“%(label)s”须指明对应办事指南中的哪项材料。") % names)
    if any(bound is not None and not math.isfinite(bound) for bound in (field.min, field.max)):
        problems.append(_("字段“%(label)s”的最小值和最大值须为有限的数。") % names)
    elif field.min is not None and field.max is not None and field.min > field.max:
        problems.append(_("字段“%(label)s”的最小值不能大于最大值。") % names)
    bounds: dict[str, datetime.date | None] = {}
    for name in ("min_date", "max_date"):
        value = getattr(field, name)
        if value is None:
            continue
        try:
            bounds[name] = _parse_date_bound(value)
        except ValueError:
            problems.append(
                _("字段“%(label)s”的日期范围须为 yyyy-mm-dd 格式的日期或 today，“%(value)s”不是。")
                % {**names, "value": value}
            )
    low, high = bounds.get("min_date"), bounds.get("max_date")
    if low is not None and high is not None and low > high:
        problems.append(_("字段“%(label)s”的最早日期不能晚于最晚日期。") % names)
    if field.prefill and field.prefill not in PREFILL_SOURCES:
        problems.append(
            _("字段“%(label)s”的预填来源“%(source)s”不可用，可用的有：%(sources)s。")
            % {**names, "source": field.prefill, "sources": "、".join(PREFILL_SOURCES)}
        )
    return problems


class FormDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[FormField] = []

    @model_validator(mode="after")
    def consistent(self) -> "FormDefinition":
        for message in _definition_problems(self):
            raise ValueError(message)
        return self

    def field(self, key: str) -> FormField | None:
        return next((field for field in self.fields if field.key == key), None)


def _definition_problems(definition: FormDefinition) -> list[str]:
    """Rules across fields: unique keys, show_if naming an earlier field and its values."""
    problems: list[str] = []
    duplicate = _duplicate([field.key for field in definition.fields])
    if duplicate:
        problems.append(_("申请表字段编号“%(key)s”重复。") % {"key": duplicate})
    earlier: dict[str, FormField] = {}
    for field in definition.fields:
        condition = field.show_if
        if condition is not None:
            source = earlier.get(condition.field)
            names = {"label": field.label, "field": condition.field}
            wanted = condition.wanted()
            if source is None:
                problems.append(_("字段“%(label)s”的显示条件须引用排在它前面的字段，“%(field)s”不是。") % names)
            elif wanted is not None and source.type not in COMPARABLE_TYPES:
                problems.append(
                    _("字段“%(label)s”的显示条件只能判断“%(source)s”是否已填写（filled）。")
                    % {**names, "source": source.label}
                )
            elif wanted is not None and source.type == "choice":
                values = {choice.value for choice in source.choices}
                unknown = [value for value in wanted if value not in values]
                if unknown:
                    problems.append(
                        _("字段“%(label)s”的显示条件取值“%(value)s”不是“%(source)s”的选项值。")
                        % {**names, "value": unknown[0], "source": source.label}
                    )
        earlier.setdefault(field.key, field)
    return problems


# Labels for locating definition errors ("申请表字段第3项「选项」第2项：…").
LABELS: dict[str, Any] = {
    "fields": gettext_lazy("申请表字段"),
    "key": gettext_lazy("编号"),
    "label": gettext_lazy("名称"),
    "type": gettext_lazy("类型"),
    "required": gettext_lazy("必填"),
    "help": gettext_lazy("填写说明"),
    "multiline": gettext_lazy("多行"),
    "max_length": gettext_lazy("最大长度"),
    "format": gettext_lazy("格式"),
    "min": gettext_lazy("最小值"),
    "max": gettext_lazy("最大值"),
    "decimals": gettext_lazy("小数位数"),
    "unit": gettext_lazy("单位"),
    "min_date": gettext_lazy("最早日期"),
    "max_date": gettext_lazy("最晚日期"),
    "choices": gettext_lazy("选项"),
    "value": gettext_lazy("选项值"),
    "multiple": gettext_lazy("可多选"),
    "columns": gettext_lazy("表格列"),
    "min_rows": gettext_lazy("最少行数"),
    "max_rows": gettext_lazy("最多行数"),
    "material": gettext_lazy("对应材料"),
    "prefill": gettext_lazy("预填来源"),
    "show_if": gettext_lazy("显示条件"),
    "field": gettext_lazy("条件字段"),
    "equals": gettext_lazy("等于"),
    "any_of": gettext_lazy("取值之一"),
    "filled": gettext_lazy("已填写"),
}


def parse_form_definition(data: Any) -> FormDefinition:
    """Validate a form definition; raises InvalidInput with a translated, located message."""
    if isinstance(data, FormDefinition):
        return data
    return structured.parse(FormDefinition, data, labels=LABELS)


# Parsed forms by their version's content digest: a version's content never changes under its
# digest, and a form is parsed on every submission otherwise (twice: before and under the lock).
_FORMS_BY_DIGEST: dict[str, FormDefinition] = {}
_FORMS_KEPT = 256
_FORMS_WRITE = threading.Lock()


def version_form(version: Any) -> FormDefinition:
    """The form of a catalogue version, parsed once per content. The definition is shared:
    change a copy (``model_copy``), never the one returned."""
    form = _FORMS_BY_DIGEST.get(version.content_sha256)
    if form is None:
        form = parse_form_definition(version.content.get("form") or {})
        with _FORMS_WRITE:
            if len(_FORMS_BY_DIGEST) >= _FORMS_KEPT:
                del _FORMS_BY_DIGEST[next(iter(_FORMS_BY_DIGEST))]  # the oldest parsed
            _FORMS_BY_DIGEST[version.content_sha256] = form
    return form


# --- submissions ----------------------------------------------------------------------------

# The key of errors about the submission as a whole (Django's NON_FIELD_ERRORS).
FORM_ERROR_KEY = "__all__"
# Caps where the definition sets none: enough for a name or address line, and for a statement.
TEXT_MAX_LENGTH = 200
MULTILINE_MAX_LENGTH = 2000
ADDRESS_DETAIL_MAX_LENGTH = 200
ATTACHMENT_MAX_FILES = 20
# 15 integer digits: above any amount a form asks for, and exact in every numeric column.
NUMBER_MAX_DIGITS = 15

_MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
# Landline with area code (0851-28221234, extension allowed) or a 400/800 service number.
_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?|[48]00-?[0-9]{3}-?[0-9]{4}")
_POSTCODE = re.compile(r"[0-9]{6}")
_NUMBER = re.compile(r"[+-]?[0-9]{1,40}(?:\.[0-9]{1,40})?")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")

_BAD = object()  # a value that was refused (the error is recorded)
_HIDDEN = object()  # a field its show_if hides


class FormErrors(InvalidInput):
    """A submission that does not fit its form: `errors` maps each field key (or a path such as
    "staff.0.id" for a table cell, "site.region" for part of an address) to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        count = len(self.errors)
        message = ngettext("申请表有 %(n)d 处需要修改。", "申请表有 %(n)d 处需要修改。", count) % {"n": count}
        super().__init__(message, field=next(iter(self.errors), None))


class _Check:
    """One run of validate_submission: the errors found so far and the region lookups made."""

    def __init__(self, today: datetime.date) -> None:
        self.today = today
        self.errors: dict[str, str] = {}
        self._regions: dict[str, bool] = {}

    def refuse(self, path: str, message: str) -> object:
        self.errors.setdefault(path, message)
        return _BAD

    def region_exists(self, code: str) -> bool:
        if code not in self._regions:
            from onewindow.core.models import Region  # models load after this module

            self._regions[code] = Region.objects.filter(code=code).exists()
        return self._regions[code]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _wrong_type() -> str:
    return _("格式不对。")


def _required(field: FormField) -> str:
    if field.type == "choice":
        return _("请选择。")
    if field.type == "attachment":
        return _("请上传此项材料。")
    return _("必须填写。")


def _bad_characters(text: str, *, multiline: bool) -> bool:
    # NUL and other control characters break PostgreSQL JSON and hide text from reviewers; lone
    # surrogates (valid in JSON escapes) cannot be stored as UTF-8 at all.
    allowed = "\n\t" if multiline else "\t"
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _text(check: _Check, field: FormField, value: Any, path: str) -> Any:
    if _blank(value):
        return check.refuse(path, _required(field)) if field.required else None
    if not isinstance(value, str):
        return check.refuse(path, _wrong_type())
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\n" in text and not field.multiline:
        return check.refuse(path, _("此项只能填写一行。"))
    if _bad_characters(text, multiline=field.multiline):
        return check.refuse(path, _("含有不能使用的控制字符。"))
    limit = field.max_length or (MULTILINE_MAX_LENGTH if field.multiline else TEXT_MAX_LENGTH)
    if len(text) > limit:
        return check.refuse(path, _("不能超过 %(n)s 个字。") % {"n": limit})
    if not field.format:
        return text
    if field.format == "email":
        try:
            validate_email(text)
        except ValidationError:
            return check.refuse(path, _("请填写有效的电子邮箱地址。"))
        return text
    # Phone numbers and postcodes are typed with Chinese input methods: fold full-width digits.
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    mobile = _MOBILE.fullmatch(compact)
    if field.format == "mobile":
        if not mobile:
            return check.refuse(path, _("请填写11位手机号码。"))
        return mobile.group(1)
    if field.format == "phone":
        if mobile:
            return mobile.group(1)
        if not _LANDLINE.fullmatch(compact):
            return check.refuse(path, _("请填写手机号码或带区号的固定电话（如 0851-28221234）。"))
        return compact
    if not _POSTCODE.fullmatch(compact):
        return check.refuse(path, _("邮政编码应为6位数字。"))
    return compact


def _number(check: _Check, field: FormField, value: Any, path: str) -> Any:
    if _blank(value):
        return check.refuse(path, _required(field)) if field.required else None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return check.refuse(path, _("须为数字。"))
    text = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else str(value)
    # Only plain decimals: Decimal() would also take "NaN", "1e9" and "1_000".
    if not _NUMBER.fullmatch(text):
        return check.refuse(path, _("须为数字。"))
    number = Decimal(text)
    if abs(number) >= Decimal(10) ** NUMBER_MAX_DIGITS:
        return check.refuse(path, _("数值过大。"))
    exponent = number.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > field.decimals:
        if field.decimals == 0:
            return check.refuse(path, _("须为整数。"))
        return check.refuse(path, _("最多保留 %(n)s 位小数。") % {"n": field.decimals})
    if field.min is not None and number < Decimal(str(field.min)):
        return check.refuse(path, _("不能小于 %(n)s。") % {"n": _plain(Decimal(str(field.min)))})
    if field.max is not None and number > Decimal(str(field.max)):
        return check.refuse(path, _("不能大于 %(n)s。") % {"n": _plain(Decimal(str(field.max)))})
    # abs() so that "-0" is stored as "0".
    quantised = (abs(number) if number == 0 else number).quantize(Decimal(1).scaleb(-field.decimals))
    return format(quantised, "f")


def date_bound(spec: str | None, today: datetime.date) -> datetime.date | None:
    """A field's min_date/max_date as a date ("today" resolved); None when not set."""
    if spec is None:
        return None
    return _parse_date_bound(spec) or today


def _date(check: _Check, field: FormField, value: Any, path: str) -> Any:
    if _blank(value):
        return check.refuse(path, _required(field)) if field.required else None
    if not isinstance(value, str):
        return check.refuse(path, _wrong_type())
    text = unicodedata.normalize("NFKC", value).strip()
    if not _ISO_DATE.fullmatch(text):
        return check.refuse(path, _("日期格式应为 yyyy-mm-dd。"))
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return check.refuse(path, _("日期 %(date)s 不存在。") % {"date": text})
    low, high = date_bound(field.min_date, check.today), date_bound(field.max_date, check.today)
    if low is not None and day < low:
        return check.refuse(path, _("不能早于 %(date)s。") % {"date": low.isoformat()})
    if high is not None and day > high:
        return check.refuse(path, _("不能晚于 %(date)s。") % {"date": high.isoformat()})
    return day.isoformat()


def _choice(check: _Check, field: FormField, value: Any, path: str) -> Any:
    values = [choice.value for choice in field.choices]
    if field.multiple:
        if _blank(value):
            value = []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            return check.refuse(path, _wrong_type())
        picked = {item.strip() for item in value if item.strip()}
        if picked - set(values):
            return check.refuse(path, _("所选的值不在选项中。"))
        if field.required and not picked:
            return check.refuse(path, _required(field))
        return [item for item in values if item in picked]
    if _blank(value):
        return check.refuse(path, _required(field)) if field.required else None
    if not isinstance(value, str):
        return check.refuse(path, _wrong_type())
    if value.strip() not in values:
        return check.refuse(path, _("所选的值不在选项中。"))
    return value.strip()


def _address(check: _Check, field: FormField, value: Any, path: str) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        return check.refuse(path, _wrong_type())
    if any(key not in ("region", "detail") for key in value):
        return check.refuse(path, _("地址只包含行政区划和详细地址两项。"))
    region, detail = value.get("region"), value.get("detail")
    if _blank(region) and _blank(detail):
        return check.refuse(path, _required(field)) if field.required else None
    before = len(check.errors)
    code = ""
    if _blank(region):
        check.refuse(f"{path}.region", _("请填写行政区划代码。"))
    elif not isinstance(region, str):
        check.refuse(f"{path}.region", _wrong_type())
    else:
        try:
            code = normalise_region_code(region.strip())
        except ValidationError as exc:
            check.refuse(f"{path}.region", " ".join(exc.messages))
        else:
            if not check.region_exists(code):
                check.refuse(f"{path}.region", _("行政区划 %(code)s 不存在。") % {"code": code})
    text = detail.strip() if isinstance(detail, str) else ""
    if _blank(detail):
        check.refuse(f"{path}.detail", _("请填写详细地址。"))
    elif not isinstance(detail, str):
        check.refuse(f"{path}.detail", _wrong_type())
    elif _bad_characters(text, multiline=False):
        check.refuse(f"{path}.detail", _("此项只能填写一行，且不能含控制字符。"))
    elif len(text) > ADDRESS_DETAIL_MAX_LENGTH:
        check.refuse(f"{path}.detail", _("不能超过 %(n)s 个字。") % {"n": ADDRESS_DETAIL_MAX_LENGTH})
    return _BAD if len(check.errors) > before else {"region": code, "detail": text}


def _identifier(parser: Callable[[str], Any]) -> Callable[[_Check, FormField, Any, str], Any]:
    def clean(check: _Check, field: FormField, value: Any, path: str) -> Any:
        if _blank(value):
            return check.refuse(path, _required(field)) if field.required else None
        if not isinstance(value, str) or len(value) > 100:
            return check.refuse(path, _wrong_type())
        try:
            return parser(value).number
        except ValidationError as exc:
            return check.refuse(path, " ".join(exc.messages))

    return clean


def _table(check: _Check, field: FormField, value: Any, path: str) -> Any:
    if value is None:
        value = []
    if not isinstance(value, (list, tuple)):
        return check.refuse(path, _wrong_type())
    if len(value) > field.max_rows:
        return check.refuse(path, _("最多填写 %(n)s 行。") % {"n": field.max_rows})
    least = max(field.min_rows, 1 if field.required else 0)
    if len(value) < least:
        message = _("至少填写 %(n)s 行。") % {"n": least} if field.min_rows else _required(field)
        return check.refuse(path, message)
    columns = {column.key for column in field.columns}
    before = len(check.errors)
    rows = []
    for index, row in enumerate(value):
        row_path = f"{path}.{index}"
        if not isinstance(row, Mapping):
            check.refuse(row_path, _wrong_type())
            continue
        for key in row:
            if key not in columns:
                check.refuse(f"{row_path}.{str(key)[:60]}", _("表格中没有这一列。"))
        rows.append({
            column.key: _clean(check, column, row.get(column.key), f"{row_path}.{column.key}")
            for column in field.columns
        })
    return _BAD if len(check.errors) > before else rows


def _attachment(check: _Check, field: FormField, value: Any, path: str) -> Any:
    if value is None:
        value = []
    if not isinstance(value, (list, tuple)) or not all(isinstance(token, str) for token in value):
        return check.refuse(path, _wrong_type())
    tokens = list(dict.fromkeys(token.strip() for token in value if token.strip()))
    if any(not _TOKEN.fullmatch(token) for token in tokens):
        return check.refuse(path, _("上传的文件无法识别，请重新上传。"))
    if len(tokens) > ATTACHMENT_MAX_FILES:
        return check.refuse(path, _("最多上传 %(n)s 个文件。") % {"n": ATTACHMENT_MAX_FILES})
    if field.required and not tokens:
        return check.refuse(path, _required(field))
    return tokens


_CLEANERS: dict[str, Callable[[_Check, FormField, Any, str], Any]] = {
    "text": _text,
    "number": _number,
    "date": _date,
    "choice": _choice,
    "address": _address,
    "id_number": _identifier(parse_id_number),
    "uscc": _identifier(parse_uscc),
    "table": _table,
    "attachment": _attachment,
}


def _clean(check: _Check, field: FormField, value: Any, path: str) -> Any:
    return _CLEANERS[field.type](check, field, value, path)


def is_filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def condition_holds(condition: ShowIf, source: FormField, value: Any) -> bool:
    """Whether `condition` shows its field, given the cleaned value of the field it names."""
    wanted = condition.wanted()
    if wanted is None:
        return is_filled(value) == condition.filled
    given = value if isinstance(value, list) else [] if value is None else [value]
    if source.type == "number":
        # "3" and "3.00" are the same number.
        try:
            return any(Decimal(str(v)) == Decimal(w) for v in given for w in wanted)
        except InvalidOperation:
            return False
    return any(str(v) in wanted for v in given)


def validate_submission(
    definition: FormDefinition | Mapping[str, Any], data: Any, *, today: datetime.date | None = None
) -> dict[str, Any]:
    """Check a submission against its form; return the cleaned data (see the module docstring).

    Fields are checked in order, so a show_if sees the cleaned value of the field it names. A
    field whose show_if does not hold is neither required nor kept; a field whose condition names
    a refused field is skipped until that one is fixed. Raises FormErrors listing every problem.
    """
    definition = parse_form_definition(definition)
    check = _Check(today or timezone.localdate())
    if not isinstance(data, Mapping):
        raise FormErrors({FORM_ERROR_KEY: _("申请表数据格式不对。")})
    fields = {field.key: field for field in definition.fields}
    for key in data:
        if key not in fields:
            # Nothing outside the guide may be asked or accepted.
            check.refuse(str(key)[:60], _("申请表中没有这一项。"))
    state: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for field in definition.fields:
        condition = field.show_if
        if condition is not None:
            source = state.get(condition.field, _HIDDEN)
            if source is _HIDDEN or source is _BAD:
                state[field.key] = source
                continue
            if not condition_holds(condition, fields[condition.field], source):
                state[field.key] = _HIDDEN
                continue
        value = _clean(check, field, data.get(field.key), field.key)
        state[field.key] = value
        if value is not _BAD:
            cleaned[field.key] = value
    if check.errors:
        raise FormErrors(check.errors)
    return cleaned


# --- HTML form posts ------------------------------------------------------------------------


def field_name(key: str, *parts: str | int) -> str:
    """The HTML name of a field or of one of its parts: f-<key>[-<row>-<column>][-region]."""
    return "-".join(["f", key, *(str(part) for part in parts)])


def _getlist(post: Any, name: str) -> list[Any]:
    if hasattr(post, "getlist"):
        return list(post.getlist(name))
    value = post.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _get(post: Any, name: str) -> Any:
    values = _getlist(post, name)
    return values[-1] if values else None


def _post_value(field: FormField, post: Any, name: str) -> Any:
    if field.type == "address":
        region, detail = _get(post, f"{name}-region"), _get(post, f"{name}-detail")
        if region is None and detail is None:
            return None
        return {"region": region or "", "detail": detail or ""}
    if field.type == "attachment" or (field.type == "choice" and field.multiple):
        return [value for value in _getlist(post, name) if isinstance(value, str) and value]
    if field.type == "table":
        return _post_rows(field, post, name)
    return _get(post, name)


def _post_rows(field: FormField, post: Any, name: str) -> list[dict[str, Any]]:
    # Rows are numbered by the page (and by the script that adds them), so gaps are normal:
    # keep the order, renumber from 0, and drop rows left completely empty.
    columns = "|".join(re.escape(column.key) for column in field.columns)
    cell = re.compile(rf"{re.escape(name)}-([0-9]{{1,4}})-(?:{columns})(?:-region|-detail)?")
    indexes = sorted({int(match.group(1)) for key in post if (match := cell.fullmatch(str(key)))})
    rows = []
    # One more than allowed is enough for validation to say there are too many.
    for index in indexes[: field.max_rows + 1]:
        row = {column.key: _post_value(column, post, f"{name}-{index}-{column.key}") for column in field.columns}
        if any(_cell_filled(value) for value in row.values()):
            rows.append(row)
    return rows


def _cell_filled(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_cell_filled(part) for part in value.values())
    if isinstance(value, list):
        return bool(value)
    return not _blank(value)


def data_from_post(definition: FormDefinition | Mapping[str, Any], post: Any) -> dict[str, Any]:
    """The submission in an HTML form post (a QueryDict, or a plain dict of values or lists).

    Names: `f-<key>`; repeated for multiple choices and for attachment tokens (uploaded files
    arrive in request.FILES, not here); `f-<key>-region` and `f-<key>-detail` for an address;
    `f-<key>-<row>-<column>` for a table cell. Every field of the definition gets a value
    (None when absent), so the result can be rendered again as it is.
    """
    definition = parse_form_definition(definition)
    return {field.key: _post_value(field, post, field_name(field.key)) for field in definition.fields}


def initial_data(definition: FormDefinition | Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    """Starting values for a blank form: each field with a `prefill` source found in `known`
    (e.g. {"applicant.real_name": "张三"}, taken from the verified identity by the caller)."""
    definition = parse_form_definition(definition)
    return {
        field.key: known[field.prefill]
        for field in definition.fields
        if field.prefill and known.get(field.prefill) not in (None, "")
    }


def show_if_json(condition: ShowIf) -> str:
    """The data-show-if attribute the client script reads."""
    return json.dumps(condition.model_dump(exclude_none=True), ensure_ascii=False, separators=(",", ":"))
