"""Forms of the applicant portal. They check only the shape of what was typed; the services
decide everything else and their refusals are shown beside the field they name."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from onewindow.core.errors import DomainError

# The statement an agent records with the citizen's consent; the agent may reword it.
AGENT_CONSENT = _("申请人已当面委托本人代为申报该事项，同意本人代为填写申请表、提交和补正申请材料，"
                  "并已知悉申请材料须真实有效。")


def add_domain_error(form: forms.Form, exc: DomainError, *, field_map: dict[str, str] | None = None) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    field = (field_map or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels end without a colon: the layout sets them apart.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class StartForm(_Form):
    """Whose name to apply in: the applicant themself, or an enterprise they handle for."""

    enterprise = forms.ChoiceField(label=_("申请主体"), required=False, widget=forms.RadioSelect)

    def __init__(self, enterprises: list[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enterprises = {str(enterprise.pk): enterprise for enterprise in enterprises}
        self.fields["enterprise"].choices = [("", _("以个人名义申请"))] + [
            (pk, _("以“%(name)s”的名义申请") % {"name": enterprise.name}) for pk, enterprise in self.enterprises.items()
        ]
        self.fields["enterprise"].initial = ""

    def chosen_enterprise(self) -> Any:
        return self.enterprises.get(self.cleaned_data.get("enterprise") or "")


class AgentFilingForm(_Form):
    """代办: the item and the citizen, identified by ID number and name, with their consent."""

    impl_code = forms.CharField(label=_("事项实施编码"), max_length=36,
                                help_text=_("办事指南页面上的实施编码。"))
    id_number = forms.CharField(label=_("申请人证件号码"), max_length=20)
    real_name = forms.CharField(label=_("申请人姓名"), max_length=50)
    consent = forms.CharField(label=_("委托代办声明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}),
                              initial=AGENT_CONSENT)
    consent_file = forms.FileField(label=_("委托书扫描件（可选）"), required=False,
                                   help_text=_("申请人签字的委托书，PDF 或图片。"))

    def clean_impl_code(self) -> str:
        return self.cleaned_data["impl_code"].strip().upper()


class WithdrawForm(_Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=1000, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ProgressForm(_Form):
    """办件进度查询: the case number and the query code on the receipt."""

    number = forms.CharField(label=_("办件编号"), max_length=60)
    code = forms.CharField(label=_("查询码"), max_length=8)
