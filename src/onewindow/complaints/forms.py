from django import forms
from django.utils.translation import gettext_lazy as _

from onewindow.complaints.antibot import HONEYPOT
from onewindow.complaints.choices import Kind, Rating, Source
from onewindow.complaints.models import Topic
from onewindow.core.models import Department, Region


class _TopicField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Topic) -> str:
        return obj.name


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices)
    topic = _TopicField(
        label=_("诉求类别"),
        queryset=Topic.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
    )
    title = forms.CharField(label=_("标题"), max_length=100)
    content = forms.CharField(
        label=_("内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6})
    )
    region = forms.ModelChoiceField(
        label=_("所在区划"),
        queryset=Region.objects.order_by("path"),
        required=False,
        to_field_name="code",
    )
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    respondent = forms.CharField(
        label=_("被投诉单位或人员"), max_length=100, required=False
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    contact_email = forms.EmailField(label=_("电子邮箱"), required=False)


class PortalForm(ComplaintForm):
    """The portal's form: a hidden field and a signed token keep scripts out (see antibot)."""

    form_token = forms.CharField(widget=forms.HiddenInput)
    media = forms.FileField(
        label=_("图片或附件"),
        required=False,
        help_text=_("登录后可上传 JPG、PNG 或 PDF，最多5个。"),
        widget=forms.ClearableFileInput(attrs={"multiple": False}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT] = forms.CharField(
            required=False,
            label=_("请勿填写"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )


class HotlineForm(ComplaintForm):
    source = forms.ChoiceField(
        label=_("来源"),
        choices=[
            (Source.HOTLINE, Source.HOTLINE.label),
            (Source.MAILBOX, Source.MAILBOX.label),
        ],
    )


class DepartmentChoice(forms.ModelChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(
            label=_("承办单位"),
            queryset=Department.objects.filter(is_active=True),
            **kwargs,
        )


class DispatchForm(forms.Form):
    department = DepartmentChoice()
    promised_days = forms.IntegerField(
        label=_("承诺时限（工作日）"), min_value=1, max_value=60, required=False
    )


class TransferForm(forms.Form):
    department = DepartmentChoice()
    reason = forms.CharField(label=_("转办理由"), max_length=1000)


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("延期天数（工作日）"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("延期原因"), max_length=1000)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("答复意见"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("满意度"), choices=Rating.choices, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("评价意见"), max_length=1000, required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("不满意的原因"), max_length=1000)


class ExposureForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100)
    problem = forms.CharField(
        label=_("问题"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    result = forms.CharField(
        label=_("整改结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RuleForm(forms.Form):
    priority = forms.IntegerField(
        label=_("优先级"), min_value=0, max_value=32767, initial=100
    )
    topic = _TopicField(
        label=_("诉求类别"), queryset=Topic.objects.all(), required=False
    )
    region = forms.ModelChoiceField(
        label=_("行政区划"), queryset=Region.objects.order_by("path"), required=False
    )
    keyword = forms.CharField(label=_("关键词"), max_length=50, required=False)
    department = DepartmentChoice()
    promised_days = forms.IntegerField(
        label=_("承诺时限（工作日）"), min_value=1, max_value=60, required=False
    )


class ProgressForm(forms.Form):
    number = forms.CharField(label=_("编号"), max_length=20)
    code = forms.CharField(label=_("查询码"), max_length=8)
