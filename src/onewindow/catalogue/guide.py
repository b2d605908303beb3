"""The service guide (办事指南) of one published version, as labelled text ready to show.

The guide page, its printable PDF and the change history all present a version through this
module, so the page and the PDF show the same elements with the same labels. It reads the
stored content document leniently (a missing element shows as empty, an unknown code as the
code itself): an old version must stay readable whatever the schema has become since.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.db.models import TextChoices
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import Role
from onewindow.catalogue import selectors
from onewindow.catalogue.choices import (
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
    Visits,
)
from onewindow.catalogue.diff import Change
from onewindow.catalogue.files import is_token
from onewindow.catalogue.models import ImplementationItem, ItemVersion
from onewindow.catalogue.schema import LABELS

_WEB_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
SEPARATOR = "、"

FIELD_TYPE_LABELS = {
    "text": gettext_lazy("文本"),
    "number": gettext_lazy("数字"),
    "date": gettext_lazy("日期"),
    "choice": gettext_lazy("选择"),
    "address": gettext_lazy("地址"),
    "id_number": gettext_lazy("身份证号码"),
    "uscc": gettext_lazy("统一社会信用代码"),
    "table": gettext_lazy("表格"),
    "attachment": gettext_lazy("附件"),
}


def choice_label(choices: type[TextChoices] | Any, value: Any) -> str:
    """The translated label of a code, or the code itself when the code set does not know it."""
    if value is None or value == "":
        return ""
    try:
        return str(choices(value).label)
    except (ValueError, TypeError):
        return str(value)


def choice_labels(choices: Any, values: Any) -> str:
    if not isinstance(values, (list, tuple)):
        return ""
    return SEPARATOR.join(choice_label(choices, value) for value in values)


def yes_no(value: Any) -> str:
    return _("是") if value else _("否")


def days_text(amount: Any, unit: Any = TimeUnit.WORKING_DAY) -> str:
    """"10个工作日"; "当场办结" for 0; "" for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        days = int(amount)
    except (TypeError, ValueError):
        return str(amount)
    if days == 0:
        return _("当场办结")
    if unit == TimeUnit.NATURAL_DAY:
        return _("%(n)s个自然日") % {"n": days}
    return _("%(n)s个工作日") % {"n": days}


def limit_text(limit: Any, *, empty: str = "") -> str:
    if not isinstance(limit, dict) or limit.get("amount") is None:
        return empty
    return days_text(limit.get("amount"), limit.get("unit", TimeUnit.WORKING_DAY))


def compression_percent(content: dict[str, Any]) -> int | None:
    """How much shorter the promised limit is than the legal one, in percent."""
    legal, promised = content.get("legal_limit") or {}, content.get("promised_limit") or {}
    try:
        legal_days, promised_days = int(legal.get("amount")), int(promised.get("amount"))
    except (TypeError, ValueError):
        return None
    if legal_days <= 0 or legal.get("unit") != promised.get("unit"):
        return None
    return round((legal_days - promised_days) * 100 / legal_days)


def guide_file_url(impl_code: str, token: Any) -> str | None:
    """The public download link of a file a published guide names (blank form, sample)."""
    if not is_token(token):
        return None
    return reverse("catalogue:guide_file", args=[impl_code, token])


def web_url(value: Any) -> str | None:
    """An http(s) address safe to link to; anything else (javascript:, data:) is shown as text."""
    if isinstance(value, str) and _WEB_URL.fullmatch(value.strip()):
        return value.strip()
    return None


def apply_url(impl_code: str) -> str:
    """Where to apply online: the case part's application page for the item."""
    return reverse("cases:apply", kwargs={"impl_code": impl_code})


def licence_type_name(code: Any) -> str:
    """The name of an e-licence type by its code, once the licence library is installed."""
    if not isinstance(code, str) or not code:
        return ""
    try:
        model = apps.get_model("licences", "LicenceType")
    except LookupError:
        return code
    try:
        found = model._default_manager.filter(code=code).values_list("name", flat=True).first()
    except Exception:  # noqa: BLE001 (a different licence model must not break the guide)
        return code
    return f"{found}（{code}）" if found else code


