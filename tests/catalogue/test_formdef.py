"""Application form definitions: the definition's own rules, validation of submissions, HTML
posts, and rendering (server side, and the client script in a real browser)."""

import datetime
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib.staticfiles import finders
from django.http import QueryDict
from django.template import Context, Template
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onewindow.catalogue.formdef import (
    FORM_ERROR_KEY,
    FormDefinition,
    FormErrors,
    data_from_post,
    initial_data,
    parse_form_definition,
    validate_submission,
)
from onewindow.core.errors import InvalidInput
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.regions import region_create

TODAY = datetime.date(2025, 6, 16)
ID_NUMBER = "11010519491231002X"
USCC = make_uscc("9", "1", "520300", "MA6DKE7P")
TOKEN_A = "tok_" + "a" * 39
TOKEN_B = "tok_" + "b" * 39


def choices(*values: str) -> list[dict]:
    return [{"value": value, "label": value.upper()} for value in values]


def definition(*fields: dict) -> FormDefinition:
    return parse_form_definition({"fields": list(fields)})


def one(field: dict) -> FormDefinition:
    return definition({"key": "f", "label": "字段", **field})


def errors_of(form: FormDefinition, data, **kwargs) -> dict[str, str]:
    with pytest.raises(FormErrors) as info:
        validate_submission(form, data, today=TODAY, **kwargs)
    return info.value.errors


def check(form: FormDefinition, data) -> dict:
    return validate_submission(form, data, today=TODAY)


@pytest.fixture
def regions(db):
    province = region_create(actor=None, code="520000", name="贵州省", parent=None)
    city = region_create(actor=None, code="520300", name="遵义市", parent=province)
    county = region_create(actor=None, code="520302", name="红花岗区", parent=city)
    return {"province": province, "city": city, "county": county}


# The example of the module docstring, with one field of every other type added.
APPLICATION = {
    "fields": [
        {"key": "applicant_name", "label": "申请人姓名", "type": "text", "required": True, "max_length": 50,
         "prefill": "applicant.real_name"},
        {"key": "kind", "label": "申请类型", "type": "choice", "required": True,
         "choices": [{"value": "new", "label": "新办"}, {"value": "change", "label": "变更"}]},
        {"key": "old_number", "label": "原证号", "type": "text", "required": True,
         "show_if": {"field": "kind", "equals": "change"}},
        {"key": "area", "label": "经营面积", "type": "number", "decimals": 2, "min": 1, "max": 10000, "unit": "平方米"},
        {"key": "opened", "label": "开业日期", "type": "date", "max_date": "today"},
        {"key": "scopes", "label": "经营项目", "type": "choice", "multiple": True,
         "choices": [{"value": "food", "label": "食品"}, {"value": "drink", "label": "饮品"},
                     {"value": "tobacco", "label": "烟草"}]},
        {"key": "site", "label": "经营场所", "type": "address", "required": True},
        {"key": "legal_id", "label": "负责人身份证号", "type": "id_number"},
        {"key": "uscc", "label": "统一社会信用代码", "type": "uscc"},
        {"key": "phone", "label": "联系电话", "type": "text", "format": "phone", "required": True},
        {"key": "statement", "label": "情况说明", "type": "text", "multiline": True, "help": "可分段填写"},
        {"key": "staff", "label": "从业人员", "type": "table", "min_rows": 1, "max_rows": 5,
         "columns": [{"key": "name", "label": "姓名", "type": "text", "required": True},
                     {"key": "id", "label": "身份证号", "type": "id_number"},
                     {"key": "role", "label": "岗位", "type": "choice",
                      "choices": [{"value": "cook", "label": "厨师"}, {"value": "clerk", "label": "店员"}]}]},
        {"key": "site_photo", "label": "经营场所照片", "type": "attachment", "material": "site_photos",
         "show_if": {"field": "site", "filled": True}},
    ]
}

VALID = {
    "applicant_name": " 张三 ",
    "kind": "new",
    "area": "120.5",
    "opened": "2025-01-02",
    "scopes": ["drink", "food"],
    "site": {"region": "520302", "detail": "中华路 1 号"},
    "legal_id": "11010519491231002x",
    "uscc": USCC.lower(),
    "phone": "0851-28221234",
    "statement": "第一段\r\n第二段",
    "staff": [{"name": "李四", "id": ID_NUMBER, "role": "cook"}],
    "site_photo": [TOKEN_A],
}

CLEANED = {
    "applicant_name": "张三",
    "kind": "new",
    "area": "120.50",
    "opened": "2025-01-02",
    "scopes": ["food", "drink"],
    "site": {"region": "520302", "detail": "中华路 1 号"},
    "legal_id": ID_NUMBER,
    "uscc": USCC,
    "phone": "0851-28221234",
    "statement": "第一段\n第二段",
    "staff": [{"name": "李四", "id": ID_NUMBER, "role": "cook"}],
    "site_photo": [TOKEN_A],
}


# --- definitions ---------------------------------------------------------------------


def test_example_definition_is_accepted():
    form = parse_form_definition(APPLICATION)
    assert [field.key for field in form.fields][:3] == ["applicant_name", "kind", "old_number"]
    assert form.field("staff").columns[1].type == "id_number"
    assert form.field("missing") is None


def test_parse_returns_a_definition_as_it_is():
    form = parse_form_definition(APPLICATION)
    assert parse_form_definition(form) is form


