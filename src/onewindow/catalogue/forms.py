"""HTML forms of the catalogue workbench: they parse and check shapes; the services decide
everything else (required elements, time-limit rules, codes, who may act).

The guide editor is one `VersionEditor`: a form for the single-valued elements and one formset
per list (materials, steps, fees, special procedures, questions). It turns the stored content
into initial values and a valid post back into the content document `services.version_update`
takes, and puts a service's located error back beside the field it names.

Guide files (each material's blank form and sample, the result sample) travel as stored-file
tokens in hidden fields; beside each, a file input replaces the file and a box removes it. The
editor only says which files were chosen (`VersionEditor.uploads`): the view stores them.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.forms import formset_factory
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import Role
from onewindow.accounts.selectors import managed_departments
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
from onewindow.catalogue.models import PublicationBatch
from onewindow.catalogue.schema import LABELS, STANDARD_ELEMENTS, ItemContent
from onewindow.core.errors import DomainError
from onewindow.core.models import Department

# What the file inputs for blank forms and samples offer (the upload checks decide).
GUIDE_FILE_ACCEPT = ".pdf,.ofd,.docx,.xlsx,.jpg,.jpeg,.png"
# How many basic items the create page offers for one search.
BASIC_ITEM_CHOICES = 30
# Separators staff type between keywords: commas and enumeration commas (both widths),
# semicolons, spaces and line breaks.
_KEYWORD_SEPARATORS = re.compile(r"[,，、;；\s]+")

key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,39}$",
    gettext_lazy("编号只能用小写字母、数字和下划线，以字母开头，不超过40位。"),
)


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _text(label: Any, *, max_length: int = 200, rows: int = 0, help_text: Any = "") -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput
    return forms.CharField(label=label, max_length=max_length, required=False, widget=widget, help_text=help_text)


def _choice(label: Any, choices: Any, *, initial: Any = None, required: bool = True) -> forms.ChoiceField:
    # The initial value is what the browser selects in a new row, so an untouched new row
    # counts as unchanged and is left out.
    choices = list(choices)
    return forms.ChoiceField(
        label=label, choices=choices, initial=initial if initial is not None else choices[0][0], required=required
    )


def _multiple(label: Any, choices: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
    )


def _guide_file(label: Any) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=False,
        widget=forms.FileInput(attrs={"accept": GUIDE_FILE_ACCEPT}),
        help_text=gettext_lazy("PDF、OFD、Word（docx）、Excel（xlsx）文档或 JPG、PNG 图片；选择新文件即替换现有文件。"),
    )


def _remove_file() -> forms.BooleanField:
    return forms.BooleanField(label=gettext_lazy("删除"), required=False)


def _days(label: Any, *, help_text: Any = "", maximum: int = 3650, initial: int | None = None) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=0, max_value=maximum, required=False, help_text=help_text, initial=initial
    )


# --- creating an item --------------------------------------------------------------------------


class ItemCreateForm(forms.Form):
    basic_item = forms.ModelChoiceField(
        label=gettext_lazy("基本目录事项"),
        queryset=selectors.basic_items(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": gettext_lazy("请选择一个基本目录事项。")},
    )
    department = forms.ModelChoiceField(label=gettext_lazy("实施主体"), queryset=Department.objects.none())
    impl_code = forms.CharField(
        label=gettext_lazy("实施编码"),
        max_length=36,
        required=False,
        help_text=gettext_lazy("可不填：按“实施主体统一社会信用代码 + 行使层级 + 基本编码”自动生成。"),
    )

    def __init__(self, actor: Any, *args: Any, query: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = managed_departments(actor).order_by("region__code", "name")
        self.fields["department"].queryset = departments
        if departments.count() == 1:
            self.fields["department"].initial = departments.first().pk
        # Any basic item may be picked; the page offers the ones the search found.
        found = list(selectors.basic_items(q=query)[:BASIC_ITEM_CHOICES])
        picked = self.data.get(self.add_prefix("basic_item")) if self.is_bound else None
        if picked and str(picked).isdigit() and all(str(basic.pk) != picked for basic in found):
            found += list(selectors.basic_items().filter(pk=int(picked)))
        self.fields["basic_item"].choices = [(basic.pk, str(basic)) for basic in found]
        self.basic_items_found = found


# --- the guide editor --------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSlot:
    """One guide file in the editor: the token the content keeps, the input that replaces the
    file, the box that removes it, and the stored file the token names (None if unreadable)."""

    element: str
    token: forms.BoundField
    upload: forms.BoundField
    remove: forms.BoundField
    current: Any


class GuideFilesMixin:
    """A form with guide files: for each element in FILES, "<element>" (the token, hidden),
    "<element>_file" (a new file) and "<element>_remove" (clear it)."""

    FILES: tuple[str, ...] = ()
    # Stored files by token, for the names and links shown beside the inputs (set by the editor).
    stored_files: dict[str, Any] = {}

    @property
    def file_field_names(self) -> set[str]:
        return {f"{element}_{part}" for element in self.FILES for part in ("file", "remove")}

    @property
    def file_slots(self) -> list[FileSlot]:
        slots = []
        for element in self.FILES:
            token = self[element]
            slots.append(FileSlot(
                element, token, self[f"{element}_file"], self[f"{element}_remove"],
                self.stored_files.get(token.value() or ""),
            ))
        return slots

    def tokens(self) -> list[str]:
        """The tokens the form holds (posted or initial), for looking up the stored files."""
        return [value for element in self.FILES if (value := self[element].value())]

    def with_files(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values` without the file inputs and boxes, with each token removed if its box is ticked."""
        for element in self.FILES:
            values.pop(f"{element}_file", None)
            if values.pop(f"{element}_remove", False):
                values[element] = ""
        return values

    def chosen_files(self) -> list[tuple[str, Any]]:
        """(element, uploaded file) for each file chosen in a valid post."""
        return [(element, self.cleaned_data[f"{element}_file"]) for element in self.FILES
                if self.cleaned_data.get(f"{element}_file")]


