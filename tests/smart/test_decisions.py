"""The decider as case handling uses it: a submitted application is decided by the item's
published rules, with one explanation line per rule on the case and in the audit ledger; what
cannot be decided, or what fails without automatic denial, goes to a person."""

import datetime as dt

import pytest

from onewindow.accounts.choices import AccountKind
from onewindow.cases import hooks
from onewindow.cases.choices import CaseStatus, Decision
from onewindow.core.identifiers import make_id_number
from onewindow.core.models import AuditEntry
from onewindow.smart import selectors
from onewindow.smart.decisions import decide
from tests.smart.conftest import EXAMPLES, HOME, RULES

pytestmark = pytest.mark.django_db


def test_the_decider_is_registered_with_case_handling():
    assert [decider.decide for decider in hooks.auto_deciders] == [decide]


def test_items_without_published_rules_are_left_to_people(smart_item, elder, apply):
    case = apply(elder, {"address": HOME, "monthly_income": "1500.00"})
    assert (
        case.status == CaseStatus.SUBMITTED
        and not case.events.filter(action="auto_check").exists()
    )


def test_rules_published_after_an_item_was_found_without_rules_decide_the_next_application(
    smart_item, give_rules, elder, apply, django_capture_on_commit_callbacks
):
    assert not selectors.has_rules(smart_item.pk)  # the answer is now cached
    with django_capture_on_commit_callbacks(execute=True):
        give_rules()

    assert selectors.has_rules(smart_item.pk)
    case = apply(elder, {"address": HOME, "monthly_income": "1500.00"})
    assert case.status == CaseStatus.COMPLETED


def test_a_matching_application_is_approved_with_every_rule_explained(
    give_rules, elder, apply
):
    give_rules()
    case = apply(elder, {"address": HOME, "monthly_income": "1500.00"})

    assert (case.status, case.decision, case.decided_by) == (
        CaseStatus.COMPLETED,
        Decision.APPROVED,
        None,
    )
    lines = case.decision_opinion.splitlines()
    assert lines == [
        "【符合】年满80周岁：高龄津贴发放对象为年满80周岁的老年人，按身份证号码计算年龄。",
        "【符合】居住在遵义市：居住地址为520302 中华南路1号。",
        "【符合】家庭人均月收入不高于2000元：申报的家庭人均月收入为1500.00元。",
    ]
    assert case.events.get(action="auto_decide").note == case.decision_opinion
    entry = AuditEntry.objects.get(action="cases.auto_decide", object_id=str(case.pk))
    assert "高龄津贴申领 智能审批规则第 1 版" in entry.changes


def test_a_failing_rule_without_automatic_denial_goes_to_a_person(
    give_rules, elder, apply
):
    give_rules()
    case = apply(elder, {"address": HOME, "monthly_income": "2500.00"})

    assert case.status == CaseStatus.SUBMITTED and case.decision == ""
    note = case.events.get(action="auto_check").note
    assert (
        "【不符合】家庭人均月收入不高于2000元：申报的家庭人均月收入为2500.00元。"
        in note
    )


def test_a_failing_rule_denies_only_where_the_item_allows_it(give_rules, elder, apply):
    examples = [
        {
            "name": "符合",
            "form": {"address": HOME, "monthly_income": "100"},
            "applicant": {
                "id_number": make_id_number("520302", dt.date(1930, 1, 1), 1)
            },
            "expected": "approved",
        },
        {
            "name": "外地",
            "form": {
                "address": {"region": "520102", "detail": "x"},
                "monthly_income": "100",
            },
            "applicant": {
                "id_number": make_id_number("520302", dt.date(1930, 1, 1), 1)
            },
            "expected": "denied",
        },
    ]
    give_rules(examples=examples, allow_auto_deny=True)
    case = apply(
        elder,
        {
            "address": {"region": "520000", "detail": "贵阳市南明区"},
            "monthly_income": "1500.00",
        },
    )

    assert (case.status, case.decision) == (CaseStatus.COMPLETED, Decision.DENIED)
    assert "【不符合】居住在遵义市" in case.decision_opinion


def test_a_rule_that_cannot_be_evaluated_never_denies(give_rules, make_user, apply):
    examples = [
        {**example, "expected": "denied"}
        if example["name"] == "收入超过标准"
        else example
        for example in EXAMPLES
    ]
    give_rules(examples=examples, allow_auto_deny=True)
    # An account without an ID number: the age cannot be known.
    nobody = make_user("no_id", kind=AccountKind.CITIZEN, real_name="无证件")
    case = apply(
        nobody,
        {
            "address": {"region": "520000", "detail": "外地"},
            "monthly_income": "1500.00",
        },
    )

    assert case.status == CaseStatus.SUBMITTED
    note = case.events.get(action="auto_check").note
    assert "【无法判断】年满80周岁" in note and "“applicant.id_number”未填写" in note