TEXT = {"type": "text"}
REFUSED_DEFINITIONS = [
    pytest.param(
        [{"key": "a", "label": "甲", **TEXT}, {"key": "a", "label": "乙", **TEXT}],
        "申请表字段编号“a”重复。",
        id="duplicate-key",
    ),
    pytest.param(
        [{"key": "t", "label": "人员", "type": "table",
          "columns": [{"key": "x", "label": "甲", **TEXT}, {"key": "x", "label": "乙", **TEXT}]}],
        "申请表字段第1项：表格字段“人员”的列编号“x”重复。",
        id="duplicate-column-key",
    ),
    pytest.param(
        [{"key": "c", "label": "类型", "type": "choice"}],
        "申请表字段第1项：选择字段“类型”至少需要一个选项。",
        id="choice-without-choices",
    ),
    pytest.param(
        [{"key": "c", "label": "类型", "type": "choice", "choices": choices("x", "y", "x")}],
        "申请表字段第1项：选择字段“类型”的选项值“x”重复。",
        id="duplicate-choice-value",
    ),
    pytest.param(
        [{"key": "a", "label": "姓名", "type": "text", "columns": [{"key": "x", "label": "甲", **TEXT}]}],
        "申请表字段第1项：只有表格字段才能设置表格列（“姓名”不是表格字段）。",
        id="columns-on-text",
    ),
    pytest.param(
        [{"key": "t", "label": "人员", "type": "table"}],
        "申请表字段第1项：表格字段“人员”至少需要一列。",
        id="table-without-columns",
    ),
    pytest.param(
        [{"key": "t", "label": "人员", "type": "table",
          "columns": [{"key": "x", "label": "子表", "type": "table", "columns": [{"key": "y", "label": "乙", **TEXT}]}]}],
        "申请表字段第1项：表格字段“人员”的列“子表”不能是表格或附件。",
        id="table-in-table",
    ),
    pytest.param(
        [{"key": "t", "label": "人员", "type": "table",
          "columns": [{"key": "x", "label": "照片", "type": "attachment", "material": "photo"}]}],
        "申请表字段第1项：表格字段“人员”的列“照片”不能是表格或附件。",
        id="attachment-column",
    ),
    pytest.param(
        [{"key": "a", "label": "甲", **TEXT},
         {"key": "t", "label": "人员", "type": "table",
          "columns": [{"key": "x", "label": "乙", **TEXT, "show_if": {"field": "a", "filled": True}}]}],
        "申请表字段第2项：表格字段“人员”的列“乙”不能设置显示条件。",
        id="show-if-on-column",
    ),
    pytest.param(
        [{"key": "p", "label": "照片", "type": "attachment"}],
        "申请表字段第1项：附件字段“照片”须指明对应办事指南中的哪项材料。",
        id="attachment-without-material",
    ),
    pytest.param(
        [{"key": "a", "label": "甲", **TEXT, "show_if": {"field": "b", "filled": True}},
         {"key": "b", "label": "乙", **TEXT}],
        "字段“甲”的显示条件须引用排在它前面的字段，“b”不是。",
        id="show-if-later-field",
    ),
    pytest.param(
        [{"key": "a", "label": "甲", **TEXT, "show_if": {"field": "a", "filled": True}}],
        "字段“甲”的显示条件须引用排在它前面的字段，“a”不是。",
        id="show-if-itself",
    ),
    pytest.param(
        [{"key": "t", "label": "人员", "type": "table", "columns": [{"key": "x", "label": "乙", **TEXT}]},
         {"key": "a", "label": "甲", **TEXT, "show_if": {"field": "x", "filled": True}}],
        "字段“甲”的显示条件须引用排在它前面的字段，“x”不是。",
        id="show-if-column",
    ),
    pytest.param(
        [{"key": "c", "label": "类型", "type": "choice", "choices": choices("new", "change")},
         {"key": "a", "label": "原证号", **TEXT, "show_if": {"field": "c", "equals": "renew"}}],
        "字段“原证号”的显示条件取值“renew”不是“类型”的选项值。",
        id="equals-not-a-choice",
    ),
    pytest.param(
        [{"key": "c", "label": "类型", "type": "choice", "choices": choices("new", "change")},
         {"key": "a", "label": "原证号", **TEXT, "show_if": {"field": "c", "any_of": ["change", "cancel"]}}],
        "字段“原证号”的显示条件取值“cancel”不是“类型”的选项值。",
        id="any-of-not-a-choice",
    ),
    pytest.param(
        [{"key": "s", "label": "场所", "type": "address"},
         {"key": "a", "label": "说明", **TEXT, "show_if": {"field": "s", "equals": "x"}}],
        "字段“说明”的显示条件只能判断“场所”是否已填写（filled）。",
        id="equals-on-address",
    ),
    pytest.param(
        [{"key": "c", "label": "类型", "type": "choice", "choices": choices("x")},
         {"key": "a", "label": "说明", **TEXT, "show_if": {"field": "c", "equals": "x", "filled": True}}],
        "申请表字段第2项「显示条件」：显示条件须且只须给出 equals、any_of、filled 之一。",
        id="two-conditions",
    ),
    pytest.param(
        [{"key": "c", "label": "类型", "type": "choice", "choices": choices("x")},
         {"key": "a", "label": "说明", **TEXT, "show_if": {"field": "c", "any_of": []}}],
        "申请表字段第2项「显示条件」：显示条件 any_of 至少需要一个取值。",
        id="empty-any-of",
    ),
    pytest.param(
        [{"key": "n", "label": "面积", "type": "number", "min": 10, "max": 5}],
        "申请表字段第1项：字段“面积”的最小值不能大于最大值。",
        id="min-above-max",
    ),
    pytest.param(
        [{"key": "n", "label": "面积", "type": "number", "max": float("inf")}],
        "申请表字段第1项：字段“面积”的最小值和最大值须为有限的数。",
        id="max-infinite",
    ),
    pytest.param(
        [{"key": "d", "label": "日期", "type": "date", "min_date": "2024/01/01"}],
        "申请表字段第1项：字段“日期”的日期范围须为 yyyy-mm-dd 格式的日期或 today，“2024/01/01”不是。",
        id="min-date-format",
    ),
    pytest.param(
        [{"key": "d", "label": "日期", "type": "date", "max_date": "2023-02-29"}],
        "申请表字段第1项：字段“日期”的日期范围须为 yyyy-mm-dd 格式的日期或 today，“2023-02-29”不是。",
        id="max-date-impossible",
    ),
    pytest.param(
        [{"key": "d", "label": "日期", "type": "date", "max_date": "tomorrow"}],
        "申请表字段第1项：字段“日期”的日期范围须为 yyyy-mm-dd 格式的日期或 today，“tomorrow”不是。",
        id="max-date-word",
    ),
    pytest.param(
        [{"key": "d", "label": "日期", "type": "date", "min_date": "2025-02-01", "max_date": "2025-01-01"}],
        "申请表字段第1项：字段“日期”的最早日期不能晚于最晚日期。",
        id="min-date-after-max-date",
    ),
    pytest.param(
        [{"key": "a", "label": "姓名", **TEXT, "prefill": "applicant.password"}],
        "申请表字段第1项：字段“姓名”的预填来源“applicant.password”不可用，可用的有：applicant.real_name、"
        "applicant.id_number、applicant.phone、enterprise.name、enterprise.uscc、enterprise.legal_representative。",
        id="prefill-unknown",
    ),
    pytest.param(
        [{"key": "t", "label": "人员", "type": "table", "min_rows": 6, "max_rows": 5,
          "columns": [{"key": "x", "label": "乙", **TEXT}]}],
        "申请表字段第1项：表格字段“人员”的最少行数不能大于最多行数。",
        id="min-rows-above-max-rows",
    ),
    pytest.param(
        [{"key": "t", "label": "人员", "type": "table",
          "columns": [{"key": "x", "label": "类型", "type": "choice"}]}],
        "申请表字段第1项「表格列」第1项：选择字段“类型”至少需要一个选项。",
        id="column-checked-as-a-field",
    ),
    pytest.param(
        [{"key": "Bad-Key", "label": "甲", **TEXT}],
        None,
        id="key-shape",
    ),
]


