"""Forms of the issuing department's pages. They check only the shape of what was typed; the
services decide everything else (identifiers, dates, field types, the lifecycle) and their
refusals are shown beside the field they name."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from onewindow.licences.choices import FieldType, HolderKind, LicenceStatus
from onewindow.licences.models import LicenceType

# A licence type's field `key` is the form field `field_<key>`.
FIELD_PREFIX = "field_"
SEARCH_MAX = 60


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels end without a colon: the layout sets them apart.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


class SearchForm(_Form):
    """The department's licences by number, holder identifier or holder name, and by status."""

    q = forms.CharField(
        label=_("证照编号、持证主体代码或名称"), max_length=SEARCH_MAX, required=False
    )
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *LicenceStatus.choices],
    )


def _licence_field(spec: dict[str, Any]) -> forms.Field:
    label, required = spec.get("label") or spec["key"], bool(spec.get("required"))
    kind = spec.get("type", FieldType.TEXT)
    if kind == FieldType.DATE:
        return forms.CharField(label=label, required=required, widget=_date_input())
    if kind == FieldType.INTEGER:
        return forms.CharField(
            label=label, required=required, max_length=16, widget=forms.NumberInput
        )
    if kind == FieldType.BOOLEAN:
        return forms.ChoiceField(
            label=label,
            required=required,
            choices=[("", _("未填写")), ("true", _("是")), ("false", _("否"))],
        )
    return forms.CharField(label=label, required=required, max_length=500)


class IssueForm(_Form):
    """A licence of one type: its holder, its validity and the type's own fields."""

    holder_id = forms.CharField(max_length=20)
    holder_name = forms.CharField(max_length=200)
    valid_from = forms.CharField(
        label=_("有效期起"),
        required=False,
        widget=_date_input(),
        help_text=_("留空为今天。"),
    )
    valid_until = forms.CharField(
        label=_("有效期至"),
        required=False,
        widget=_date_input(),
        help_text=_("留空按证照类型的有效期计算。"),
    )
    issued_on = forms.CharField(
        label=_("发证日期"),
        required=False,
        widget=_date_input(),
        help_text=_("留空同有效期起。"),
    )
    case_number = forms.CharField(label=_("办件编号"), max_length=50, required=False)
    legacy_number = forms.CharField(
        label=_("原证照编号"),
        max_length=100,
        required=False,
        help_text=_("将已有的纸质证照录入证照库时填写。"),
    )

    def __init__(self, licence_type: LicenceType, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person = licence_type.holder_kind == HolderKind.PERSON
        self.fields["holder_id"].label = (
            _("持证人身份证件号码") if person else _("持证单位统一社会信用代码")
        )
        self.fields["holder_name"].label = (
            _("持证人姓名") if person else _("持证单位名称")
        )
        self.keys = [spec["key"] for spec in licence_type.fields]
        for spec in licence_type.fields:
            self.fields[FIELD_PREFIX + spec["key"]] = _licence_field(spec)
        # The holder, then what the licence says, then its dates and references.
        self.order_fields(
            ["holder_id", "holder_name", *(FIELD_PREFIX + key for key in self.keys)]
        )

    def licence_fields(self) -> dict[str, Any]:
        return {key: self.cleaned_data[FIELD_PREFIX + key] for key in self.keys}

    def field_map(self) -> dict[str, str]:
        """The services name a licence field `fields.<key>`."""
        return {f"fields.{key}": FIELD_PREFIX + key for key in self.keys}


class StatusForm(_Form):
    """暂停, 恢复, 吊销 or 注销: the reason is recorded and told to the holder."""

    reason = forms.CharField(
        label=_("原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    case_number = forms.CharField(
        label=_("依据的办件编号"), max_length=50, required=False
    )