def test_rules_on_licences_and_credit_ask_the_platforms_sources(
    smart_item, smart_editor, elder, apply, monkeypatch
):
    from onewindow.smart import services

    rules = [
        {
            "name": "持有居民身份证",
            "condition": {"holds_licence": ["resident_id_card"]},
            "explanation": "查验电子证照库。",
        },
        {
            "name": "未列入失信名单",
            "condition": {"!": {"on_blacklist": []}},
            "explanation": "查询信用记录。",
        },
    ]
    examples = [
        {
            "name": "持证守信",
            "applicant": {"licences": ["resident_id_card"], "blacklisted": False},
            "expected": "approved",
        },
        {
            "name": "信用不明",
            "applicant": {"licences": ["resident_id_card"]},
            "expected": "manual",
        },
    ]
    draft = services.rule_set_start(actor=smart_editor, item=smart_item)
    draft = services.rule_set_update(
        actor=smart_editor,
        rule_set=draft,
        rules=rules,
        examples=examples,
        allow_auto_deny=True,
    )
    services.rule_set_publish(actor=smart_editor, rule_set=draft)

    class Library:
        def valid_licences(self, *, holder_ids, licence_type):
            if licence_type == "resident_id_card" and elder.id_number in holder_ids:
                return [
                    hooks.LicenceRecord(
                        number="L1",
                        licence_type=licence_type,
                        name="居民身份证",
                        holder_id=elder.id_number,
                    )
                ]
            return []

    monkeypatch.setattr(hooks, "licence_sources", [Library()])
    monkeypatch.setattr(hooks, "credit_checks", [])
    form = {"address": HOME, "monthly_income": "1"}
    case = apply(elder, form)
    assert case.status == CaseStatus.SUBMITTED  # no credit records: a person decides
    assert (
        "【无法判断】未列入失信名单：查询信用记录。（无法判断：信用信息不可用，转人工审查）"
        in (case.events.get(action="auto_check").note)
    )

    monkeypatch.setattr(hooks, "credit_checks", [lambda applicant, enterprise: None])
    assert apply(elder, form).decision == Decision.APPROVED
    monkeypatch.setattr(
        hooks, "credit_checks", [lambda applicant, enterprise: "列入严重失信主体名单"]
    )
    assert apply(elder, form).decision == Decision.DENIED

    def broken(applicant, enterprise):
        raise ConnectionError("credit records down")

    monkeypatch.setattr(hooks, "credit_checks", [broken])
    case = apply(elder, form)
    assert (
        case.status == CaseStatus.SUBMITTED
        and "信用信息暂时无法访问" in case.events.get(action="auto_check").note
    )


def test_a_new_rule_set_version_decides_the_applications_after_it(
    smart_item, smart_editor, give_rules, elder, apply
):
    from onewindow.smart import services

    give_rules()
    form = {"address": HOME, "monthly_income": "1800.00"}
    assert apply(elder, form).decision == Decision.APPROVED
    stricter = [
        rule
        if rule["name"] != RULES[2]["name"]
        else {**rule, "condition": {"<=": [{"var": "form.monthly_income"}, 1600]}}
        for rule in RULES
    ]
    draft = services.rule_set_start(actor=smart_editor, item=smart_item)
    draft = services.rule_set_update(
        actor=smart_editor,
        rule_set=draft,
        rules=stricter,
        examples=EXAMPLES,
        allow_auto_deny=False,
    )
    services.rule_set_publish(actor=smart_editor, rule_set=draft)
    case = apply(elder, form)
    assert case.status == CaseStatus.SUBMITTED
    entry = AuditEntry.objects.get(action="cases.auto_check", object_id=str(case.pk))
    assert "高龄津贴申领 智能审批规则第 2 版" in entry.changes


def test_a_source_failing_in_the_database_leaves_the_case_usable(
    smart_item, smart_editor, elder, apply, monkeypatch
):
    from django.db import connection

    from onewindow.smart import services

    rules = [
        {
            "name": "未列入失信名单",
            "condition": {"!": {"on_blacklist": []}},
            "explanation": "查询信用记录。",
        }
    ]
    examples = [
        {"name": "守信", "applicant": {"blacklisted": False}, "expected": "approved"}
    ]
    draft = services.rule_set_start(actor=smart_editor, item=smart_item)
    draft = services.rule_set_update(
        actor=smart_editor,
        rule_set=draft,
        rules=rules,
        examples=examples,
        allow_auto_deny=False,
    )
    services.rule_set_publish(actor=smart_editor, rule_set=draft)

    def broken_records(applicant, enterprise):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_credit_table")

    monkeypatch.setattr(hooks, "credit_checks", [broken_records])
    case = apply(elder, {"address": HOME, "monthly_income": "1"})
    assert case.status == CaseStatus.SUBMITTED
    assert "信用信息暂时无法访问" in case.events.get(action="auto_check").note
