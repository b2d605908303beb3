"""Rule sets: drafts, checks at edit time, publication against the examples, versions, scope."""

import copy

import pytest

from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.models import AuditEntry
from onewindow.smart import selectors, services
from onewindow.smart.choices import RuleSetStatus
from onewindow.smart.decisions import run_examples
from tests.smart.conftest import EXAMPLES, INCOME_RULE, RULES

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(smart_item, smart_editor):
    return services.rule_set_start(actor=smart_editor, item=smart_item)


def save(editor, draft, *, rules=RULES, examples=EXAMPLES, allow_auto_deny=False):
    return services.rule_set_update(
        actor=editor,
        rule_set=draft,
        rules=copy.deepcopy(rules),
        examples=copy.deepcopy(examples),
        allow_auto_deny=allow_auto_deny,
    )


def test_a_draft_with_passing_examples_is_published_and_audited(smart_editor, draft):
    draft = save(smart_editor, draft)
    assert [result.outcome for result in run_examples(draft)] == [
        "approved",
        "manual",
        "manual",
    ]
    published = services.rule_set_publish(actor=smart_editor, rule_set=draft)

    assert (
        published.status == RuleSetStatus.PUBLISHED
        and published.published_by == smart_editor
    )
    assert published.checked_version == published.item.current_version
    assert selectors.published_rule_set(published.item_id) == published
    actions = list(
        AuditEntry.objects.filter(object_type="smart.ruleset").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "smart.rule_set.start",
        "smart.rule_set.update",
        "smart.rule_set.publish",
    ]


def test_a_new_version_starts_from_the_published_one_and_supersedes_it(
    smart_editor, smart_item, give_rules
):
    first = give_rules()
    second = services.rule_set_start(actor=smart_editor, item=smart_item)
    assert (second.number, second.rules, second.examples) == (
        2,
        first.rules,
        first.examples,
    )
    with pytest.raises(DomainError, match="已有一个规则集草稿"):
        services.rule_set_start(actor=smart_editor, item=smart_item)
    services.rule_set_publish(actor=smart_editor, rule_set=second)

    first.refresh_from_db()
    assert first.status == RuleSetStatus.SUPERSEDED and first.superseded_at
    assert selectors.published_rule_set(smart_item.pk).number == 2
    with pytest.raises(DomainError, match="当前为“已发布”，不能修改"):
        save(smart_editor, second)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"name": "x"}, "规则应是一个列表"),
        ([{"name": "收入", "condition": True}], "缺少说明模板"),
        (
            [
                {
                    "name": "收入",
                    "condition": {"<=": [{"var": "form.salary"}, 1]},
                    "explanation": "x",
                }
            ],
            "规则“收入”：引用了不存在的字段“form.salary”。",
        ),
        (
            [
                {
                    "name": "收入",
                    "condition": {"<=": [{"var": "form.income"}, 1]},
                    "explanation": "x",
                }
            ],
            "引用了不存在的字段“form.income”",
        ),
        (
            [
                {
                    "name": "收入",
                    "condition": {"lte": [{"var": "form.monthly_income"}, 1]},
                    "explanation": "x",
                }
            ],
            "未知的运算“lte”",
        ),
        (
            [
                {
                    "name": "收入",
                    "condition": {"<=": [{"var": "form.monthly_income"}]},
                    "explanation": "x",
                }
            ],
            "运算“<=”的参数个数不对",
        ),
        (
            [{"name": "收入", "condition": True, "explanation": "{form.salary}"}],
            "说明模板引用了不存在的字段“form.salary”",
        ),
        ([INCOME_RULE, INCOME_RULE], "规则名称“家庭人均月收入不高于2000元”重复"),
    ],
)
def test_rules_that_do_not_parse_or_name_unknown_fields_are_refused_when_saved(
    smart_editor, draft, rules, message
):
    with pytest.raises(InvalidInput, match=message):
        save(smart_editor, draft, rules=rules)
    draft.refresh_from_db()
    assert draft.rules == []


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ([{"name": "a", "form": {}, "expected": "maybe"}], "预期结果（expected）应为"),
        ([{"name": "a", "form": [], "expected": "manual"}], "form 应是一个对象"),
        (
            [{"name": "a", "applicant": {"age": 90}, "expected": "manual"}],
            "不能包含 age",
        ),
        (
            [{"name": "a", "expected": "manual"}, {"name": "a", "expected": "manual"}],
            "示例申请名称“a”重复",
        ),
    ],
)
def test_malformed_examples_are_refused_when_saved(
    smart_editor, draft, examples, message
):
    with pytest.raises(InvalidInput, match=message):
        save(smart_editor, draft, examples=examples)


