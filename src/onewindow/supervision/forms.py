"""Forms of the supervision configuration pages: a rule's switch and parameters, an item's warning
threshold. They check what a browser sends; the services check it again and decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from onewindow.supervision.choices import DEFAULT_NEAR_PERCENT
from onewindow.supervision.models import SupervisionRule

# The bounds `services.rule_configure` accepts.
MAX_PARAMETER = 100_000
PARAMETER_LABELS = {
    "after_days": _("红牌持续工作日数（达到即升级督办）"),
    "min_reason_chars": _("理由最少字数"),
    "min_seconds": _("环节最短用时（秒）"),
    "max_withdrawals": _("撤回次数上限"),
    "within_days": _("统计天数"),
}


def parameter_label(name: str) -> str:
    return str(PARAMETER_LABELS.get(name, name))


class RuleForm(forms.Form):
    """The rule switched on or off, and one whole number for each parameter the rule has."""

    enabled = forms.BooleanField(label=_("启用"), required=False)

    def __init__(self, *args: Any, rule: SupervisionRule, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"enabled": rule.enabled, **rule.parameters})
        super().__init__(*args, **kwargs)
        self.parameter_names = list(rule.parameters)
        for name in self.parameter_names:
            self.fields[name] = forms.IntegerField(
                label=parameter_label(name), min_value=0, max_value=MAX_PARAMETER
            )

    def parameters(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in self.parameter_names}


class ItemSettingForm(forms.Form):
    """An item's yellow threshold: a fixed number of working days, or a share of the limit."""

    near_days = forms.IntegerField(
        label=_("预警提前工作日"),
        required=False,
        min_value=0,
        max_value=60,
        help_text=_("留空则按时限的百分比计算"),
    )
    near_percent = forms.IntegerField(
        label=_("预警剩余时限百分比"),
        min_value=1,
        max_value=100,
        initial=DEFAULT_NEAR_PERCENT,
        help_text=_("剩余时限不超过该比例时亮黄牌，至少 1 个工作日"),
    )
    separate_accept_and_decide = forms.BooleanField(
        label=_("受理与决定须由不同人员办理"), required=False
    )
