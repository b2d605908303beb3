"""The content of one version of an implementation item: every element of the service guide
(办事指南), GB/T 39046-2020 §6.1, with the application form and the process template.

A version's content is one validated JSON document, so a version is a complete, immutable
snapshot: cases keep the version they were filed under, versions can be diffed element by
element, and import, export and the API share this one definition.
"""

from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from onewindow.accounts.choices import Role
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
from onewindow.catalogue.formdef import FieldKey, FormDefinition, FormField
from onewindow.core import structured

Text = Annotated[str, StringConstraints(max_length=4000, strip_whitespace=True)]
RequiredText = Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
Short = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Days = Annotated[int, Field(ge=0, le=3650)]

# Promised limits must be cut to at most this share of the legal limit (seed Zunyi 2017 §2).
COMPRESSION_TARGET = Decimal("0.5")
# Licensing Law art. 32: acceptance or a one-time notice within 5 days.
ACCEPTANCE_DAYS_MAX = 5


class TimeLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Days | None = None  # None: no time limit set by law
    unit: TimeUnit = TimeUnit.WORKING_DAY
    note: Text = ""


class Fee(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    standard: Short  # 收费标准, e.g. "每件 10 元"
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    basis: RequiredText  # 收费依据
    reducible: bool = False  # 是否允许减免


class Material(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: FieldKey
    name: Name
    basis: Text = ""  # 设定依据
    source: MaterialSource = MaterialSource.APPLICANT
    issuer: Short = ""  # 出具机构
    format: MaterialFormat = MaterialFormat.BOTH
    content: Text = ""  # 材料内容与要求 (填报须知)
    originals: Annotated[int, Field(ge=0, le=20)] = 0
    copies: Annotated[int, Field(ge=0, le=20)] = 0
    sign_seal: Short = ""  # 签字、盖章要求
    required: bool = True
    deferrable: bool = False  # 可容缺: a secondary material that may follow after acceptance
    licence_type: Annotated[str, StringConstraints(max_length=50, strip_whitespace=True)] = ""  # 可由此电子证照替代
    blank_form: Annotated[str, StringConstraints(max_length=64)] = ""  # stored-file id of the 空白表格
    sample: Annotated[str, StringConstraints(max_length=64)] = ""  # stored-file id of the 示例样表

    @model_validator(mode="after")
    def deferrable_only_if_required(self) -> "Material":
        if self.deferrable and not self.required:
            raise ValueError(_("只有必要材料才需标明可容缺。"))
        return self


class SpecialProcedure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: SpecialProcedureKind
    name: Name  # 现场勘察、听证、检验检测检疫、专家评审、延长审批 …
    max_days: Annotated[int, Field(ge=1, le=365)]
    unit: TimeUnit = TimeUnit.WORKING_DAY
    basis: RequiredText  # 设定依据: no special procedure without a legal basis


class ProcessStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: FieldKey
    name: Name
    kind: StepKind
    role: Role
    limit_days: Days  # working days
    description: Text = ""


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Name
    answer: RequiredText


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hall_address: Short = ""  # 办理地点
    hall_hours: Short = ""  # 办理时间
    consult_phone: Short = ""  # 咨询电话
    supervise_phone: Short = ""  # 监督投诉电话
    online_url: Short = ""  # 网办地址


class ItemContent(BaseModel):
    """Every element of one version of an implementation item."""

    model_config = ConfigDict(extra="forbid")
    # basic information
    name: Name
    item_type: ItemType
    legal_basis: RequiredText  # 设定依据
    exercise_level: ExerciseLevel
    power_division: Text = ""  # 权限划分
    exercise_content: Text = ""  # 行使内容
    implementing_nature: ImplementingNature = ImplementingNature.STATUTORY
    co_implementing: list[Short] = []  # 共同实施部门 (names; USCC in brackets where known)
    undertaking_office: Short = ""  # 承办机构 (内设科室)
    responsible_post: Short = ""  # 责任岗位/责任人
    service_objects: Annotated[list[ServiceObject], Field(min_length=1)]
    themes: list[Annotated[str, StringConstraints(max_length=30)]] = []  # Theme codes
    lists: list[ItemList] = []
    keywords: list[Annotated[str, StringConstraints(max_length=30, strip_whitespace=True)]] = []  # 别名、俗称
    handling_forms: Annotated[list[HandlingForm], Field(min_length=1)]
    case_type: CaseType
    general_scope: GeneralScope = GeneralScope.NONE
    # time limits
    legal_limit: TimeLimit
    promised_limit: TimeLimit
    compression_reason: Text = ""  # why the promised limit is not cut by half
    visits: Visits
    online_depth: OnlineDepth
    supports_booking: bool = False
    supports_online_payment: bool = False
    supports_express: bool = False
    # fees, limits, results
    charges_fee: bool = False
    fees: list[Fee] = []
    quantity_limit: Text = ""  # 数量限制
    intermediary_services: Text = ""  # 中介服务
    conditions: RequiredText  # 受理条件
    result_type: ResultType = ResultType.OTHER
    result_name: Short = ""  # 结果名称
    result_sample: Annotated[str, StringConstraints(max_length=64)] = ""  # stored-file id
    delivery_methods: Annotated[list[DeliveryMethod], Field(min_length=1)]
    special_procedures: list[SpecialProcedure] = []
    # materials, form and process
    materials: list[Material] = []
    form: FormDefinition = FormDefinition()
    steps: Annotated[list[ProcessStep], Field(min_length=2)]
    # where, when, who to ask
    contact: Contact = Contact()
    faq: list[Question] = []
    notes: Text = ""  # 注意事项
    # "same item, same standard": element → reason it differs from the basic item's standard
    differences: dict[str, Text] = {}

    @model_validator(mode="after")
    def consistent(self) -> "ItemContent":
        for message in content_problems(self):
            raise ValueError(message)
        return self


def _unique(keys: list[str]) -> str | None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return None


def _fields_and_columns(fields: list[FormField]) -> list[FormField]:
    return [f for field in fields for f in (field, *field.columns)]


def content_problems(content: ItemContent) -> list[str]:
    """Rules across elements; the first problem found is reported."""
    problems: list[str] = []
    legal, promised = content.legal_limit, content.promised_limit
    if promised.amount is None:
        problems.append(_("必须填写承诺办结时限。"))
    elif legal.amount is not None:
        if legal.unit != promised.unit:
            problems.append(_("承诺办结时限与法定办结时限的单位须一致。"))
        elif promised.amount > legal.amount:
            problems.append(
                _("承诺办结时限（%(promised)s）不能超过法定办结时限（%(legal)s）。")
                % {"promised": promised.amount, "legal": legal.amount}
            )
        elif not is_compressed(content) and not content.compression_reason:
            problems.append(
                _("承诺时限须比法定时限压缩至少 50%%；未达到时须填写未压缩的理由。")
            )
    if content.case_type == CaseType.IMMEDIATE and promised.amount:
        problems.append(_("即办件的承诺办结时限应为 0（当场办结）。"))
    if content.charges_fee and not content.fees:
        problems.append(_("收费事项须列明收费项目、标准和依据。"))
    if not content.charges_fee and content.fees:
        problems.append(_("不收费的事项不能列收费项目。"))
    duplicate = _unique([material.key for material in content.materials])
    if duplicate:
        problems.append(_("材料编号“%(key)s”重复。") % {"key": duplicate})
    problems.extend(_step_problems(content))
    problems.extend(_form_problems(content))
    return problems


def _step_problems(content: ItemContent) -> list[str]:
    steps = content.steps
    problems = []
    duplicate = _unique([step.key for step in steps])
    if duplicate:
        problems.append(_("流程环节编号“%(key)s”重复。") % {"key": duplicate})
    if steps[0].kind != StepKind.ACCEPT:
        problems.append(_("办理流程的第一个环节须为受理。"))
    if steps[-1].kind != StepKind.DECIDE:
        problems.append(_("办理流程的最后一个环节须为决定。"))
    if any(step.kind == StepKind.ACCEPT for step in steps[1:]):
        problems.append(_("办理流程只能有一个受理环节，且须在最前。"))
    if steps[0].limit_days > ACCEPTANCE_DAYS_MAX:
        problems.append(_("受理环节时限不能超过 %(n)s 个工作日（一次性告知）。") % {"n": ACCEPTANCE_DAYS_MAX})
    promised = content.promised_limit.amount
    after_acceptance = sum(step.limit_days for step in steps[1:])
    if promised is not None and content.promised_limit.unit == TimeUnit.WORKING_DAY and after_acceptance > promised:
        problems.append(
            _("受理后各环节时限之和（%(sum)s 个工作日）超过了承诺办结时限（%(promised)s 个工作日）。")
            % {"sum": after_acceptance, "promised": promised}
        )
    return problems


def _form_problems(content: ItemContent) -> list[str]:
    problems = []
    fields = content.form.fields
    materials = {material.key for material in content.materials}
    for field in _fields_and_columns(fields):
        if field.type == "attachment" and field.material not in materials:
            # Nothing outside the guide may be asked of the applicant.
            problems.append(
                _("申请表字段“%(label)s”要求上传的材料不在办事指南的材料清单中。") % {"label": field.label}
            )
    return problems


def is_compressed(content: ItemContent) -> bool:
    """Whether the promised limit is at most half the legal limit (True when there is no legal limit)."""
    legal, promised = content.legal_limit.amount, content.promised_limit.amount
    if legal is None or promised is None or legal == 0:
        return True
    return Decimal(promised) <= Decimal(legal) * COMPRESSION_TARGET


class StandardElements(BaseModel):
    """The basic item's standard: what every implementation of it shares unless it records why not."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    item_type: ItemType
    legal_basis: RequiredText
    exercise_level: ExerciseLevel
    legal_limit: TimeLimit = TimeLimit()
    conditions: RequiredText
    materials: list[Material] = []


# Elements that come from the basic item's standard; an implementation item may differ from the
# standard only with a recorded reason ("same item, same standard, same code").
STANDARD_ELEMENTS = tuple(StandardElements.model_fields)


LABELS: dict[str, Any] = {
    "name": gettext_lazy("事项名称"),
    "materials.name": gettext_lazy("材料名称"),
    "steps.name": gettext_lazy("环节名称"),
    "fees.name": gettext_lazy("收费项目名称"),
    "special_procedures.name": gettext_lazy("特别程序名称"),
    "fields.label": gettext_lazy("字段名称"),
    "item_type": gettext_lazy("事项类型"),
    "legal_basis": gettext_lazy("设定依据"),
    "exercise_level": gettext_lazy("行使层级"),
    "power_division": gettext_lazy("权限划分"),
    "exercise_content": gettext_lazy("行使内容"),
    "implementing_nature": gettext_lazy("实施主体性质"),
    "co_implementing": gettext_lazy("共同实施部门"),
    "undertaking_office": gettext_lazy("承办机构"),
    "responsible_post": gettext_lazy("责任岗位"),
    "service_objects": gettext_lazy("服务对象"),
    "themes": gettext_lazy("服务主题"),
    "lists": gettext_lazy("所属清单"),
    "keywords": gettext_lazy("关键词"),
    "handling_forms": gettext_lazy("办理形式"),
    "case_type": gettext_lazy("办件类型"),
    "general_scope": gettext_lazy("通办范围"),
    "legal_limit": gettext_lazy("法定办结时限"),
    "promised_limit": gettext_lazy("承诺办结时限"),
    "amount": gettext_lazy("时限"),
    "unit": gettext_lazy("单位"),
    "note": gettext_lazy("说明"),
    "compression_reason": gettext_lazy("时限未压缩理由"),
    "visits": gettext_lazy("到办事现场次数"),
    "online_depth": gettext_lazy("网上办理深度"),
    "supports_booking": gettext_lazy("支持预约"),
    "supports_online_payment": gettext_lazy("支持网上支付"),
    "supports_express": gettext_lazy("支持物流快递"),
    "charges_fee": gettext_lazy("是否收费"),
    "fees": gettext_lazy("收费项目"),
    "standard": gettext_lazy("收费标准"),
    "basis": gettext_lazy("依据"),
    "reducible": gettext_lazy("允许减免"),
    "quantity_limit": gettext_lazy("数量限制"),
    "intermediary_services": gettext_lazy("中介服务"),
    "conditions": gettext_lazy("受理条件"),
    "result_type": gettext_lazy("结果类型"),
    "result_name": gettext_lazy("结果名称"),
    "result_sample": gettext_lazy("结果样本"),
    "delivery_methods": gettext_lazy("送达方式"),
    "special_procedures": gettext_lazy("特别程序"),
    "max_days": gettext_lazy("最长时限"),
    "materials": gettext_lazy("申请材料"),
    "key": gettext_lazy("编号"),
    "source": gettext_lazy("来源渠道"),
    "issuer": gettext_lazy("出具机构"),
    "format": gettext_lazy("材料形式"),
    "content": gettext_lazy("材料要求"),
    "originals": gettext_lazy("原件份数"),
    "copies": gettext_lazy("复印件份数"),
    "sign_seal": gettext_lazy("签字盖章要求"),
    "required": gettext_lazy("必要"),
    "deferrable": gettext_lazy("可容缺"),
    "licence_type": gettext_lazy("可替代的电子证照"),
    "blank_form": gettext_lazy("空白表格"),
    "sample": gettext_lazy("示例样表"),
    "kind": gettext_lazy("种类"),
    "form": gettext_lazy("申请表"),
    "fields": gettext_lazy("字段"),
    "label": gettext_lazy("名称"),
    "type": gettext_lazy("类型"),
    "choices": gettext_lazy("选项"),
    "columns": gettext_lazy("表格列"),
    "show_if": gettext_lazy("显示条件"),
    "steps": gettext_lazy("办理流程"),
    "role": gettext_lazy("办理角色"),
    "limit_days": gettext_lazy("环节时限"),
    "description": gettext_lazy("说明"),
    "contact": gettext_lazy("办理地点与咨询"),
    "hall_address": gettext_lazy("办理地点"),
    "hall_hours": gettext_lazy("办理时间"),
    "consult_phone": gettext_lazy("咨询电话"),
    "supervise_phone": gettext_lazy("监督投诉电话"),
    "online_url": gettext_lazy("网办地址"),
    "faq": gettext_lazy("常见问题"),
    "question": gettext_lazy("问题"),
    "answer": gettext_lazy("解答"),
    "notes": gettext_lazy("注意事项"),
    "differences": gettext_lazy("与基本目录的差异说明"),
}


def parse_content(data: Any, *, prefix: str = "") -> ItemContent:
    """Validate a content document; raises InvalidInput with a translated, located message."""
    return structured.parse(ItemContent, data, labels=LABELS, prefix=prefix)


def parse_standard(data: Any) -> StandardElements:
    return structured.parse(StandardElements, data, labels=LABELS)


def content_json(content: ItemContent) -> dict[str, Any]:
    """The stored form: plain JSON, decimals as strings, defaults included."""
    return content.model_dump(mode="json")
