from django import forms
from django.utils.translation import gettext_lazy as _

from onewindow.evaluation.choices import (
    AppealKind,
    FigureGrouping,
    Level,
    RectificationOutcome,
)

LEVEL_CHOICES = [(level.value, level.label) for level in Level]


class RatingForm(forms.Form):
    """The overall level and, optionally, each indicator of the subject rated."""

    level = forms.TypedChoiceField(
        label=_("整体满意度"),
        choices=LEVEL_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("文字评价"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("选择“不满意”或“非常不满意”时请写明原因。"),
    )

    def __init__(self, *args, indicators: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.indicator_codes = list(indicators)
        for code, label in indicators.items():
            self.fields[f"indicator_{code}"] = forms.TypedChoiceField(
                label=label,
                choices=[("", "—"), *LEVEL_CHOICES],
                coerce=int,
                required=False,
                empty_value=None,
            )

    def indicators(self) -> dict[str, int]:
        return {
            code: self.cleaned_data[f"indicator_{code}"]
            for code in self.indicator_codes
            if self.cleaned_data.get(f"indicator_{code}") is not None
        }


class CallBackForm(forms.Form):
    reached = forms.TypedChoiceField(
        label=_("是否联系上"),
        choices=[("1", _("已联系上")), ("0", _("未联系上"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(
        label=_("回访记录"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class FixForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("整改结果"), choices=RectificationOutcome.choices
    )
    result = forms.CharField(
        label=_("整改情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AppealForm(forms.Form):
    kind = forms.ChoiceField(label=_("申诉类型"), choices=AppealKind.choices)
    reason = forms.CharField(
        label=_("申诉理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AppealDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("复核结论"),
        choices=[("1", _("申诉成立")), ("0", _("驳回申诉"))],
        coerce=lambda value: value == "1",
    )
    opinion = forms.CharField(
        label=_("复核意见"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class FigureForm(forms.Form):
    by = forms.ChoiceField(
        label=_("统计维度"),
        choices=FigureGrouping.choices,
        initial=FigureGrouping.DEPARTMENT,
    )
    date_from = forms.DateField(
        label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
