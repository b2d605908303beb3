"""HTML forms: they parse and check shapes; the services decide everything else."""

import re
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onewindow.accounts.choices import ROLE_SCOPES, IdType, Role, RoleScope
from onewindow.accounts.models import PHONE_RE, RoleAssignment, User
from onewindow.accounts.permissions import is_platform_admin
from onewindow.accounts.selectors import managed_departments
from onewindow.core.errors import DomainError
from onewindow.core.models import Region

_ID_SHAPE = re.compile(r"^\d{17}[\dXx]$")


def add_domain_error(form: forms.Form, exc: DomainError, *, field_map: dict[str, str] | None = None) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    field = (field_map or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def resolve_username(identifier: str) -> str:
    """The username behind what was typed: a username, a resident ID number or a phone number."""
    if User.objects.filter(username=identifier).exists():
        return identifier
    if _ID_SHAPE.fullmatch(identifier):
        match = User.objects.filter(id_number=identifier.upper()).values_list("username", flat=True).first()
        return match or identifier
    if PHONE_RE.fullmatch(identifier):
        match = User.objects.filter(phone=identifier).values_list("username", flat=True).first()
        return match or identifier
    return identifier


class LoginForm(forms.Form):
    # Named "username" so django-axes and password managers recognise it; it also takes an ID or phone number.
    username = forms.CharField(label=_("用户名 / 身份证号 / 手机号"), max_length=150)
    password = forms.CharField(label=_("密码"), max_length=128, strip=False, widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        identifier, password = cleaned.get("username"), cleaned.get("password")
        if identifier and password:
            # django-axes counts failures per resolved username, whichever identifier was typed.
            self.user = authenticate(self.request, username=resolve_username(identifier.strip()), password=password)
            if self.user is None:
                raise ValidationError(_("账户或密码不正确。"), code="invalid_login")
        return cleaned


class _NewPasswordMixin(forms.Form):
    password1 = forms.CharField(label=_("密码"), max_length=128, strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("确认密码"), max_length=128, strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned


class CitizenRegisterForm(_NewPasswordMixin):
    username = forms.CharField(label=_("用户名"), max_length=30)
    real_name = forms.CharField(label=_("真实姓名"), max_length=50)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=32)
    phone = forms.CharField(label=_("手机号码"), max_length=11, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)

    field_order = ["username", "real_name", "id_type", "id_number", "phone", "email", "password1", "password2"]


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("原密码"), max_length=128, strip=False, widget=forms.PasswordInput)
    new_password1 = forms.CharField(label=_("新密码"), max_length=128, strip=False, widget=forms.PasswordInput)
    new_password2 = forms.CharField(label=_("确认新密码"), max_length=128, strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("new_password1") and cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", _("两次输入的密码不一致。"))
        return cleaned


class CodeForm(forms.Form):
    token = forms.RegexField(
        label=_("6位验证码"), regex=r"^\s*\d{6}\s*$", max_length=8,
        error_messages={"invalid": _("请输入6位数字验证码。")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class EnterpriseRegisterForm(forms.Form):
    name = forms.CharField(label=_("机构名称"), max_length=200)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=18)
    legal_rep_name = forms.CharField(label=_("法定代表人姓名"), max_length=50)
    legal_rep_id_type = forms.ChoiceField(label=_("法定代表人证件类型"), choices=IdType.choices,
                                          initial=IdType.RESIDENT_ID)
    legal_rep_id_number = forms.CharField(label=_("法定代表人证件号码"), max_length=32)
    registered_address = forms.CharField(label=_("注册地址"), max_length=300)
    registered_on = forms.DateField(label=_("注册日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    business_scope = forms.CharField(label=_("经营范围"), max_length=2000, required=False, widget=forms.Textarea)


class HandlerAddForm(forms.Form):
    real_name = forms.CharField(label=_("被授权人姓名"), max_length=50)
    id_number = forms.CharField(label=_("被授权人证件号码"), max_length=32)
    valid_until = forms.DateField(label=_("授权截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class StaffCreateForm(_NewPasswordMixin):
    department = forms.ModelChoiceField(label=_("所属部门"), queryset=None)
    username = forms.CharField(label=_("用户名"), max_length=30)
    real_name = forms.CharField(label=_("真实姓名"), max_length=50)
    phone = forms.CharField(label=_("手机号码"), max_length=11)
    id_number = forms.CharField(label=_("身份证号码"), max_length=32, required=False)
    hall = forms.CharField(label=_("办事大厅"), max_length=100, required=False)
    window_number = forms.CharField(label=_("窗口号"), max_length=20, required=False)
    employee_number = forms.CharField(label=_("工号"), max_length=30, required=False)

    field_order = ["department", "username", "real_name", "phone", "id_number", "hall", "window_number",
                   "employee_number", "password1", "password2"]

    def __init__(self, actor: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = managed_departments(actor)


def _end_of_day(day: Any) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    department = forms.ModelChoiceField(label=_("部门范围"), queryset=None, required=False)
    region = forms.ModelChoiceField(label=_("区划范围"), queryset=Region.objects.none(), required=False)
    valid_until = forms.DateField(label=_("有效至（含当日）"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, actor: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = managed_departments(actor)
        if is_platform_admin(actor):
            self.fields["region"].queryset = Region.objects.all()
        else:
            allowed = [(role, label) for role, label in Role.choices if ROLE_SCOPES[role] == RoleScope.DEPARTMENT]
            self.fields["role"].choices = allowed
            del self.fields["region"]

    @property
    def valid_until_at(self) -> datetime | None:
        return _end_of_day(self.cleaned_data.get("valid_until"))


class ChiefAuthorisationForm(forms.Form):
    department = forms.ModelChoiceField(label=_("授权部门"), queryset=None)
    representative = forms.ModelChoiceField(label=_("首席代表"), queryset=None)
    scope_text = forms.CharField(label=_("授权范围"), max_length=2000, widget=forms.Textarea)
    all_items = forms.BooleanField(label=_("本部门全部事项"), required=False)
    item_codes = forms.CharField(
        label=_("授权事项编码"), required=False, max_length=5000, widget=forms.Textarea,
        help_text=_("每行一个，或以逗号分隔；选择“本部门全部事项”时可不填。"),
    )
    document_number = forms.CharField(label=_("授权文号"), max_length=100)
    document_reference = forms.CharField(label=_("档案编号"), max_length=200, required=False)
    signatory = forms.CharField(label=_("签发人"), max_length=50)
    signed_on = forms.DateField(label=_("签发日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_from = forms.DateField(label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, actor: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = managed_departments(actor)
        self.fields["department"].queryset = departments
        approver_ids = RoleAssignment.objects.active().filter(
            role=Role.APPROVER, department__in=departments
        ).values("user_id")
        self.fields["representative"].queryset = User.objects.filter(pk__in=approver_ids, is_active=True)

    def clean_item_codes(self) -> list[str]:
        return [code for code in re.split(r"[\s,，、]+", self.cleaned_data["item_codes"]) if code]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)