@pytest.mark.parametrize(("fields", "message"), REFUSED_DEFINITIONS)
def test_definition_refused(fields, message):
    with pytest.raises(InvalidInput) as info:
        parse_form_definition({"fields": fields})
    if message is not None:
        assert info.value.message == message
    else:
        assert info.value.message.startswith("申请表字段第1项「编号」：")


def test_definition_accepts_today_bounds_filled_conditions_and_chains():
    form = definition(
        {"key": "d", "label": "日期", "type": "date", "min_date": "2020-01-01", "max_date": "today"},
        {"key": "a", "label": "甲", **TEXT, "show_if": {"field": "d", "filled": False}},
        {"key": "b", "label": "乙", **TEXT, "show_if": {"field": "a", "equals": "x"}},
    )
    assert [field.show_if.field for field in form.fields[1:]] == ["d", "a"]


# --- submissions: every type -----------------------------------------------------------


def test_full_submission_is_cleaned(regions):
    assert check(parse_form_definition(APPLICATION), VALID) == CLEANED


def test_definition_given_as_json_is_parsed_first(regions):
    assert validate_submission(APPLICATION, VALID, today=TODAY) == CLEANED
    with pytest.raises(InvalidInput):
        validate_submission({"fields": [{"key": "c", "label": "类型", "type": "choice"}]}, {})


def test_errors_carry_a_summary_and_every_field():
    form = parse_form_definition(APPLICATION)
    with pytest.raises(FormErrors) as info:
        validate_submission(form, {"kind": "change"}, today=TODAY)
    error = info.value
    assert isinstance(error, InvalidInput) and error.status_code == 400
    assert error.errors == {
        "applicant_name": "必须填写。",
        "old_number": "必须填写。",
        "site": "必须填写。",
        "phone": "必须填写。",
        "staff": "至少填写 1 行。",
    }
    assert error.message == "申请表有 5 处需要修改。"
    assert error.field == "applicant_name"


@pytest.mark.parametrize(
    ("field", "value", "cleaned"),
    [
        ({"type": "text"}, "  正文 ", "正文"),
        ({"type": "text"}, "", None),
        ({"type": "text"}, None, None),
        ({"type": "text", "multiline": True}, "一\r\n二\n三", "一\n二\n三"),
        ({"type": "text", "format": "phone"}, "0851-28221234", "0851-28221234"),
        ({"type": "text", "format": "phone"}, "085128221234", "085128221234"),
        ({"type": "text", "format": "phone"}, "010-12345678-123", "010-12345678-123"),
        ({"type": "text", "format": "phone"}, "13800138000", "13800138000"),
        ({"type": "text", "format": "mobile"}, "+86 138 0013 8000", "13800138000"),
        ({"type": "text", "format": "mobile"}, "１３８００１３８０００", "13800138000"),
        ({"type": "text", "format": "email"}, "zhang.san@example.cn", "zhang.san@example.cn"),
        ({"type": "text", "format": "postcode"}, "563000", "563000"),
        ({"type": "number"}, "42", "42"),
        ({"type": "number"}, 42, "42"),
        ({"type": "number", "decimals": 2}, "3.5", "3.50"),
        ({"type": "number", "decimals": 2}, 3.25, "3.25"),
        ({"type": "number", "decimals": 1}, "3.50", "3.5"),
        ({"type": "number", "decimals": 2}, "-0", "0.00"),
        ({"type": "number", "min": -5, "max": 5}, "-5", "-5"),
        ({"type": "number"}, " ４２ ", "42"),
        ({"type": "number"}, "", None),
        ({"type": "date"}, "2024-02-29", "2024-02-29"),
        ({"type": "date", "min_date": "today"}, "2025-06-16", "2025-06-16"),
        ({"type": "date", "max_date": "today", "min_date": "2025-01-01"}, "2025-01-01", "2025-01-01"),
        ({"type": "choice", "choices": choices("a", "b")}, "b", "b"),
        ({"type": "choice", "choices": choices("a", "b")}, "", None),
        ({"type": "choice", "choices": choices("a", "b", "c"), "multiple": True}, ["c", "a", "c"], ["a", "c"]),
        ({"type": "choice", "choices": choices("a", "b"), "multiple": True}, "b", ["b"]),
        ({"type": "choice", "choices": choices("a", "b"), "multiple": True}, None, []),
        ({"type": "id_number"}, " 11010519491231002x ", ID_NUMBER),
        ({"type": "uscc"}, USCC.lower(), USCC),
        ({"type": "id_number"}, "", None),
        ({"type": "attachment", "material": "m"}, [TOKEN_A, TOKEN_B, TOKEN_A], [TOKEN_A, TOKEN_B]),
        ({"type": "attachment", "material": "m"}, None, []),
        ({"type": "table", "columns": [{"key": "x", "label": "乙", "type": "number"}]}, [{"x": "1"}, {}],
         [{"x": "1"}, {"x": None}]),
        ({"type": "table", "columns": [{"key": "x", "label": "乙", "type": "number"}]}, None, []),
    ],
)
def test_accepted_values(field, value, cleaned):
    assert check(one(field), {"f": value}) == {"f": cleaned}


