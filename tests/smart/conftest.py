"""Smart approval's small world: the catalogue's city with a published subsidy item of the
民政局 (its form asks for an address and a monthly income), its editors, and helpers to give the
item rules and to file applications against it."""

import copy
import datetime as dt

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.catalogue import services as catalogue
from onewindow.core.identifiers import make_id_number
from onewindow.smart import services
from tests.catalogue.conftest import item_content, world  # noqa: F401

SUBSIDY = {
    "name": "高龄津贴申领",
    "item_type": "05",
    "legal_basis": "《贵州省老年人权益保障条例》第二十条",
    "exercise_level": "3",
    "legal_limit": {"amount": 20, "unit": "working_day", "note": ""},
    "conditions": "年满80周岁、户籍在本市、家庭人均月收入不高于2000元的老年人。",
    "materials": [],
}
FORM = {
    "fields": [
        {"key": "address", "label": "居住地址", "type": "address", "required": True},
        {
            "key": "monthly_income",
            "label": "家庭人均月收入",
            "type": "number",
            "required": True,
            "decimals": 2,
            "min": 0,
            "unit": "元",
        },
        {"key": "note", "label": "备注", "type": "text"},
    ]
}
AGE_RULE = {
    "name": "年满80周岁",
    "condition": {">=": [{"age_from_id": [{"var": "applicant.id_number"}]}, 80]},
    "explanation": "高龄津贴发放对象为年满80周岁的老年人，按身份证号码计算年龄。",
}
REGION_RULE = {
    "name": "居住在遵义市",
    "condition": {"in_region": [{"var": "form.address"}, "520300"]},
    "explanation": "居住地址为{form.address}。",
}
INCOME_RULE = {
    "name": "家庭人均月收入不高于2000元",
    "condition": {"<=": [{"var": "form.monthly_income"}, 2000]},
    "explanation": "申报的家庭人均月收入为{form.monthly_income}元。",
}
RULES = [AGE_RULE, REGION_RULE, INCOME_RULE]
ELDER_ID = make_id_number("520302", dt.date(1940, 5, 1), 17)
YOUNG_ID = make_id_number("520302", dt.date(1990, 5, 1), 19)
HOME = {"region": "520302", "detail": "中华南路1号"}
EXAMPLES = [
    {
        "name": "符合条件的老人",
        "form": {"address": HOME, "monthly_income": "1500.00"},
        "applicant": {"id_number": ELDER_ID},
        "expected": "approved",
    },
    {
        "name": "收入超过标准",
        "form": {"address": HOME, "monthly_income": "2500.00"},
        "applicant": {"id_number": ELDER_ID},
        "expected": "manual",
    },
    {
        "name": "未填收入",
        "form": {"address": HOME},
        "applicant": {"id_number": ELDER_ID},
        "expected": "manual",
    },
]


@pytest.fixture
def publish(world, make_user):  # noqa: F811 (the catalogue world fixture)
    """publish(version) → a version of a 民政局 item published through legal review."""
    legal = make_user(
        "civil_legal", kind=AccountKind.STAFF, otp=True, real_name="民政法制"
    )
    RoleAssignment.objects.create(
        user=legal, role=Role.LEGAL_REVIEWER, department=world.other
    )

    def run(version, *, note="首次发布"):
        version.refresh_from_db()
        version = catalogue.version_update(
            actor=world.admin,
            version=version,
            content=version.content,
            change_note=note,
        )
        version = catalogue.version_submit(actor=world.admin, version=version)
        version = catalogue.version_approve(actor=legal, version=version)
        return catalogue.version_publish_urgent(
            actor=world.admin, version=version, reason="测试发布"
        )

    return run


@pytest.fixture
def smart_item(world, publish):  # noqa: F811
    """高龄津贴申领 of 遵义市民政局 (world.other), published."""
    basic = catalogue.basic_item_create(
        actor=world.admin, basic_code="JF00888000", standard=SUBSIDY
    )
    content = item_content(
        **copy.deepcopy(SUBSIDY),
        form=copy.deepcopy(FORM),
        lists=[],
        keywords=["高龄津贴"],
    )
    version = catalogue.item_create(
        actor=world.admin, basic_item=basic, department=world.other, content=content
    )
    published = publish(version)
    return (
        type(published.item)
        .objects.select_related("current_version", "region")
        .get(pk=published.item_id)
    )


@pytest.fixture
def smart_editor(world, make_user):  # noqa: F811
    """部门管理员 of 遵义市民政局, who edits the item's rules."""
    user = make_user(
        "civil_admin", kind=AccountKind.STAFF, otp=True, real_name="民政管理员"
    )
    RoleAssignment.objects.create(
        user=user, role=Role.DEPARTMENT_ADMIN, department=world.other
    )
    return user


@pytest.fixture
def give_rules(smart_item, smart_editor):
    """give_rules(rules=RULES, examples=EXAMPLES, allow_auto_deny=False) → a published rule set."""

    def make(*, rules=RULES, examples=EXAMPLES, allow_auto_deny=False):
        draft = services.rule_set_start(actor=smart_editor, item=smart_item)
        draft = services.rule_set_update(
            actor=smart_editor,
            rule_set=draft,
            rules=copy.deepcopy(rules),
            examples=copy.deepcopy(examples),
            allow_auto_deny=allow_auto_deny,
        )
        return services.rule_set_publish(actor=smart_editor, rule_set=draft)

    return make


@pytest.fixture
def elder(make_user):
    return make_user(
        "elder", kind=AccountKind.CITIZEN, real_name="王老汉", id_number=ELDER_ID
    )


@pytest.fixture
def apply(smart_item):
    """apply(applicant, form) → the applicant's application, submitted and looked at by the rules."""
    from onewindow.cases import services as cases

    counter = iter(range(1, 10_000))

    def make(applicant, form):
        case = cases.case_start(actor=applicant, item=smart_item)
        cases.case_save_form(actor=applicant, case=case, data=form)
        case = cases.case_submit(
            actor=applicant, case=case, idempotency_key=f"smart-{next(counter):06d}"
        )
        return cases.case_auto_decide(case=case)

    return make
