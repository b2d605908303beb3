"""The demo's smart items (智慧审批/秒批): three published catalogue items with published rule
sets, and one elderly resident (`elder1`, the demo password) whose applications they decide.

- 老年人优待证办理 (遵义市卫生健康局, from the demo catalogue): 60 or older by the ID number, with
  a local household registration (an applicant with a residence permit goes to a person);
- 居民身份证换领 (遵义市公安局, from the demo catalogue): the applicant already holds a valid
  居民身份证 in the licence library and the card has expired;
- 高龄津贴申领 (遵义市民政局, published here): 80 or older, living in 遵义市, household income
  per head at most 2000 元 a month; this item allows an automatic denial when a rule fails.

Everything is written through the services, as the demo platform administrator (catalogue and
rules) and the demo legal reviewer, so the audit ledger is the real one. Idempotent: items are
matched by name and department, the resident by username. Needs the demo catalogue loaded first.
"""

import copy
import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind, RealNameMethod
from onewindow.accounts.demo import DEMO_PASSWORD
from onewindow.accounts.models import User
from onewindow.catalogue import services as catalogue
from onewindow.catalogue.models import BasicItem, ImplementationItem
from onewindow.core.identifiers import make_id_number
from onewindow.core.models import Department
from onewindow.smart import services
from onewindow.smart.choices import RuleSetStatus

PUBLISHER = "admin"
LEGAL_REVIEWER = "legal"
ELDER = "elder1"
ELDER_NAME = "王秀英"
ELDER_BORN = dt.date(1944, 4, 8)
ELDER_PHONE = "19900000104"
HOME_REGION = "520302"
HOME = {"region": HOME_REGION, "detail": "中华南路1号"}
AWAY = {"region": "520102", "detail": "贵阳市南明区"}
ELDERLY_CARD = "老年人优待证办理"
ID_CARD_RENEWAL = "居民身份证换领"
SUBSIDY = "高龄津贴申领"


def _id(born: dt.date) -> str:
    return make_id_number(HOME_REGION, born, 11)


# The subsidy item, published by this module (the demo catalogue has none like it).
SUBSIDY_BASIC_CODE = "JF00313000"
SUBSIDY_STANDARD = {
    "name": SUBSIDY,
    "item_type": "05",
    "exercise_level": "3",
    "legal_basis": "《贵州省老年人权益保障条例》第二十条",
    "legal_limit": {"amount": 20, "unit": "working_day", "note": ""},
    "conditions": "年满80周岁、居住在本市、家庭人均月收入不高于2000元的老年人。",
    "materials": [],
}
SUBSIDY_FORM = [
    {"key": "address", "label": "居住地址", "type": "address", "required": True},
    {
        "key": "monthly_income",
        "label": "家庭人均月收入",
        "type": "number",
        "required": True,
        "min": 0,
        "decimals": 2,
        "unit": "元",
    },
    {
        "key": "phone",
        "label": "联系电话",
        "type": "text",
        "required": True,
        "format": "mobile",
        "prefill": "applicant.phone",
    },
]
_STEPS = [
    {
        "key": "accept",
        "name": "受理",
        "kind": "accept",
        "role": "window_clerk",
        "limit_days": 1,
    },
    {
        "key": "review",
        "name": "审查",
        "kind": "review",
        "role": "reviewer",
        "limit_days": 2,
    },
    {
        "key": "decide",
        "name": "决定",
        "kind": "decide",
        "role": "approver",
        "limit_days": 2,
    },
]
_ELDERLY_FORM = {"name": "王秀英", "household": "local", "pickup": "electronic"}
_RENEWAL_FORM = {
    "name": "王秀英",
    "reason": "expired",
    "pickup": "window",
    "mobile": ELDER_PHONE,
}
_SUBSIDY_FORM = {"address": HOME, "monthly_income": "1500.00", "phone": ELDER_PHONE}

