from django import forms
from django.utils.translation import gettext_lazy as _

from onewindow.catalogue.models import ImplementationItem
from onewindow.complaints.antibot import HONEYPOT
from onewindow.complaints.choices import Kind, Rating, Source
from onewindow.complaints.models import RoutingRule, Topic
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
    def __init__(self, *, label: str = _("承办单位"), **kwargs) -> None:
        super().__init__(
            label=label,
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
    """A routing rule's fields, as `services.routing_rule_save` takes them."""

    priority = forms.IntegerField(
        label=_("优先级"),
        min_value=0,
        max_value=32767,
        initial=100,
        help_text=_("数字小的先匹配"),
    )
    topic = _TopicField(
        label=_("诉求类别"), queryset=Topic.objects.all(), required=False
    )
    item = forms.CharField(label=_("事项实施编码"), max_length=36, required=False)
    region = forms.ModelChoiceField(
        label=_("行政区划"),
        queryset=Region.objects.order_by("path"),
        required=False,
        help_text=_("含下级区划"),
    )
    keyword = forms.CharField(
        label=_("关键词"),
        max_length=50,
        required=False,
        help_text=_("标题或内容中出现即匹配"),
    )
    department = DepartmentChoice()
    promised_days = forms.IntegerField(
        label=_("承诺时限（工作日）"),
        min_value=1,
        max_value=60,
        required=False,
        help_text=_("不填则按诉求类别"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, rule: RoutingRule | None = None, **kwargs) -> None:
        if rule is not None:
            kwargs.setdefault(
                "initial",
                {
                    "priority": rule.priority,
                    "topic": rule.topic_id,
                    "item": rule.item.impl_code if rule.item_id else "",
                    "region": rule.region_id,
                    "keyword": rule.keyword,
                    "department": rule.department_id,
                    "promised_days": rule.promised_days,
                    "is_active": rule.is_active,
                },
            )
        super().__init__(*args, **kwargs)

    def clean_item(self) -> ImplementationItem | None:
        code = self.cleaned_data["item"].strip().upper()
        if not code:
            return None
        found = ImplementationItem.objects.filter(impl_code=code).first()
        if found is None:
            raise forms.ValidationError(_("没有找到该事项。"))
        return found


class TopicForm(forms.Form):
    """A category's fields, as `services.topic_save` takes them; the code names the category and
    stays as it is once saved."""

    code = forms.CharField(
        label=_("类别代码"),
        max_length=40,
        help_text=_(
            "字母、数字、连字符或下划线，即 Open311 的服务代码，保存后不能修改"
        ),
    )
    name = forms.CharField(label=_("类别名称"), max_length=100)
    group = forms.CharField(label=_("分组"), max_length=50, required=False)
    description = forms.CharField(
        label=_("说明"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    keywords = forms.CharField(
        label=_("关键词"), max_length=300, required=False, help_text=_("以逗号分隔")
    )
    department = DepartmentChoice(label=_("默认承办单位"), required=False)
    promised_days = forms.IntegerField(
        label=_("承诺答复时限（工作日）"), min_value=1, max_value=60, initial=5
    )
    attributes = forms.JSONField(
        label=_("附加信息项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Open311 属性定义的 JSON 列表，每项含 code、datatype、required、description，"
            "列表类型另含 values（key、name）；不需要时留空"
        ),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, topic: Topic | None = None, **kwargs) -> None:
        if topic is not None:
            kwargs.setdefault(
                "initial",
                {
                    "code": topic.code,
                    "name": topic.name,
                    "group": topic.group,
                    "description": topic.description,
                    "keywords": topic.keywords,
                    "department": topic.department_id,
                    "promised_days": topic.promised_days,
                    "attributes": topic.attributes,
                    "is_active": topic.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.topic = topic
        if topic is not None:
            self.fields["code"].disabled = True

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        # Saving is by code: a new category must not take over an existing one.
        if self.topic is None and Topic.objects.filter(code=code).exists():
            raise forms.ValidationError(_("已有该代码的诉求类别。"))
        return code

    def clean_attributes(self) -> list:
        return self.cleaned_data["attributes"] or []


class ProgressForm(forms.Form):
    number = forms.CharField(label=_("编号"), max_length=20)
    code = forms.CharField(label=_("查询码"), max_length=8)