def test_publishing_is_refused_while_an_example_fails(smart_editor, draft):
    wrong = copy.deepcopy(EXAMPLES)
    wrong[1]["expected"] = (
        "denied"  # without automatic denial a failing rule goes to a person
    )
    draft = save(smart_editor, draft, examples=wrong)
    with pytest.raises(
        InvalidInput, match="“收入超过标准”预期自动不予批准，实际转人工审查"
    ):
        services.rule_set_publish(actor=smart_editor, rule_set=draft)
    draft.refresh_from_db()
    assert draft.status == RuleSetStatus.DRAFT
    # Allowing automatic denial makes that example come out as expected.
    draft = save(smart_editor, draft, examples=wrong, allow_auto_deny=True)
    assert (
        services.rule_set_publish(actor=smart_editor, rule_set=draft).status
        == RuleSetStatus.PUBLISHED
    )


@pytest.mark.parametrize(
    ("rules", "examples", "message"),
    [
        ([], EXAMPLES, "至少要有一条规则"),
        (RULES, [], "至少要有一个示例申请"),
        (RULES, [EXAMPLES[1]], "至少要有一个预期“自动准予”的示例申请"),
    ],
)
def test_publishing_needs_rules_and_examples(
    smart_editor, draft, rules, examples, message
):
    draft = save(smart_editor, draft, rules=rules, examples=examples)
    with pytest.raises(InvalidInput, match=message):
        services.rule_set_publish(actor=smart_editor, rule_set=draft)


def test_a_field_removed_from_the_form_blocks_publication(
    world, smart_editor, smart_item, draft, publish
):
    from onewindow.catalogue import services as catalogue

    draft = save(smart_editor, draft)
    version = catalogue.version_new_draft(actor=world.admin, item=smart_item)
    content = copy.deepcopy(version.content)
    content["form"]["fields"] = [
        f for f in content["form"]["fields"] if f["key"] != "monthly_income"
    ]
    version = catalogue.version_update(
        actor=world.admin, version=version, content=content, change_note="去掉收入"
    )
    publish(version, note="去掉收入")
    with pytest.raises(InvalidInput, match="引用了不存在的字段“form.monthly_income”"):
        services.rule_set_publish(actor=smart_editor, rule_set=draft)


def test_only_the_items_editors_see_and_change_its_rules(
    world, smart_item, smart_editor, draft
):
    # world.editor administers another department: the item and its rules are out of scope.
    with pytest.raises(PermissionDenied):
        services.rule_set_start(actor=world.editor, item=smart_item)
    with pytest.raises(NotFound):
        selectors.rule_set(world.editor, draft.pk)
    with pytest.raises(NotFound):
        selectors.smart_item(world.editor, pk=smart_item.pk)
    with pytest.raises(PermissionDenied):
        save(world.editor, draft)
    assert (
        selectors.rule_set(world.admin, draft.pk) == draft
    )  # platform administrators see every item
    assert list(selectors.smart_items(smart_editor)) == [smart_item]


def test_unpublished_items_cannot_have_rules(world, smart_editor):
    from onewindow.catalogue import services as catalogue
    from tests.smart.conftest import SUBSIDY

    basic = catalogue.basic_item_create(
        actor=world.admin, basic_code="JF00888001", standard=SUBSIDY
    )
    version = catalogue.item_create(
        actor=world.admin, basic_item=basic, department=world.other
    )
    with pytest.raises(DomainError, match="尚未发布，不能配置智能审批规则"):
        services.rule_set_start(actor=smart_editor, item=version.item)


def test_a_draft_can_be_discarded(smart_editor, draft):
    assert (
        services.rule_set_discard(actor=smart_editor, rule_set=draft).status
        == RuleSetStatus.DISCARDED
    )
    with pytest.raises(DomainError):
        services.rule_set_publish(actor=smart_editor, rule_set=draft)


def deep_list(depth):
    value = [1]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("rules", "examples", "message"),
    [
        (
            [{"name": "a\x00", "condition": True, "explanation": "x"}],
            [],
            "规则中含有无法保存的字符",
        ),
        (
            [],
            [{"name": "a", "form": {"x": "\ud800"}, "expected": "manual"}],
            "示例申请中含有无法保存的字符",
        ),
        (
            [],
            [{"name": "a", "form": {"x": float("inf")}, "expected": "manual"}],
            "数值必须是有限数",
        ),
        (
            [],
            [{"name": "a", "form": {"x": deep_list(50)}, "expected": "manual"}],
            "示例申请嵌套过深",
        ),
    ],
)
def test_what_no_database_can_store_is_refused(
    smart_editor, draft, rules, examples, message
):
    with pytest.raises(InvalidInput, match=message):
        save(smart_editor, draft, rules=rules, examples=examples)