def test_absent_optional_field_is_kept_empty():
    form = definition({"key": "a", "label": "甲", **TEXT}, {"key": "b", "label": "乙", "type": "attachment",
                                                          "material": "m"})
    assert check(form, {}) == {"a": None, "b": []}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ({"type": "text", "required": True}, "   ", "必须填写。"),
        ({"type": "text", "max_length": 5}, "一二三四五六", "不能超过 5 个字。"),
        ({"type": "text"}, "字" * 201, "不能超过 200 个字。"),
        ({"type": "text", "multiline": True}, "字" * 2001, "不能超过 2000 个字。"),
        ({"type": "text"}, "一\n二", "此项只能填写一行。"),
        ({"type": "text", "multiline": True}, "a\x00b", "含有不能使用的控制字符。"),
        ({"type": "text"}, "a\ud800b", "含有不能使用的控制字符。"),
        ({"type": "text", "format": "phone"}, "12345", "请填写手机号码或带区号的固定电话（如 0851-28221234）。"),
        ({"type": "text", "format": "phone"}, "851-28221234", "请填写手机号码或带区号的固定电话（如 0851-28221234）。"),
        ({"type": "text", "format": "mobile"}, "12800138000", "请填写11位手机号码。"),
        ({"type": "text", "format": "mobile"}, "1380013800", "请填写11位手机号码。"),
        ({"type": "text", "format": "mobile"}, "0851-28221234", "请填写11位手机号码。"),
        ({"type": "text", "format": "email"}, "zhang@", "请填写有效的电子邮箱地址。"),
        ({"type": "text", "format": "postcode"}, "56300", "邮政编码应为6位数字。"),
        ({"type": "number", "required": True}, None, "必须填写。"),
        ({"type": "number"}, "12a", "须为数字。"),
        ({"type": "number"}, "NaN", "须为数字。"),
        ({"type": "number"}, "1e3", "须为数字。"),
        ({"type": "number"}, "1_000", "须为数字。"),
        ({"type": "number"}, "Infinity", "须为数字。"),
        ({"type": "number"}, float("nan"), "须为数字。"),
        ({"type": "number"}, "2.5", "须为整数。"),
        ({"type": "number", "decimals": 2}, "3.555", "最多保留 2 位小数。"),
        ({"type": "number", "min": 1.5, "decimals": 1}, "1.4", "不能小于 1.5。"),
        ({"type": "number", "max": 100}, 101, "不能大于 100。"),
        ({"type": "number"}, "1" + "0" * 15, "数值过大。"),
        ({"type": "date"}, "2023-02-29", "日期 2023-02-29 不存在。"),
        ({"type": "date"}, "2024/01/01", "日期格式应为 yyyy-mm-dd。"),
        ({"type": "date"}, "20240101", "日期格式应为 yyyy-mm-dd。"),
        ({"type": "date", "min_date": "today"}, "2025-06-15", "不能早于 2025-06-16。"),
        ({"type": "date", "max_date": "today"}, "2025-06-17", "不能晚于 2025-06-16。"),
        ({"type": "date", "min_date": "2025-01-01"}, "2024-12-31", "不能早于 2025-01-01。"),
        ({"type": "choice", "choices": choices("a"), "required": True}, "", "请选择。"),
        ({"type": "choice", "choices": choices("a")}, "z", "所选的值不在选项中。"),
        ({"type": "choice", "choices": choices("a"), "multiple": True}, ["a", "z"], "所选的值不在选项中。"),
        ({"type": "choice", "choices": choices("a"), "multiple": True, "required": True}, [], "请选择。"),
        ({"type": "id_number"}, "11010519491231002", "身份证号码应为18位：前17位是数字，最后一位是数字或X。"),
        ({"type": "id_number"}, "110105194912310021", "身份证号码的校验位不正确，请核对是否录入有误。"),
        ({"type": "id_number", "required": True}, "", "必须填写。"),
        ({"type": "uscc"}, USCC[:-1] + ("0" if USCC[-1] != "0" else "1"), "统一社会信用代码的校验位不正确，请核对是否录入有误。"),
        ({"type": "uscc"}, "123", "统一社会信用代码应为18位，当前为3位。"),
        ({"type": "attachment", "material": "m", "required": True}, [], "请上传此项材料。"),
        ({"type": "attachment", "material": "m"}, ["../../etc/passwd"], "上传的文件无法识别，请重新上传。"),
        ({"type": "attachment", "material": "m"}, [f"tok_{n:040d}" for n in range(21)], "最多上传 20 个文件。"),
    ],
)
def test_refused_values(field, value, message):
    assert errors_of(one(field), {"f": value}) == {"f": message}