def money(amount: Any) -> str:
    if amount is None or amount == "":
        return ""
    try:
        return _("%(amount)s元") % {"amount": f"{Decimal(str(amount)):.2f}"}
    except (InvalidOperation, ValueError):
        return str(amount)


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    note: str = ""
    badge: str = ""
    link: str | None = None


@dataclass(frozen=True)
class MaterialRow:
    number: int
    name: str
    source: str
    issuer: str
    format: str
    originals: int
    copies: int
    content: str
    sign_seal: str
    basis: str
    required: bool
    deferrable: bool
    licence: str
    blank_form: str | None
    sample: str | None


@dataclass(frozen=True)
class StepRow:
    number: int
    name: str
    kind: str
    role: str
    limit: str
    description: str


@dataclass(frozen=True)
class SpecialRow:
    kind: str
    name: str
    limit: str
    basis: str


@dataclass(frozen=True)
class FeeRow:
    name: str
    standard: str
    amount: str
    basis: str
    reducible: str


@dataclass(frozen=True)
class FieldRow:
    label: str
    type: str
    required: str


@dataclass
class Guide:
    item: ImplementationItem
    version: ItemVersion
    content: dict[str, Any]
    name: str
    is_current: bool
    basic: list[Row] = field(default_factory=list)
    time_limits: list[Row] = field(default_factory=list)
    handling: list[Row] = field(default_factory=list)
    result: list[Row] = field(default_factory=list)
    legal_basis: str = ""
    conditions: str = ""
    materials: list[MaterialRow] = field(default_factory=list)
    special_procedures: list[SpecialRow] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    charges_fee: bool = False
    fees: list[FeeRow] = field(default_factory=list)
    faq: list[tuple[str, str]] = field(default_factory=list)
    contact: list[Row] = field(default_factory=list)
    notes: str = ""
    differences: list[Row] = field(default_factory=list)
    form_fields: list[FieldRow] = field(default_factory=list)
    at_most_once: bool = False
    apply_url: str | None = None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


def _list_text(values: Any) -> str:
    if not isinstance(values, (list, tuple)):
        return ""
    return SEPARATOR.join(_text(value) for value in values if _text(value))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _dicts(values: Any) -> list[dict[str, Any]]:
    return [value for value in values if isinstance(value, dict)] if isinstance(values, list) else []


def _basic_rows(item: ImplementationItem, version: ItemVersion, content: dict[str, Any]) -> list[Row]:
    department = item.department
    theme_names = {theme.code: theme.name for theme in selectors.themes()}
    themes = [theme_names.get(code, code) for code in content.get("themes") or [] if isinstance(code, str)]
    return [
        Row(_("事项名称"), _text(content.get("name"))),
        Row(_("事项类型"), choice_label(ItemType, content.get("item_type"))),
        Row(_("基本编码"), item.basic_item.basic_code),
        Row(_("实施编码"), item.impl_code),
        Row(_("业务办理项编码"), item.handle_item_code),
        Row(_("实施主体"), department.name),
        Row(_("实施主体统一社会信用代码"), department.uscc),
        Row(_("实施主体性质"), choice_label(ImplementingNature, content.get("implementing_nature"))),
        Row(_("行使层级"), choice_label(ExerciseLevel, content.get("exercise_level"))),
        Row(_("权限划分"), _text(content.get("power_division"))),
        Row(_("行使内容"), _text(content.get("exercise_content"))),
        Row(_("共同实施部门"), _list_text(content.get("co_implementing"))),
        Row(_("承办机构"), _text(content.get("undertaking_office"))),
        Row(_("责任岗位"), _text(content.get("responsible_post"))),
        Row(_("服务对象"), choice_labels(ServiceObject, content.get("service_objects"))),
        Row(_("服务主题"), SEPARATOR.join(themes)),
        Row(_("所属清单"), choice_labels(ItemList, content.get("lists"))),
        Row(_("关键词"), _list_text(content.get("keywords"))),
        Row(_("行政区划"), f"{item.region.name}（{item.region.code}）"),
        Row(_("版本"), _("第%(n)s版") % {"n": version.number}),
    ]