class ContentForm(GuideFilesMixin, forms.Form):
    """The single-valued elements of a version's content, the form definition and the change note."""

    FILES = ("result_sample",)

    # basic information
    name = _text(LABELS["name"])
    item_type = _choice(LABELS["item_type"], ItemType.choices)
    exercise_level = _choice(LABELS["exercise_level"], ExerciseLevel.choices)
    legal_basis = _text(LABELS["legal_basis"], max_length=4000, rows=4)
    power_division = _text(LABELS["power_division"], max_length=4000, rows=2)
    exercise_content = _text(LABELS["exercise_content"], max_length=4000, rows=2)
    implementing_nature = _choice(LABELS["implementing_nature"], ImplementingNature.choices)
    co_implementing = _text(
        LABELS["co_implementing"], max_length=4000, rows=2, help_text=gettext_lazy("每行一个部门。")
    )
    undertaking_office = _text(LABELS["undertaking_office"])
    responsible_post = _text(LABELS["responsible_post"])
    service_objects = _multiple(LABELS["service_objects"], ServiceObject.choices)
    handling_forms = _multiple(LABELS["handling_forms"], HandlingForm.choices)
    case_type = _choice(LABELS["case_type"], CaseType.choices)
    general_scope = _choice(LABELS["general_scope"], GeneralScope.choices, required=False)
    themes = _multiple(LABELS["themes"], [])
    lists = _multiple(LABELS["lists"], ItemList.choices)
    keywords = _text(
        LABELS["keywords"], max_length=2000, help_text=gettext_lazy("别名、俗称等，用逗号、顿号或空格分隔。")
    )
    # time limits
    legal_limit_amount = _days(gettext_lazy("法定办结时限"), help_text=gettext_lazy("法律未规定时限的留空。"))
    legal_limit_unit = _choice(gettext_lazy("法定时限单位"), TimeUnit.choices)
    legal_limit_note = _text(gettext_lazy("法定时限说明"), max_length=4000)
    promised_limit_amount = _days(gettext_lazy("承诺办结时限"), help_text=gettext_lazy("即办件填 0。"))
    promised_limit_unit = _choice(gettext_lazy("承诺时限单位"), TimeUnit.choices)
    promised_limit_note = _text(gettext_lazy("承诺时限说明"), max_length=4000)
    compression_reason = _text(
        LABELS["compression_reason"],
        max_length=4000,
        rows=2,
        help_text=gettext_lazy("承诺时限未比法定时限压缩 50% 时必须填写。"),
    )
    visits = forms.TypedChoiceField(label=LABELS["visits"], choices=Visits.choices, coerce=int)
    online_depth = forms.TypedChoiceField(label=LABELS["online_depth"], choices=OnlineDepth.choices, coerce=int)
    supports_booking = forms.BooleanField(label=LABELS["supports_booking"], required=False)
    supports_online_payment = forms.BooleanField(label=LABELS["supports_online_payment"], required=False)
    supports_express = forms.BooleanField(label=LABELS["supports_express"], required=False)
    # fees, conditions, results
    charges_fee = forms.BooleanField(label=gettext_lazy("收费事项"), required=False)
    quantity_limit = _text(LABELS["quantity_limit"], max_length=4000, rows=2)
    intermediary_services = _text(LABELS["intermediary_services"], max_length=4000, rows=2)
    conditions = _text(LABELS["conditions"], max_length=4000, rows=5)
    result_type = _choice(LABELS["result_type"], ResultType.choices)
    result_name = _text(LABELS["result_name"])
    result_sample = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    result_sample_file = _guide_file(LABELS["result_sample"])
    result_sample_remove = _remove_file()
    delivery_methods = _multiple(LABELS["delivery_methods"], DeliveryMethod.choices)
    # where, when, who to ask
    contact_hall_address = _text(LABELS["hall_address"])
    contact_hall_hours = _text(LABELS["hall_hours"])
    contact_consult_phone = _text(LABELS["consult_phone"])
    contact_supervise_phone = _text(LABELS["supervise_phone"])
    contact_online_url = _text(LABELS["online_url"])
    notes = _text(LABELS["notes"], max_length=4000, rows=3)
    # the application form, as its JSON definition
    form_definition = forms.CharField(
        label=gettext_lazy("申请表定义（JSON）"),
        required=False,
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "cw-code"}),
        help_text=gettext_lazy('字段列表，例如 {"fields": [{"key": "applicant_name", "label": "申请人姓名", '
                               '"type": "text", "required": true}]}。'),
    )
    change_note = _text(
        gettext_lazy("变更说明"),
        max_length=4000,
        rows=3,
        help_text=gettext_lazy("说明本次修改了什么、为什么修改；提交法制审核时必须填写，并在公开的变更记录中显示。"),
    )

    SCALARS = (
        "name", "item_type", "exercise_level", "legal_basis", "power_division", "exercise_content",
        "implementing_nature", "undertaking_office", "responsible_post", "service_objects", "handling_forms",
        "case_type", "general_scope", "themes", "lists", "compression_reason", "visits", "online_depth",
        "supports_booking", "supports_online_payment", "supports_express", "charges_fee", "quantity_limit",
        "intermediary_services", "conditions", "result_type", "result_name", "result_sample", "delivery_methods",
        "notes",
    )
    # (content element, its part): form field "<element>_<part>".
    PARTS = (
        ("legal_limit", ("amount", "unit", "note")),
        ("promised_limit", ("amount", "unit", "note")),
        ("contact", ("hall_address", "hall_hours", "consult_phone", "supervise_phone", "online_url")),
    )

    def __init__(self, *args: Any, theme_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].choices = theme_choices
        # One reason per standard element the item may differ in.
        for name in STANDARD_ELEMENTS:
            self.fields[f"difference_{name}"] = _text(
                LABELS[name], max_length=4000, rows=2, help_text=gettext_lazy("与基本目录标准要素不同的理由。")
            )

    def clean_form_definition(self) -> Any:
        text = self.cleaned_data["form_definition"].strip()
        if not text:
            return {"fields": []}
        try:
            definition = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("申请表定义不是有效的 JSON：第 %(line)s 行第 %(column)s 列附近有误。")
                % {"line": exc.lineno, "column": exc.colno}
            ) from None
        if not isinstance(definition, dict):
            raise forms.ValidationError(_('申请表定义须为 JSON 对象，例如 {"fields": []}。'))
        return definition

    @classmethod
    def initial_from(cls, content: dict[str, Any], change_note: str) -> dict[str, Any]:
        initial = {name: content[name] for name in cls.SCALARS if name in content}
        for element, parts in cls.PARTS:
            for part in parts:
                initial[f"{element}_{part}"] = (content.get(element) or {}).get(part)
        initial["co_implementing"] = "\n".join(content.get("co_implementing", []))
        initial["keywords"] = "、".join(content.get("keywords", []))
        initial["form_definition"] = json.dumps(content.get("form", {"fields": []}), ensure_ascii=False, indent=2)
        initial["change_note"] = change_note
        for name, reason in (content.get("differences") or {}).items():
            initial[f"difference_{name}"] = reason
        return initial

    def content(self) -> dict[str, Any]:
        data = self.cleaned_data
        content = {name: data[name] for name in self.SCALARS}
        for element, parts in self.PARTS:
            content[element] = {part: data[f"{element}_{part}"] for part in parts}
        content["co_implementing"] = [line.strip() for line in data["co_implementing"].splitlines() if line.strip()]
        content["keywords"] = [word for word in _KEYWORD_SEPARATORS.split(data["keywords"]) if word]
        content["form"] = data["form_definition"]
        content["differences"] = {
            name: data[f"difference_{name}"].strip() for name in STANDARD_ELEMENTS if data[f"difference_{name}"].strip()
        }
        if data["result_sample_remove"]:
            content["result_sample"] = ""
        return content

    def field_for(self, path: list[str]) -> str | None:
        """The form field holding the content element at `path` ("promised_limit.amount" …)."""
        if not path:
            return None
        if path[0] == "form":
            return "form_definition"
        if path[0] == "differences" and len(path) > 1:
            return f"difference_{path[1]}" if f"difference_{path[1]}" in self.fields else None
        if len(path) > 1 and f"{path[0]}_{path[1]}" in self.fields:
            return f"{path[0]}_{path[1]}"
        return path[0] if path[0] in self.fields else None