ODD = [
    ["列表"],
    {"a": 1},
    True,
    12,
    1.5,
    [["x"]],
    [{"a": 1}],
]


@pytest.mark.parametrize("kind", ["text", "number", "date", "choice", "address", "id_number", "uscc", "table",
                                  "attachment"])
@pytest.mark.parametrize("value", ODD, ids=[type(v).__name__ + str(i) for i, v in enumerate(ODD)])
def test_odd_types_are_refused_cleanly(db, kind, value):
    field = {"type": kind, "choices": choices("a"), "material": "m",
             "columns": [{"key": "x", "label": "乙", "type": "text"}]}
    field = {k: v for k, v in field.items() if (k, kind) in {("choices", "choice"), ("material", "attachment"),
                                                           ("columns", "table")} or k == "type"}
    form = one(field)
    if kind == "number" and value == 12:
        assert check(form, {"f": value}) == {"f": "12"}
        return
    errors = errors_of(form, {"f": value})
    assert errors and set(errors) <= {"f", "f.0", "f.0.a", "f.0.x"}
    assert all(isinstance(message, str) and message for message in errors.values())


def test_list_for_text_and_dict_for_number_name_the_field():
    form = definition({"key": "a", "label": "甲", **TEXT}, {"key": "n", "label": "乙", "type": "number"})
    assert errors_of(form, {"a": ["x"], "n": {"value": 1}}) == {"a": "格式不对。", "n": "须为数字。"}


def test_fractional_float_against_integer_field():
    assert errors_of(one({"type": "number"}), {"f": 1.5}) == {"f": "须为整数。"}


def json_values():
    # Every code point, lone surrogates included: JSON escapes can carry them.
    text = st.text(st.characters(exclude_categories=()), max_size=30)
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
    return st.recursive(
        scalars, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children,
                                                                                    max_size=3),
        max_leaves=8,
    )


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from([f["key"] for f in APPLICATION["fields"]] + ["other"]), json_values()))
def test_any_json_gives_cleaned_data_or_form_errors(regions, data):
    try:
        cleaned = validate_submission(APPLICATION, data, today=TODAY)
    except FormErrors as exc:
        assert exc.errors and all(isinstance(v, str) and v for v in exc.errors.values())
    else:
        json.dumps(cleaned, ensure_ascii=False).encode()  # storable as it is


@pytest.mark.parametrize("data", [None, [], "kind=new", 3])
def test_submission_that_is_not_an_object(data):
    with pytest.raises(FormErrors) as info:
        validate_submission(APPLICATION, data, today=TODAY)
    assert info.value.errors == {FORM_ERROR_KEY: "申请表数据格式不对。"}
    assert info.value.message == "申请表有 1 处需要修改。"


def test_unknown_keys_are_refused(regions):
    errors = errors_of(parse_form_definition(APPLICATION), {**VALID, "salary": "10000", "note": ""})
    assert errors == {"salary": "申请表中没有这一项。", "note": "申请表中没有这一项。"}


def test_default_today_is_the_local_date():
    form = one({"type": "date", "max_date": "today"})
    with pytest.raises(FormErrors):
        validate_submission(form, {"f": "2999-01-01"})
    assert validate_submission(form, {"f": "2000-01-01"}) == {"f": "2000-01-01"}


# --- addresses ---------------------------------------------------------------------------


ADDRESS = {"type": "address", "required": True}


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ({"region": "520302", "detail": " 中华路 1 号 "}, {"region": "520302", "detail": "中华路 1 号"}),
        ({"region": "520302000000", "detail": "中华路"}, {"region": "520302", "detail": "中华路"}),
        ({"region": "520300", "detail": "中华路"}, {"region": "520300", "detail": "中华路"}),
    ],
)
def test_address_accepted(regions, value, cleaned):
    assert check(one(ADDRESS), {"f": value}) == {"f": cleaned}


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ({"region": "520399", "detail": "中华路"}, {"f.region": "行政区划 520399 不存在。"}),
        ({"region": "110000", "detail": "长安街"}, {"f.region": "行政区划 110000 不存在。"}),
        ({"region": "52", "detail": "中华路"},
         {"f.region": "行政区划代码应为6位（县级及以上）、9位（乡级）或12位（统计用区划代码）数字。"}),
        ({"region": "520302", "detail": ""}, {"f.detail": "请填写详细地址。"}),
        ({"region": "", "detail": "中华路"}, {"f.region": "请填写行政区划代码。"}),
        ({"region": 520302, "detail": ["中华路"]}, {"f.region": "格式不对。", "f.detail": "格式不对。"}),
        ({"region": "520302", "detail": "中华路\n2 号"}, {"f.detail": "此项只能填写一行，且不能含控制字符。"}),
        ({"region": "520302", "detail": "路" * 201}, {"f.detail": "不能超过 200 个字。"}),
        ({"region": "520302", "detail": "中华路", "zip": "563000"}, {"f": "地址只包含行政区划和详细地址两项。"}),
        ({"region": "", "detail": " "}, {"f": "必须填写。"}),
        ("520302 中华路", {"f": "格式不对。"}),
    ],
)
def test_address_refused(regions, value, errors):
    assert errors_of(one(ADDRESS), {"f": value}) == errors