# item name, department, rules, examples, allow_auto_deny
RULE_SETS: list[dict[str, Any]] = [
    {
        "item": ELDERLY_CARD,
        "department": "遵义市卫生健康局",
        "rules": [
            {
                "name": "年满60周岁",
                "condition": {
                    ">=": [{"age_from_id": [{"var": "applicant.id_number"}]}, 60]
                },
                "explanation": "老年人优待证发放对象为年满60周岁的老年人，年龄按申请人实名认证的身份证号码计算。",
            },
            {
                "name": "本市户籍",
                "condition": {"==": [{"var": "form.household"}, "local"]},
                "explanation": "本市户籍的老年人直接办理；外地户籍持本市居住证的，由窗口核验居住证后办理。",
            },
        ],
        "examples": [
            {
                "name": "年满60周岁的本市户籍居民",
                "form": _ELDERLY_FORM,
                "applicant": {"id_number": _id(dt.date(1950, 1, 1))},
                "expected": "approved",
            },
            {
                "name": "未满60周岁",
                "form": _ELDERLY_FORM,
                "applicant": {"id_number": _id(dt.date(1990, 1, 1))},
                "expected": "manual",
            },
            {
                "name": "持居住证",
                "form": {**_ELDERLY_FORM, "household": "resident"},
                "applicant": {"id_number": _id(dt.date(1950, 1, 1))},
                "expected": "manual",
            },
        ],
        "allow_auto_deny": False,
    },
    {
        "item": ID_CARD_RENEWAL,
        "department": "遵义市公安局",
        "rules": [
            {
                "name": "持有居民身份证",
                "condition": {"holds_licence": ["resident_id_card"]},
                "explanation": "在电子证照库中查验申请人本人有效的居民身份证。",
            },
            {
                "name": "换领原因为有效期满",
                "condition": {"==": [{"var": "form.reason"}, "expired"]},
                "explanation": "因登记项目变更、有误或证件损坏换领的，须由窗口核验。",
            },
        ],
        "examples": [
            {
                "name": "持证且有效期满",
                "form": _RENEWAL_FORM,
                "applicant": {"licences": ["resident_id_card"]},
                "expected": "approved",
            },
            {
                "name": "证件损坏",
                "form": {**_RENEWAL_FORM, "reason": "damaged"},
                "applicant": {"licences": ["resident_id_card"]},
                "expected": "manual",
            },
            {
                "name": "证照库中没有该证",
                "form": _RENEWAL_FORM,
                "applicant": {"licences": []},
                "expected": "manual",
            },
            {
                "name": "证照库不可用",
                "form": _RENEWAL_FORM,
                "applicant": {},
                "expected": "manual",
            },
        ],
        "allow_auto_deny": False,
    },
    {
        "item": SUBSIDY,
        "department": "遵义市民政局",
        "rules": [
            {
                "name": "年满80周岁",
                "condition": {
                    ">=": [{"age_from_id": [{"var": "applicant.id_number"}]}, 80]
                },
                "explanation": "高龄津贴发放对象为年满80周岁的老年人，年龄按身份证号码计算。",
            },
            {
                "name": "居住在遵义市",
                "condition": {"in_region": [{"var": "form.address"}, "520300"]},
                "explanation": "申请人居住地址为{form.address}。",
            },
            {
                "name": "家庭人均月收入不高于2000元",
                "condition": {"<=": [{"var": "form.monthly_income"}, 2000]},
                "explanation": "申报的家庭人均月收入为{form.monthly_income}元，标准为不高于2000元。",
            },
        ],
        "examples": [
            {
                "name": "符合条件",
                "form": _SUBSIDY_FORM,
                "applicant": {"id_number": _id(dt.date(1940, 1, 1))},
                "expected": "approved",
            },
            {
                "name": "收入超过标准",
                "form": {**_SUBSIDY_FORM, "monthly_income": "2600.00"},
                "applicant": {"id_number": _id(dt.date(1940, 1, 1))},
                "expected": "denied",
            },
            {
                "name": "居住在外市",
                "form": {**_SUBSIDY_FORM, "address": AWAY},
                "applicant": {"id_number": _id(dt.date(1940, 1, 1))},
                "expected": "denied",
            },
            {
                "name": "身份证号码缺失",
                "form": _SUBSIDY_FORM,
                "applicant": {},
                "expected": "manual",
            },
        ],
        "allow_auto_deny": True,
    },
]