class RowForm(GuideFilesMixin, forms.Form):
    """One entry of a list element."""

    def row(self) -> dict[str, Any]:
        return self.with_files(
            {name: value for name, value in self.cleaned_data.items() if name not in ("ORDER", "DELETE")}
        )


class MaterialForm(RowForm):
    FILES = ("blank_form", "sample")

    key = forms.CharField(
        label=LABELS["key"], max_length=40, required=False, validators=[key_validator],
        help_text=gettext_lazy("留空自动生成，如 m1。"),
    )
    name = _text(gettext_lazy("材料名称"))
    required = forms.BooleanField(label=LABELS["required"], required=False, initial=True)
    deferrable = forms.BooleanField(label=LABELS["deferrable"], required=False)
    source = _choice(LABELS["source"], MaterialSource.choices, initial=MaterialSource.APPLICANT)
    issuer = _text(LABELS["issuer"])
    format = _choice(LABELS["format"], MaterialFormat.choices, initial=MaterialFormat.BOTH)
    originals = _days(LABELS["originals"], maximum=20, initial=0)
    copies = _days(LABELS["copies"], maximum=20, initial=0)
    sign_seal = _text(LABELS["sign_seal"])
    licence_type = _text(LABELS["licence_type"], max_length=50)
    basis = _text(gettext_lazy("设定依据"), max_length=4000, rows=2)
    content = _text(LABELS["content"], max_length=4000, rows=2)
    blank_form = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    sample = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    blank_form_file = _guide_file(LABELS["blank_form"])
    blank_form_remove = _remove_file()
    sample_file = _guide_file(LABELS["sample"])
    sample_remove = _remove_file()

    def row(self) -> dict[str, Any]:
        row = super().row()
        row["originals"] = row["originals"] or 0
        row["copies"] = row["copies"] or 0
        return row