def test_address_regions_are_looked_up_once_per_code(regions, django_assert_num_queries):
    form = one({"type": "table", "columns": [{"key": "a", "label": "地址", "type": "address"}]})
    rows = [{"a": {"region": "520302", "detail": f"{n} 号"}} for n in range(10)]
    with django_assert_num_queries(1):
        assert len(check(form, {"f": rows})["f"]) == 10


# --- tables ------------------------------------------------------------------------------


STAFF = {
    "key": "staff", "label": "从业人员", "type": "table", "min_rows": 1, "max_rows": 3,
    "columns": [{"key": "name", "label": "姓名", "type": "text", "required": True},
                {"key": "id", "label": "身份证号", "type": "id_number"}],
}


def test_table_errors_are_located_by_row_and_column():
    form = definition({**STAFF, "max_rows": 10})
    errors = errors_of(form, {"staff": [
        {"name": "张三", "id": ID_NUMBER},
        {"name": "", "id": "110105194912310021"},
        {"name": "李四", "age": 30},
        "王五",
    ]})
    assert errors == {
        "staff.1.name": "必须填写。",
        "staff.1.id": "身份证号码的校验位不正确，请核对是否录入有误。",
        "staff.2.age": "表格中没有这一列。",
        "staff.3": "格式不对。",
    }


@pytest.mark.parametrize(
    ("rows", "message"),
    [([], "至少填写 1 行。"), ([{"name": "甲"}] * 4, "最多填写 3 行。"), ({"name": "甲"}, "格式不对。")],
)
def test_table_row_counts(rows, message):
    assert errors_of(definition(STAFF), {"staff": rows}) == {"staff": message}


def test_required_table_needs_a_row():
    form = one({"type": "table", "required": True, "columns": [{"key": "x", "label": "乙", **TEXT}]})
    assert errors_of(form, {"f": []}) == {"f": "必须填写。"}
    assert check(form, {"f": [{"x": "1"}]}) == {"f": [{"x": "1"}]}


# --- show_if --------------------------------------------------------------------------------


def test_hidden_required_field_is_not_required_and_its_value_is_dropped(regions):
    form = parse_form_definition(APPLICATION)
    cleaned = check(form, {**VALID, "kind": "new", "old_number": "旧证 001"})
    assert "old_number" not in cleaned
    errors = errors_of(form, {**VALID, "kind": "change"})
    assert errors == {"old_number": "必须填写。"}
    assert check(form, {**VALID, "kind": "change", "old_number": "旧证 001"})["old_number"] == "旧证 001"


def test_hidden_field_is_not_validated_at_all(regions):
    form = parse_form_definition(APPLICATION)
    # An odd value in a hidden field is dropped, not reported: the applicant cannot see it.
    cleaned = check(form, {**VALID, "old_number": ["x"]})
    assert "old_number" not in cleaned


def test_filled_condition(regions):
    form = parse_form_definition(APPLICATION)
    data = {**VALID}
    del data["site_photo"]
    assert check(form, data)["site_photo"] == []
    form = definition({"key": "a", "label": "甲", **TEXT},
                      {"key": "b", "label": "乙", **TEXT, "required": True, "show_if": {"field": "a", "filled": False}})
    assert errors_of(form, {"a": ""}) == {"b": "必须填写。"}
    assert check(form, {"a": "有", "b": "x"}) == {"a": "有"}


def test_any_of_and_multiple_choice_sources():
    form = definition(
        {"key": "c", "label": "类型", "type": "choice", "multiple": True, "choices": choices("x", "y", "z")},
        {"key": "a", "label": "甲", **TEXT, "required": True, "show_if": {"field": "c", "any_of": ["y", "z"]}},
    )
    assert check(form, {"c": ["x"]}) == {"c": ["x"]}
    assert errors_of(form, {"c": ["x", "z"]}) == {"a": "必须填写。"}


def test_number_equals_compares_numbers():
    form = definition(
        {"key": "n", "label": "数量", "type": "number", "decimals": 2},
        {"key": "a", "label": "甲", **TEXT, "required": True, "show_if": {"field": "n", "equals": "3"}},
    )
    assert errors_of(form, {"n": "3.00"}) == {"a": "必须填写。"}
    assert check(form, {"n": "3.5"}) == {"n": "3.50"}


def test_chain_of_conditions():
    form = definition(
        {"key": "c", "label": "类型", "type": "choice", "choices": choices("x", "y")},
        {"key": "a", "label": "甲", **TEXT, "show_if": {"field": "c", "equals": "y"}},
        {"key": "b", "label": "乙", **TEXT, "required": True, "show_if": {"field": "a", "filled": False}},
    )
    # a is hidden, so b (which depends on a) is hidden too, even though a is "not filled".
    assert check(form, {"c": "x"}) == {"c": "x"}
    assert errors_of(form, {"c": "y"}) == {"b": "必须填写。"}
    assert check(form, {"c": "y", "a": "有"}) == {"c": "y", "a": "有"}


def test_condition_on_a_refused_field_waits_for_it():
    form = definition(
        {"key": "c", "label": "类型", "type": "choice", "choices": choices("x", "y")},
        {"key": "a", "label": "甲", **TEXT, "required": True, "show_if": {"field": "c", "equals": "y"}},
    )
    assert errors_of(form, {"c": "nope"}) == {"c": "所选的值不在选项中。"}


def test_initial_data_takes_documented_prefill_sources():
    known = {"applicant.real_name": "张三", "applicant.phone": "", "enterprise.name": "某公司"}
    assert initial_data(APPLICATION, known) == {"applicant_name": "张三"}


# --- HTML posts ---------------------------------------------------------------------------


def post(pairs: list[tuple[str, str]]) -> QueryDict:
    return QueryDict(urlencode(pairs))