def _time_rows(content: dict[str, Any]) -> list[Row]:
    legal = content.get("legal_limit") or {}
    promised = content.get("promised_limit") or {}
    percent = compression_percent(content)
    promised_note = _text(promised.get("note"))
    if percent is not None and percent > 0:
        compressed = _("比法定时限压缩%(percent)s%%") % {"percent": percent}
        promised_note = f"{compressed}；{promised_note}" if promised_note else compressed
    visits = _int(content.get("visits"))
    visit_text = ""
    if visits is not None:
        visit_text = _("%(n)s次") % {"n": visits}
        label = choice_label(Visits, visits)
        if label and label != str(visits):
            visit_text = f"{visit_text}（{label}）"
    rows = [
        Row(_("办件类型"), choice_label(CaseType, content.get("case_type"))),
        Row(_("法定办结时限"), limit_text(legal, empty=_("法律法规未规定")), note=_text(legal.get("note"))),
        Row(_("承诺办结时限"), limit_text(promised), note=promised_note),
    ]
    if _text(content.get("compression_reason")):
        rows.append(Row(_("时限未压缩理由"), _text(content.get("compression_reason"))))
    rows += [
        Row(_("到办事现场次数"), visit_text, badge=_("最多跑一次") if visits is not None and visits <= 1 else ""),
        Row(_("网上办理深度"), choice_label(OnlineDepth, _int(content.get("online_depth")))),
    ]
    return rows


def _handling_rows(content: dict[str, Any]) -> list[Row]:
    return [
        Row(_("办理形式"), choice_labels(HandlingForm, content.get("handling_forms"))),
        Row(_("通办范围"), choice_label(GeneralScope, content.get("general_scope") or "") or _("不通办")),
        Row(_("是否收费"), yes_no(content.get("charges_fee"))),
        Row(_("支持预约办理"), yes_no(content.get("supports_booking"))),
        Row(_("支持网上支付"), yes_no(content.get("supports_online_payment"))),
        Row(_("支持物流快递"), yes_no(content.get("supports_express"))),
        Row(_("送达方式"), choice_labels(DeliveryMethod, content.get("delivery_methods"))),
        Row(_("数量限制"), _text(content.get("quantity_limit")) or _("无")),
        Row(_("中介服务"), _text(content.get("intermediary_services")) or _("无")),
    ]


def _result_rows(content: dict[str, Any], link: Callable[[Any], str | None]) -> list[Row]:
    sample = link(content.get("result_sample"))
    return [
        Row(_("结果类型"), choice_label(ResultType, content.get("result_type"))),
        Row(_("结果名称"), _text(content.get("result_name"))),
        Row(_("结果样本"), _("下载") if sample else _("无"), link=sample),
    ]


def _materials(content: dict[str, Any], link: Callable[[Any], str | None]) -> list[MaterialRow]:
    rows = []
    for number, material in enumerate(_dicts(content.get("materials")), start=1):
        issuer = _text(material.get("issuer"))
        licence = _text(material.get("licence_type"))
        rows.append(MaterialRow(
            number=number,
            name=_text(material.get("name")),
            source=choice_label(MaterialSource, material.get("source")),
            issuer=issuer,
            format=choice_label(MaterialFormat, material.get("format")),
            originals=_int(material.get("originals")) or 0,
            copies=_int(material.get("copies")) or 0,
            content=_text(material.get("content")),
            sign_seal=_text(material.get("sign_seal")),
            basis=_text(material.get("basis")),
            required=bool(material.get("required", True)),
            deferrable=bool(material.get("deferrable")),
            licence=licence_type_name(licence) if licence else "",
            blank_form=link(material.get("blank_form")),
            sample=link(material.get("sample")),
        ))
    return rows