class StepForm(RowForm):
    key = forms.CharField(
        label=LABELS["key"], max_length=40, required=False, validators=[key_validator],
        help_text=gettext_lazy("留空自动生成，如 step1。"),
    )
    name = _text(gettext_lazy("环节名称"))
    kind = _choice(LABELS["kind"], StepKind.choices, initial=StepKind.REVIEW)
    role = _choice(LABELS["role"], Role.choices, initial=Role.REVIEWER)
    limit_days = _days(gettext_lazy("环节时限（工作日）"))
    description = _text(LABELS["description"], max_length=4000, rows=2)


class FeeForm(RowForm):
    name = _text(gettext_lazy("收费项目名称"))
    standard = _text(LABELS["standard"], help_text=gettext_lazy("如：每件 10 元。"))
    amount = forms.DecimalField(
        label=gettext_lazy("金额（元）"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    basis = _text(gettext_lazy("收费依据"), max_length=4000, rows=2)
    reducible = forms.BooleanField(label=LABELS["reducible"], required=False)

    def row(self) -> dict[str, Any]:
        row = super().row()
        row["amount"] = None if row["amount"] is None else str(row["amount"])
        return row


class SpecialProcedureForm(RowForm):
    kind = _choice(LABELS["kind"], SpecialProcedureKind.choices)
    name = _text(gettext_lazy("程序名称"), help_text=gettext_lazy("如：现场勘察、听证、专家评审。"))
    max_days = _days(LABELS["max_days"], maximum=365)
    unit = _choice(LABELS["unit"], TimeUnit.choices)
    basis = _text(gettext_lazy("设定依据"), max_length=4000, rows=2)


class QuestionForm(RowForm):
    question = _text(LABELS["question"])
    answer = _text(LABELS["answer"], max_length=4000, rows=3)


@dataclass(frozen=True)
class ListSpec:
    element: str
    form: type[RowForm]
    title: Any
    add_label: Any
    key_prefix: str = ""  # entries with a `key` get "<prefix><n>" when it is left empty


LISTS = (
    ListSpec("materials", MaterialForm, LABELS["materials"], gettext_lazy("添加材料"), "m"),
    ListSpec("steps", StepForm, LABELS["steps"], gettext_lazy("添加环节"), "step"),
    ListSpec("fees", FeeForm, LABELS["fees"], gettext_lazy("添加收费项目")),
    ListSpec("special_procedures", SpecialProcedureForm, LABELS["special_procedures"], gettext_lazy("添加特别程序")),
    ListSpec("faq", QuestionForm, LABELS["faq"], gettext_lazy("添加问题")),
)
_SPECS = {spec.element: spec for spec in LISTS}


def _formset_class(spec: ListSpec) -> type[forms.BaseFormSet]:
    return formset_factory(spec.form, extra=0, can_delete=True, can_order=True, max_num=200, absolute_max=200)


def _required_elements(model: Any) -> set[str]:
    return {name for name, field in model.model_fields.items() if field.is_required()}


# Elements the schema requires: left empty, they are left out so that the service says "必须填写".
_REQUIRED = {
    None: _required_elements(ItemContent),
    **{
        spec.element: _required_elements(ItemContent.model_fields[spec.element].annotation.__args__[0])
        for spec in LISTS
    },
}


def _without_blanks(values: dict[str, Any], required: set[str]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if not (name in required and _blank(value))}


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


@dataclass(frozen=True)
class Upload:
    """A file chosen in the editor, and where its token goes in the content."""

    form: GuideFilesMixin
    element: str  # "blank_form", "sample", "result_sample"
    file: Any
    list_element: str | None = None  # "materials" for an entry's file, None for the content's own
    index: int = 0  # the entry, in content order


class VersionEditor:
    """The editor of one draft: the content form and a formset per list element."""

    def __init__(
        self,
        data: QueryDict | None = None,
        files: Any = None,
        *,
        content: dict[str, Any] | None = None,
        change_note: str = "",
        theme_choices: list[tuple[str, str]],
        known_files: Any = frozenset(),
    ) -> None:
        self.adding = ""
        self.specs = _SPECS
        # A posted token must be one the draft already holds: new files come only as uploads.
        self.known_files = frozenset(known_files)
        if data is not None:
            data, self.adding = self._with_added_row(data)
        initial = ContentForm.initial_from(content or {}, change_note) if data is None else None
        self.form = ContentForm(data, files, initial=initial, theme_choices=theme_choices)
        self.formsets = {
            spec.element: _formset_class(spec)(
                data, files, prefix=spec.element,
                initial=None if data is not None else (content or {}).get(spec.element, []),
            )
            for spec in LISTS
        }
        # Forms in content order, so a service error about "materials.2" finds its row.
        self._rows: dict[str, list[RowForm]] = {}
        self.posted_content: dict[str, Any] | None = None
        self.error = ""

    @staticmethod
    def _with_added_row(data: QueryDict) -> tuple[QueryDict, str]:
        """A post that pressed "add row": the same data with one new row holding the defaults."""
        element = data.get("add_row", "")
        spec = _SPECS.get(element)
        total_name = f"{element}-TOTAL_FORMS"
        if spec is None or not str(data.get(total_name, "")).isdigit():
            return data, ""
        data = data.copy()
        index = int(data[total_name])
        data[total_name] = str(index + 1)
        for name, field in spec.form.base_fields.items():
            if field.initial is None:
                continue
            if isinstance(field, forms.BooleanField):
                if field.initial:
                    data[f"{element}-{index}-{name}"] = "on"
            else:
                data[f"{element}-{index}-{name}"] = str(field.initial)
        return data, element

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for formset in self.formsets.values():
            valid = formset.is_valid() and valid
        if valid:
            for form in self._file_forms(kept=True):
                tokens = [form.cleaned_data[element] for element in form.FILES]
                if any(token and token not in self.known_files for token in tokens):
                    form.add_error(None, _("文件引用无效，请重新上传该文件。"))
                    valid = False
        return valid

    # --- guide files

    def _file_forms(self, *, kept: bool = False) -> list[GuideFilesMixin]:
        """The forms with guide files; `kept`: only the entries a valid post keeps (not deleted)."""
        found: list[GuideFilesMixin] = [self.form]
        for spec in LISTS:
            if spec.form.FILES:
                formset = self.formsets[spec.element]
                found += formset.ordered_forms if kept else formset.forms
        return found

    def file_tokens(self) -> set[str]:
        """Every token the editor holds, to look up the files to show."""
        return {token for form in self._file_forms() for token in form.tokens()}

    def show_files(self, stored_files: dict[str, Any]) -> None:
        """The stored files by token, for the names and download links beside the inputs."""
        for form in self._file_forms():
            form.stored_files = stored_files

    def uploads(self) -> list[Upload]:
        """The files chosen in a valid post (after `content()`), in content order."""
        found = [Upload(self.form, element, file) for element, file in self.form.chosen_files()]
        for element, rows in self._rows.items():
            for index, row in enumerate(rows):
                found += [Upload(row, name, file, element, index) for name, file in row.chosen_files()]
        return found

    def attach(self, upload: Upload, token: str) -> None:
        """Put the stored upload's token into the content `content()` returned."""
        content = self.posted_content
        target = content if upload.list_element is None else content[upload.list_element][upload.index]
        target[upload.element] = token

    def refuse_upload(self, upload: Upload, message: str) -> None:
        upload.form.add_error(f"{upload.element}_file", message)

    @property
    def change_note(self) -> str:
        return self.form.cleaned_data["change_note"]

    def content(self) -> dict[str, Any]:
        """The content document of a valid post (checked by the service, not here)."""
        content = _without_blanks(self.form.content(), _REQUIRED[None])
        for spec in LISTS:
            rows = list(self.formsets[spec.element].ordered_forms)
            self._rows[spec.element] = rows
            entries = [_without_blanks(row.row(), _REQUIRED[spec.element]) for row in rows]
            if spec.key_prefix:
                _fill_keys(entries, spec.key_prefix)
            content[spec.element] = entries
        self.posted_content = content
        return content

    def add_service_error(self, exc: DomainError) -> None:
        """Show the service's message above the editor and beside the element it names."""
        self.error = exc.message
        path = [part for part in (exc.field or "").split(".") if part]
        rows = self._rows.get(path[0]) if path else None
        if rows is not None and len(path) > 1 and path[1].isdigit() and int(path[1]) < len(rows):
            row = rows[int(path[1])]
            name = path[2] if len(path) > 2 and path[2] in row.fields else None
            row.add_error(name, exc.message)
            return
        name = self.form.field_for(path)
        if name is not None:
            self.form.add_error(name, exc.message)

    @property
    def non_field_errors(self) -> list[str]:
        errors = list(self.form.non_field_errors())
        for formset in self.formsets.values():
            errors += list(formset.non_form_errors())
        return errors

    @property
    def has_errors(self) -> bool:
        if not self.form.is_bound:
            return False
        return bool(self.form.errors) or any(
            formset.non_form_errors() or any(form.errors for form in formset.forms)
            for formset in self.formsets.values()
        )

    def definition(self) -> dict[str, Any] | None:
        """The form definition in the editor (None when it is not a JSON object), for the preview."""
        text = (self.form["form_definition"].value() or "").strip()
        try:
            definition = json.loads(text) if text else {"fields": []}
        except json.JSONDecodeError:
            return None
        return definition if isinstance(definition, dict) else None

    def differences(self, differing: list[str]) -> list[tuple[str, Any, forms.BoundField, bool]]:
        """The reason fields to show: every differing element, and every element with a reason."""
        shown = []
        for name in STANDARD_ELEMENTS:
            bound = self.form[f"difference_{name}"]
            if name in differing or (bound.value() or "").strip():
                shown.append((name, LABELS[name], bound, name in differing))
        return shown


def _fill_keys(entries: list[dict[str, Any]], prefix: str) -> None:
    used = {entry.get("key") for entry in entries}
    number = 0
    for entry in entries:
        if entry.get("key"):
            continue
        number += 1
        while f"{prefix}{number}" in used:
            number += 1
        entry["key"] = f"{prefix}{number}"
        used.add(entry["key"])


def theme_choices(themes: Any, content: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The themes to offer: every theme, and any code the content holds that is not one (yet)."""
    choices = [(theme.code, f"{theme.name}（{theme.get_audience_display()}）") for theme in themes]
    known = {code for code, _label in choices}
    choices += [(code, code) for code in (content or {}).get("themes", []) if code not in known]
    return choices


# --- review and publication ---------------------------------------------------------------


class OpinionForm(forms.Form):
    opinion = _text(gettext_lazy("审核意见"), max_length=4000, rows=3)


class ReasonForm(forms.Form):
    reason = _text(gettext_lazy("紧急发布理由"), max_length=4000, rows=3)


class ChangeNoteForm(forms.Form):
    change_note = _text(gettext_lazy("变更说明"), max_length=4000, rows=2)


class ScheduleForm(forms.Form):
    batch = forms.ModelChoiceField(
        label=gettext_lazy("发布批次"),
        queryset=PublicationBatch.objects.none(),
        error_messages={"required": gettext_lazy("请选择发布批次。")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = selectors.open_batches()
        self.fields["batch"].label_from_instance = lambda batch: f"{batch.title}（{batch.publish_on:%Y-%m-%d}）"


class BatchForm(forms.Form):
    publish_on = forms.DateField(
        label=gettext_lazy("计划发布日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("集中发布安排在每年6月、12月。"),
    )
    title = _text(gettext_lazy("批次名称"), max_length=100, help_text=gettext_lazy("可不填，按日期生成。"))