def test_data_from_post(regions):
    form = parse_form_definition(APPLICATION)
    data = data_from_post(form, post([
        ("csrfmiddlewaretoken", "x"),
        ("f-applicant_name", "张三"),
        ("f-kind", "change"),
        ("f-old_number", "旧证 001"),
        ("f-area", "12"),
        ("f-opened", ""),
        ("f-scopes", "food"), ("f-scopes", "tobacco"), ("f-scopes", ""),
        ("f-site-region", "520302"), ("f-site-detail", "中华路 1 号"),
        ("f-phone", "13800138000"),
        ("f-staff-0-name", "李四"), ("f-staff-0-id", ""), ("f-staff-0-role", "cook"),
        ("f-staff-1-name", ""), ("f-staff-1-id", ""), ("f-staff-1-role", ""),
        ("f-staff-7-name", "王五"), ("f-staff-7-id", ID_NUMBER.lower()), ("f-staff-7-role", ""),
        ("f-staff-x-name", "ignored"), ("f-other", "ignored"),
        ("f-site_photo", TOKEN_A), ("f-site_photo", TOKEN_B), ("f-site_photo", ""),
    ]))
    assert data == {
        "applicant_name": "张三",
        "kind": "change",
        "old_number": "旧证 001",
        "area": "12",
        "opened": "",
        "scopes": ["food", "tobacco"],
        "site": {"region": "520302", "detail": "中华路 1 号"},
        "legal_id": None,
        "uscc": None,
        "phone": "13800138000",
        "statement": None,
        "staff": [{"name": "李四", "id": "", "role": "cook"}, {"name": "王五", "id": ID_NUMBER.lower(), "role": ""}],
        "site_photo": [TOKEN_A, TOKEN_B],
    }
    assert check(form, data) == {
        "applicant_name": "张三",
        "kind": "change",
        "old_number": "旧证 001",
        "area": "12.00",
        "opened": None,
        "scopes": ["food", "tobacco"],
        "site": {"region": "520302", "detail": "中华路 1 号"},
        "legal_id": None,
        "uscc": None,
        "phone": "13800138000",
        "statement": None,
        "staff": [{"name": "李四", "id": None, "role": "cook"}, {"name": "王五", "id": ID_NUMBER, "role": None}],
        "site_photo": [TOKEN_A, TOKEN_B],
    }


def test_data_from_post_takes_plain_dicts_and_caps_rows():
    form = definition({**STAFF, "max_rows": 2})
    data = data_from_post(form, {f"f-staff-{n}-name": f"人{n}" for n in range(10)})
    assert len(data["staff"]) == 3  # one more than allowed, so validation can say so
    assert errors_of(form, data) == {"staff": "最多填写 2 行。"}


def test_data_from_post_address_in_table():
    form = one({"type": "table", "columns": [{"key": "at", "label": "地址", "type": "address"}]})
    data = data_from_post(form, post([("f-f-0-at-region", "520302"), ("f-f-0-at-detail", "中华路")]))
    assert data == {"f": [{"at": {"region": "520302", "detail": "中华路"}}]}


# --- rendering -----------------------------------------------------------------------------