def _steps(content: dict[str, Any]) -> list[StepRow]:
    return [
        StepRow(
            number=number,
            name=_text(step.get("name")),
            kind=choice_label(StepKind, step.get("kind")),
            role=choice_label(Role, step.get("role")),
            limit=days_text(step.get("limit_days")),
            description=_text(step.get("description")),
        )
        for number, step in enumerate(_dicts(content.get("steps")), start=1)
    ]


def _specials(content: dict[str, Any]) -> list[SpecialRow]:
    return [
        SpecialRow(
            kind=choice_label(SpecialProcedureKind, procedure.get("kind")),
            name=_text(procedure.get("name")),
            limit=_("不超过%(limit)s") % {"limit": days_text(procedure.get("max_days"), procedure.get("unit"))},
            basis=_text(procedure.get("basis")),
        )
        for procedure in _dicts(content.get("special_procedures"))
    ]


def _fees(content: dict[str, Any]) -> list[FeeRow]:
    return [
        FeeRow(
            name=_text(fee.get("name")),
            standard=_text(fee.get("standard")),
            amount=money(fee.get("amount")),
            basis=_text(fee.get("basis")),
            reducible=yes_no(fee.get("reducible")),
        )
        for fee in _dicts(content.get("fees"))
    ]


def _contact(content: dict[str, Any]) -> list[Row]:
    contact = content.get("contact") if isinstance(content.get("contact"), dict) else {}
    online = _text(contact.get("online_url"))
    return [
        Row(_("办理地点"), _text(contact.get("hall_address"))),
        Row(_("办理时间"), _text(contact.get("hall_hours"))),
        Row(_("咨询电话"), _text(contact.get("consult_phone"))),
        Row(_("监督投诉电话"), _text(contact.get("supervise_phone"))),
        Row(_("网办地址"), online, link=web_url(online)),
    ]


def _differences(content: dict[str, Any]) -> list[Row]:
    differences = content.get("differences")
    if not isinstance(differences, dict):
        return []
    return [Row(str(LABELS.get(key, key)), _text(reason)) for key, reason in differences.items()]


def _form_fields(content: dict[str, Any]) -> list[FieldRow]:
    form = content.get("form") if isinstance(content.get("form"), dict) else {}
    return [
        FieldRow(
            label=_text(entry.get("label")),
            type=str(FIELD_TYPE_LABELS.get(entry.get("type"), entry.get("type") or "")),
            required=yes_no(entry.get("required")),
        )
        for entry in _dicts(form.get("fields"))
    ]


def build_guide(item: ImplementationItem, version: ItemVersion) -> Guide:
    """The guide of `version` of `item` (the current version or an earlier published one)."""
    content = version.content if isinstance(version.content, dict) else {}
    visits = _int(content.get("visits"))

    def link(token: Any) -> str | None:
        return guide_file_url(item.impl_code, token)

    return Guide(
        item=item,
        version=version,
        content=content,
        name=_text(content.get("name")) or item.name,
        is_current=item.current_version_id == version.pk,
        basic=_basic_rows(item, version, content),
        time_limits=_time_rows(content),
        handling=_handling_rows(content),
        result=_result_rows(content, link),
        legal_basis=_text(content.get("legal_basis")),
        conditions=_text(content.get("conditions")),
        materials=_materials(content, link),
        special_procedures=_specials(content),
        steps=_steps(content),
        charges_fee=bool(content.get("charges_fee")),
        fees=_fees(content),
        faq=[(_text(q.get("question")), _text(q.get("answer"))) for q in _dicts(content.get("faq"))],
        contact=_contact(content),
        notes=_text(content.get("notes")),
        differences=_differences(content),
        form_fields=_form_fields(content),
        at_most_once=visits is not None and visits <= 1,
        apply_url=apply_url(item.impl_code) if item.current_version_id == version.pk else None,
    )


# --- change history ------------------------------------------------------------------------------