def _subsidy_content() -> dict[str, Any]:
    return {
        **copy.deepcopy(SUBSIDY_STANDARD),
        "service_objects": ["1"],
        "handling_forms": ["1"],
        "case_type": "2",
        "promised_limit": {"amount": 5, "unit": "working_day", "note": ""},
        "visits": 0,
        "online_depth": 4,
        "delivery_methods": ["window", "post"],
        "themes": [],
        "lists": [],
        "keywords": ["高龄补贴", "秒批"],
        "steps": copy.deepcopy(_STEPS),
        "form": {"fields": copy.deepcopy(SUBSIDY_FORM)},
    }


def _publish_subsidy(department: Department, publisher: User, reviewer: User) -> None:
    basic = BasicItem.objects.filter(
        basic_code=SUBSIDY_BASIC_CODE
    ).first() or catalogue.basic_item_create(
        actor=publisher, basic_code=SUBSIDY_BASIC_CODE, standard=SUBSIDY_STANDARD
    )
    if ImplementationItem.objects.filter(
        basic_item=basic, department=department
    ).exists():
        return
    version = catalogue.item_create(
        actor=publisher,
        basic_item=basic,
        department=department,
        content=_subsidy_content(),
        change_note=_("智能审批演示事项首次发布"),
    )
    version = catalogue.version_submit(actor=publisher, version=version)
    version = catalogue.version_approve(
        actor=reviewer, version=version, opinion=_("符合法律法规规定。")
    )
    catalogue.version_publish_urgent(
        actor=publisher, version=version, reason=_("智能审批演示事项首次发布")
    )


def _give_rules(
    entry: dict[str, Any], item: ImplementationItem, publisher: User
) -> int:
    if item.rule_sets.filter(status=RuleSetStatus.PUBLISHED).exists():
        return 0
    draft = item.rule_sets.filter(
        status=RuleSetStatus.DRAFT
    ).first() or services.rule_set_start(
        actor=publisher, item=item, change_note=_("演示规则")
    )
    draft = services.rule_set_update(
        actor=publisher,
        rule_set=draft,
        rules=copy.deepcopy(entry["rules"]),
        examples=copy.deepcopy(entry["examples"]),
        allow_auto_deny=entry["allow_auto_deny"],
    )
    services.rule_set_publish(actor=publisher, rule_set=draft)
    return 1


def _elder() -> None:
    if User.objects.filter(username=ELDER).exists():
        return
    elder = User(
        username=ELDER,
        kind=AccountKind.CITIZEN,
        real_name=ELDER_NAME,
        id_number=make_id_number(HOME_REGION, ELDER_BORN, 482),
        phone=ELDER_PHONE,
        real_name_verified=True,
        real_name_method=RealNameMethod.POLICE_DB,
    )
    elder.set_password(DEMO_PASSWORD)
    elder.full_clean(exclude=["password"])
    elder.save()


def smart_item(name: str) -> ImplementationItem:
    """A demo smart item by name (for the tests, the benchmark and the browser tests)."""
    department = next(
        entry["department"] for entry in RULE_SETS if entry["item"] == name
    )
    return ImplementationItem.objects.get(
        name=name, department__name=department, current_version__isnull=False
    )


@transaction.atomic
def load() -> dict[str, int]:
    """Publish the subsidy item, give the three items their rules, add the elderly resident."""
    publisher = User.objects.filter(username=PUBLISHER).first()
    reviewer = User.objects.filter(username=LEGAL_REVIEWER).first()
    if publisher is None or reviewer is None:
        return {"items": 0, "rule_sets": 0}
    departments = {
        d.name: d
        for d in Department.objects.filter(
            name__in={entry["department"] for entry in RULE_SETS}
        )
    }
    if "遵义市民政局" in departments:
        _publish_subsidy(departments["遵义市民政局"], publisher, reviewer)
    items, rule_sets = 0, 0
    for entry in RULE_SETS:
        item = ImplementationItem.objects.filter(
            name=entry["item"],
            department__name=entry["department"],
            current_version__isnull=False,
        ).first()
        if item is None:
            continue
        items += 1
        rule_sets += _give_rules(entry, item, publisher)
    _elder()
    return {"items": items, "rule_sets": rule_sets}