class Controls(HTMLParser):
    """What a browser would post for a rendered form (file inputs and <template> content aside),
    plus every element with its attributes and the inline scripts and styles found."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline_code: list[str] = []
        self._template = 0
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "template":
            self._template += 1
        if tag in ("script", "style"):
            self._open.append(tag)
        if self._template:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") != "file":
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.pairs.append((name, attrs.get("value") or ""))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.pairs.append((self._select, attrs.get("value") or ""))
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and not self._template:
            self.pairs.append((self._textarea, "".join(self._text)))
            self._textarea = None
        if tag in ("script", "style") and self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._open and data.strip():
            self.inline_code.append(data)
        if self._textarea:
            self._text.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def render(form, data=None, errors=None) -> str:
    template = Template("{% load catalogue_forms %}{% render_application_form form data errors %}")
    return template.render(Context({"form": form, "data": data, "errors": errors}))


def test_rendered_form_posts_back_what_it_shows(regions):
    form = parse_form_definition(APPLICATION)
    data = {**VALID, "kind": "change", "old_number": "旧证 001",
            "staff": [{"name": "李四", "id": ID_NUMBER, "role": "cook"}, {"name": "王五", "id": "", "role": ""}]}
    cleaned = check(form, data)
    html = render(form, cleaned)
    again = data_from_post(form, post(Controls(html).pairs))
    assert check(form, again) == cleaned


def test_rendering_has_every_field_and_no_inline_code(regions):
    html = render(APPLICATION, {"site": {"region": "520302", "detail": "中华路"}, "site_photo": [TOKEN_A]})
    page = Controls(html)
    names = {attrs.get("name") for tag, attrs in page.elements if attrs.get("name")}
    assert {
        "f-applicant_name", "f-kind", "f-old_number", "f-area", "f-opened", "f-scopes", "f-site-region",
        "f-site-detail", "f-legal_id", "f-uscc", "f-phone", "f-statement", "f-staff-0-name", "f-staff-0-id",
        "f-staff-0-role", "f-staff-__row__-name", "f-site_photo",
    } <= names
    # No inline script or style anywhere (the CSP forbids them); the script is a deferred file.
    assert page.inline_code == []
    assert page.find("style") == []
    assert all("style" not in attrs and not any(k.startswith("on") for k in attrs) for _, attrs in page.elements)
    scripts = page.find("script")
    assert [s["src"] for s in scripts] == ["/static/onewindow/catalogue-form.js"] and "defer" in scripts[0]
    assert page.find("link", rel="stylesheet", href="/static/onewindow/catalogue.css")
    assert finders.find("onewindow/catalogue-form.js") and finders.find("onewindow/catalogue.css")
    # Conditions travel as JSON on the field's wrapper.
    conditional = {a["data-form-field"]: json.loads(a["data-show-if"]) for a in page.find("div")
                   if "data-show-if" in a}
    assert conditional == {"old_number": {"field": "kind", "equals": "change"},
                           "site_photo": {"field": "site", "filled": True}}
    # Types get their controls.
    assert [a["value"] for a in page.find("input", type="radio", name="f-kind")] == ["new", "change"]
    assert len(page.find("input", type="checkbox", name="f-scopes")) == 3
    assert page.find("input", name="f-opened", type="date", max=timezone.localdate().isoformat())
    assert page.find("textarea", name="f-statement")
    assert page.find("input", type="tel", name="f-phone")
    assert page.find("input", type="file", name="f-site_photo")
    assert page.find("input", type="hidden", name="f-site_photo", value=TOKEN_A)
    assert page.find("template")
    assert page.find("button", type="button")
    assert "红花岗区" in html  # the region's name next to its code
    assert "平方米" in html and "可分段填写" in html


def test_errors_are_rendered_next_to_their_fields():
    form = parse_form_definition(APPLICATION)
    errors = {
        "applicant_name": "必须填写。",
        "site.region": "行政区划 520399 不存在。",
        "staff.0.id": "身份证号码的校验位不正确，请核对是否录入有误。",
        "salary": "申请表中没有这一项。",
    }
    html = render(form, {"staff": [{"name": "张三", "id": "1"}]}, FormErrors(errors))
    page = Controls(html)
    assert page.find("input", name="f-applicant_name", **{"aria-invalid": "true",
                                                        "aria-describedby": "f-applicant_name-error"})
    assert re.search(r'id="f-applicant_name-error">必须填写。<', html)
    assert re.search(r'id="f-site-region-error">行政区划 520399 不存在。<', html)
    assert page.find("input", name="f-staff-0-id", **{"aria-invalid": "true"})
    assert re.search(r'id="f-staff-0-id-error">身份证号码的校验位不正确', html)
    # An error no control shows is listed above the fields.
    assert re.search(r'role="alert">\s*<ul class="errorlist"><li>申请表中没有这一项。</li>', html)
    assert html.count("form-field--invalid") == 3


def test_odd_data_renders_empty_rather_than_failing():
    html = render(APPLICATION, {"applicant_name": ["x"], "site": "x", "staff": "x", "scopes": 3, "area": {"a": 1}})
    page = Controls(html)
    assert page.find("input", name="f-applicant_name", value="")
    assert page.find("input", name="f-staff-0-name", value="")


# --- the client script, in a browser ----------------------------------------------------------


CSP = "default-src 'self'; script-src 'self'; style-src 'self'"


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(**DESKTOP)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))

        def open_form(html: str):
            def serve(route):
                path = route.request.url.split("form.test", 1)[1]
                if path.startswith("/static/"):
                    with open(finders.find(path.removeprefix("/static/")), "rb") as file:
                        kind = "text/css" if path.endswith(".css") else "text/javascript"
                        route.fulfill(body=file.read(), content_type=kind)
                else:
                    head = '<!doctype html><html><head><meta charset="utf-8"></head>'
                    body = f"{head}<body><form>{html}</form></body></html>"
                    route.fulfill(body=body, content_type="text/html; charset=utf-8",
                                  headers={"Content-Security-Policy": CSP})

            page.route("http://form.test/**", serve)
            page.goto("http://form.test/")
            page.wait_for_function("document.querySelector('[data-form-ready]') !== null")
            return page

        yield open_form, errors
        browser.close()


@pytest.mark.e2e
def test_script_shows_hides_and_adds_rows(regions, browser_page):
    open_form, errors = browser_page
    html = render(APPLICATION, {"kind": "new", "staff": [{"name": "张三"}]})
    page = open_form(html)
    old = page.locator('[data-form-field="old_number"]')
    photo = page.locator('[data-form-field="site_photo"]')
    assert old.is_hidden() and page.locator('[name="f-old_number"]').is_disabled()
    assert photo.is_hidden()
    page.check('input[name="f-kind"][value="change"]')
    assert old.is_visible() and page.locator('[name="f-old_number"]').is_enabled()
    page.fill('[name="f-site-detail"]', "中华路")
    assert photo.is_visible()
    page.fill('[name="f-site-detail"]', "")
    assert photo.is_hidden()

    rows = page.locator('[data-form-field="staff"] tbody [data-form-row]')
    assert rows.count() == 1
    remove = page.locator('[data-form-field="staff"] tbody [data-form-remove-row]')
    assert remove.first.is_disabled()  # min_rows is 1
    page.click("[data-form-add-row]")
    assert rows.count() == 2
    assert page.locator('[name="f-staff-1-name"]').evaluate("el => el === document.activeElement")
    page.fill('[name="f-staff-1-name"]', "李四")
    page.click("[data-form-add-row]")
    page.click("[data-form-add-row]")
    page.click("[data-form-add-row]")
    assert rows.count() == 5 and page.locator("[data-form-add-row]").is_disabled()  # max_rows is 5
    remove.nth(0).click()
    assert rows.count() == 4
    assert page.locator('[data-form-field="staff"] tbody [data-form-row-number]').all_inner_texts()[:2] == ["1", "2"]
    # What the browser would post goes through data_from_post like any form.
    pairs = page.evaluate("Array.from(new FormData(document.querySelector('form')).entries())"
                          ".filter(([k, v]) => typeof v === 'string')")
    data = data_from_post(APPLICATION, post([tuple(pair) for pair in pairs]))
    assert data["staff"] == [{"name": "李四", "id": "", "role": ""}]
    assert data["kind"] == "change"
    assert errors == []