# Which code set the value of an element belongs to, by the element's name (and its list's name
# where the same name means different things).
_CODES: dict[str, Any] = {
    "item_type": ItemType,
    "exercise_level": ExerciseLevel,
    "implementing_nature": ImplementingNature,
    "case_type": CaseType,
    "general_scope": GeneralScope,
    "result_type": ResultType,
    "unit": TimeUnit,
    "role": Role,
    "source": MaterialSource,
    "format": MaterialFormat,
    "online_depth": OnlineDepth,
    "visits": Visits,
    "service_objects": ServiceObject,
    "handling_forms": HandlingForm,
    "delivery_methods": DeliveryMethod,
    "lists": ItemList,
    ("steps", "kind"): StepKind,
    ("special_procedures", "kind"): SpecialProcedureKind,
}
# The element that names an entry of a list, for a one-line summary of the entry.
_ENTRY_NAMES = ("name", "question", "label", "key")


@dataclass(frozen=True)
class ChangeRow:
    label: str
    kind: str
    kind_label: str
    old: str
    new: str


def _names(path: Iterable[str]) -> list[str]:
    return [part for part in path if not part.startswith("[")]


def _codes_for(path: tuple[str, ...]) -> Any:
    names = _names(path)
    if not names:
        return None
    if len(names) >= 2 and (names[-2], names[-1]) in _CODES:
        return _CODES[(names[-2], names[-1])]
    return _CODES.get(names[-1])


_DAY_FIELDS = ("limit_days", "max_days")


def display_value(path: tuple[str, ...], value: Any) -> str:
    """One changed value as readable text: codes as labels, days as days, entries by their name."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return yes_no(value)
    names = _names(path)
    if names and (names[-1] in _DAY_FIELDS or (names[-1] == "amount" and names[-2:-1] != ["fees"])):
        return days_text(value)
    codes = _codes_for(path)
    if isinstance(value, (list, tuple)):
        if all(isinstance(entry, dict) for entry in value):
            return SEPARATOR.join(_entry_name(entry) for entry in value)
        if codes is not None:
            return choice_labels(codes, list(value))
        return SEPARATOR.join(str(entry) for entry in value)
    if isinstance(value, dict):
        if set(value) >= {"amount", "unit"} and names[-1:] != ["fees"]:
            return limit_text(value, empty="—")
        parts = []
        for key, entry in value.items():
            shown = display_value((*path, key), entry)
            if shown != "—":
                parts.append(f"{LABELS.get(key, key)}：{shown}")
        return "；".join(parts) or "—"
    if codes is not None:
        return choice_label(codes, value)
    return str(value)


def _entry_name(entry: dict[str, Any]) -> str:
    for key in _ENTRY_NAMES:
        if entry.get(key):
            return str(entry[key])
    return "—"


def _find_entry(entries: Any, key: str) -> dict[str, Any] | None:
    """The entry of a keyed list whose identifying element is `key` (see diff._ENTRY_KEYS)."""
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and key in {str(entry.get(name)) for name in ("key", "name", "question", "value")}:
            return entry
    return None


def change_label(path: tuple[str, ...], old: Any, new: Any) -> str:
    """"办理流程「审查」 › 环节时限": the entries of lists named by their names, not their keys."""
    parts: list[str] = []
    old_node, new_node = old, new
    for part in path:
        if part.startswith("[") and part.endswith("]") and parts:
            key = part[1:-1]
            entry = _find_entry(new_node, key) or _find_entry(old_node, key)
            parts[-1] = f"{parts[-1]}「{_entry_name(entry) if entry else key}」"
            old_node, new_node = _find_entry(old_node, key), _find_entry(new_node, key)
            continue
        parts.append(str(LABELS.get(part, part)))
        old_node = old_node.get(part) if isinstance(old_node, dict) else None
        new_node = new_node.get(part) if isinstance(new_node, dict) else None
    return " › ".join(parts)


def change_rows(
    changes: Iterable[Change], *, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None
) -> list[ChangeRow]:
    """The changes between two versions, readable; with the two contents, entries are named."""
    return [
        ChangeRow(
            label=change_label(change.path, old, new) if new is not None else change.label,
            kind=change.kind,
            kind_label=change.kind_label,
            old=display_value(change.path, change.old),
            new=display_value(change.path, change.new),
        )
        for change in changes
    ]
