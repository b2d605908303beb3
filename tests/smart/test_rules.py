"""The rule language: what each operator means, errors as values, and (hypothesis) that no JSON
input makes the evaluator raise or run code."""

import ast
import datetime as dt
import inspect
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.core.identifiers import make_id_number
from onewindow.smart import rules
from onewindow.smart.rules import (
    OPERATORS,
    CannotEvaluate,
    check_expression,
    evaluate,
    render_template,
)

TODAY = dt.date(2026, 6, 1)


class Sources:
    today = TODAY

    def __init__(self, licences=None, blacklisted=None):
        self.licences = licences
        self.blacklisted = blacklisted

    def holds_licence(self, licence_type):
        return (
            CannotEvaluate("电子证照库不可用")
            if self.licences is None
            else licence_type in self.licences
        )

    def on_blacklist(self):
        return (
            CannotEvaluate("信用信息不可用")
            if self.blacklisted is None
            else self.blacklisted
        )


DATA = {
    "form": {
        "income": "1500.00",
        "kind": "renew",
        "address": {"region": "520302", "detail": "中华南路1号"},
        "empty": None,
        "tags": ["a", "b"],
    },
    "applicant": {"id_number": make_id_number("520302", dt.date(1966, 6, 2), 11)},
}


def run(expression, data=DATA, sources=None):
    return evaluate(expression, data, sources or Sources())


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"==": [{"var": "form.kind"}, "renew"]}, True),
        ({"!=": [{"var": "form.kind"}, "renew"]}, False),
        ({"<=": [{"var": "form.income"}, 2000]}, True),
        ({"<": [1000, {"var": "form.income"}, 2000]}, True),
        ({"<": [1500, {"var": "form.income"}, 2000]}, False),
        ({">": [{"var": "form.income"}, 1499.99]}, True),
        ({"==": [{"var": "form.income"}, 1500]}, True),
        ({"==": [True, 1]}, False),
        ({"==": ["1", "1.0"]}, False),
        ({"and": [True, {"in": ["b", {"var": "form.tags"}]}]}, True),
        ({"or": [False, {"in": ["c", {"var": "form.tags"}]}]}, False),
        ({"!": [{"in": ["南路", {"var": "form.address.detail"}]}]}, False),
        ({"if": [{">": [{"var": "form.income"}, 2000]}, "high", "low"]}, "low"),
        ({"var": ["form.missing", "default"]}, "default"),
        ({"in_region": [{"var": "form.address"}, "520300"]}, True),
        ({"in_region": [{"var": "form.address"}, "520302"]}, True),
        ({"in_region": ["520302", "520100"]}, False),
        ({"in_region": ["520302001000", "520000"]}, True),
        (["a", {"var": "form.kind"}], ["a", "renew"]),
    ],
)
def test_operators(expression, expected):
    assert run(expression) == expected


def test_age_from_id_counts_full_years_on_the_decision_day():
    # Born 2 June 1966: 59 on 1 June 2026, 60 the day after.
    age = {"age_from_id": [{"var": "applicant.id_number"}]}
    assert run(age) == 59

    class Tomorrow(Sources):
        today = TODAY + dt.timedelta(days=1)

    assert run(age, sources=Tomorrow()) == 60


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ({"var": "form.missing"}, "缺少“form.missing”"),
        ({"var": "form.empty"}, "“form.empty”未填写"),
        ({">": [{"var": "form.kind"}, 3]}, "“renew”不是数值"),
        ({"and": [{"var": "form.kind"}]}, "“renew”不是“是”或“否”"),
        ({"age_from_id": ["520302199001011234"]}, "身份证号码无效"),
        ({"in_region": ["99", "520300"]}, "行政区划代码无效"),
        ({"holds_licence": ["food_business"]}, "电子证照库不可用"),
        ({"on_blacklist": []}, "信用信息不可用"),
        ({"eval": ["1+1"]}, "未知的运算“eval”"),
        ({"__class__": []}, "未知的运算“__class__”"),
        ({"==": [1]}, "参数个数不对"),
        ({"a": 1, "b": 2}, "运算应是只有一个键的对象"),
        ({">": [float("nan"), 1]}, "不是数值"),
    ],
)
def test_what_cannot_be_evaluated_is_a_value_with_its_reason(expression, reason):
    value = run(expression)
    assert isinstance(value, CannotEvaluate) and reason in value.reason


def test_the_first_reason_met_travels_up_and_short_circuits_stop_early():
    value = run({"and": [{"var": "form.a"}, {"var": "form.b"}]})
    assert value.reason == "缺少“form.a”"
    # A decided `or` does not look further, so a later unknown does not matter.
    assert run({"or": [True, {"var": "form.missing"}]}) is True
    assert run({"and": [False, {"var": "form.missing"}]}) is False


def test_licence_and_blacklist_ask_the_sources():
    sources = Sources(licences=["resident_id_card"], blacklisted=False)
    assert run({"holds_licence": ["resident_id_card"]}, sources=sources) is True
    assert run({"holds_licence": ["food_business"]}, sources=sources) is False
    assert run({"!": [{"on_blacklist": []}]}, sources=sources) is True


def test_too_deep_or_too_large_expressions_cannot_be_evaluated():
    deep = True
    for _ in range(200):
        deep = {"!": [deep]}
    assert isinstance(run(deep), CannotEvaluate)
    wide = {"and": [True] * 2000}
    assert isinstance(run(wide), CannotEvaluate)


def test_checking_names_every_problem_of_an_expression():
    known = {"form.income", "applicant.id_number"}.__contains__
    assert (
        check_expression({"<=": [{"var": "form.income"}, 2000]}, known_field=known)
        == []
    )
    problems = check_expression(
        {
            "and": [
                {"var": "form.salary"},
                {"nope": [1]},
                {"!": [1, 2]},
                {"var": [{"var": "form.income"}]},
            ]
        },
        known_field=known,
    )
    assert problems == [
        "引用了不存在的字段“form.salary”。",
        "未知的运算“nope”。",
        "运算“!”的参数个数不对。",
        '字段引用“{…}”应写成字段路径，例如 "form.income"。',
    ]
    deep = True
    for _ in range(100):
        deep = [deep]
    assert len(check_expression(deep, known_field=known)) == 1


def test_templates_fill_in_data_paths_and_nothing_else():
    assert (
        render_template("收入{form.income}元，住址{form.address}", DATA)
        == "收入1500.00元，住址520302 中华南路1号"
    )
    assert render_template("{form.missing}{__class__}{0}", DATA) == "—{__class__}{0}"


# --- properties -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=40,
)
operator_names = st.sampled_from(
    [*OPERATORS, "eval", "exec", "__import__", "__class__", "log", "method"]
)


@st.composite
def expressions(draw, depth=0):
    """Mostly well-formed operations over mostly meaningful data, with arbitrary JSON mixed in."""
    if depth > 5 or draw(st.integers(0, 3)) == 0:
        return draw(
            json_values
            | st.sampled_from(
                [
                    {"var": "form.income"},
                    {"var": "form.address"},
                    {"var": "applicant.id_number"},
                    "520300",
                    "__import__('os').system('true')",
                    {"var": "form.missing"},
                ]
            )
        )
    operator = draw(operator_names)
    arguments = draw(st.lists(expressions(depth + 1), max_size=4))
    return {
        operator: arguments
        if draw(st.booleans())
        else (arguments[0] if arguments else None)
    }


@settings(max_examples=400, deadline=None)
@given(
    expression=expressions(),
    data=json_values,
    licences=st.none() | st.lists(st.text(max_size=5), max_size=2),
    blacklisted=st.none() | st.booleans(),
)
def test_evaluation_never_raises_on_any_json(expression, data, licences, blacklisted):
    sources = Sources(licences, blacklisted)
    for facts in (DATA, {"form": data, "applicant": data}):
        value = evaluate(expression, facts, sources)
        json.dumps(
            value,
            default=lambda v: (
                str(v) if isinstance(v, (Decimal, CannotEvaluate)) else None
            ),
        )
    check_expression(expression, known_field=lambda path: True)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_strings_are_data_never_code(text):
    """A string is its own value wherever it stands, whatever it says."""
    assert evaluate(text, DATA, Sources()) == text
    assert evaluate({"==": [text, text]}, DATA, Sources()) is True
    assert isinstance(render_template(text, DATA), str)


def test_the_evaluator_has_no_way_to_run_code():
    """No eval, exec, compile, import or attribute access by name anywhere in the module."""
    tree = ast.parse(inspect.getsource(rules))
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {
        "eval",
        "exec",
        "compile",
        "__import__",
        "getattr",
        "setattr",
        "globals",
        "locals",
        "vars",
    }
    assert not any(
        isinstance(node, ast.Attribute) and node.attr in ("format", "format_map")
        for node in ast.walk(tree)
    )
