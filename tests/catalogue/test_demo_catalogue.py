"""The demo catalogue (data/demo_catalogue.json) is a valid exchange document of real items:
every guide parses, every code and department is right, and the set covers the platform."""

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from onewindow import catalogue
from onewindow.catalogue.choices import Audience, ItemList, ItemType
from onewindow.catalogue.codes import clean_basic_code, make_impl_code
from onewindow.catalogue.schema import STANDARD_ELEMENTS, content_json, parse_content
from onewindow.core import demo_regions

DATA_FILE = Path(catalogue.__file__).resolve().parent / "data" / "demo_catalogue.json"
BASIC_KEYS = {"basic_code", "name", "item_type", "exercise_level", "legal_basis"}
LICENCE_TYPES = {
    "resident_id_card",
    "household_register",
    "business_licence",
    "marriage_certificate",
    "real_estate_certificate",
    "social_security_card",
    "food_business_licence",
    "road_transport_permit",
}


@pytest.fixture(scope="module")
def document():
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def departments():
    """USCC → department entry of the demo regions file."""
    return {demo_regions.demo_uscc(entry): entry for entry in demo_regions.demo_data()["departments"]}


@pytest.fixture(scope="module")
def contents(document):
    """Every item's content, parsed (the error names the item that failed)."""
    parsed = []
    for number, entry in enumerate(document["items"], start=1):
        prefix = f"第{number}项（{entry['basic']['name']}）："
        parsed.append(parse_content(entry["content"], prefix=prefix))
    return parsed


def label(entry) -> str:
    return f"{entry['basic']['basic_code']} {entry['basic']['name']} @ {entry['department_uscc']}"


def test_format_and_version(document):
    assert document["format"] == "onewindow-catalogue"
    assert document["version"] == 1
    assert set(document) == {"format", "version", "themes", "items"}


def test_themes_are_declared_once_with_ascii_codes(document):
    themes = document["themes"]
    codes = [theme["code"] for theme in themes]
    assert len(codes) == len(set(codes))
    for theme in themes:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,29}", theme["code"]), theme
        assert theme["name"] and theme["audience"] in Audience.values
        assert isinstance(theme["order"], int)
    audiences = defaultdict(int)
    for theme in themes:
        audiences[theme["audience"]] += 1
    assert audiences[Audience.PERSON] >= 12
    assert audiences[Audience.ENTERPRISE] >= 10


def test_every_theme_used_is_declared_and_every_theme_has_items(document):
    declared = {theme["code"] for theme in document["themes"]}
    used = {code for entry in document["items"] for code in entry["content"].get("themes", [])}
    assert used <= declared, used - declared
    assert declared <= used, f"主题没有事项：{declared - used}"


def test_size_and_coverage(document):
    items = document["items"]
    assert len(items) >= 34
    assert {entry["basic"]["item_type"] for entry in items} == set(ItemType.values)
    assert len({entry["department_uscc"] for entry in items}) >= 10


def test_departments_are_demo_departments(document, departments):
    for entry in document["items"]:
        assert entry["department_uscc"] in departments, label(entry)


def test_district_items_are_implemented_by_the_district(document, departments):
    """A county-level item belongs to a county department; the district market regulator has items."""
    district = {uscc for uscc, entry in departments.items() if entry["name"] == "遵义市红花岗区市场监督管理局"}
    assert any(entry["department_uscc"] in district for entry in document["items"])
    for entry in document["items"]:
        if entry["basic"]["exercise_level"] == "4":
            assert departments[entry["department_uscc"]]["region"] != "520300", label(entry)


def test_every_content_parses(document, contents):
    assert len(contents) == len(document["items"])


def test_basic_codes_match_item_types(document):
    for entry in document["items"]:
        basic = entry["basic"]
        assert set(basic) == BASIC_KEYS, label(entry)
        assert clean_basic_code(basic["basic_code"], item_type=basic["item_type"]) == basic["basic_code"]
        assert re.fullmatch(r"[A-Z]{2}[0-9]{5}[0-9]{3}", basic["basic_code"]), label(entry)


def test_items_sharing_a_basic_code_share_the_basic_block(document):
    blocks = {}
    for entry in document["items"]:
        code = entry["basic"]["basic_code"]
        blocks.setdefault(code, entry["basic"])
        assert entry["basic"] == blocks[code], label(entry)
    assert len(blocks) < len(document["items"]), "至少一项基本目录事项由两个部门实施"


def test_content_repeats_the_basic_block(document):
    for entry in document["items"]:
        content = entry["content"]
        for key in BASIC_KEYS - {"basic_code"}:
            assert content[key] == entry["basic"][key] or key in content.get("differences", {}), (label(entry), key)


def test_implementations_of_one_basic_item_differ_only_with_reasons(document, contents):
    """Same item, same standard: the first implementation sets the standard elements; the others
    differ from it only where they record why, and record only real differences."""
    first = {}
    for entry, content in zip(document["items"], contents):
        stored = content_json(content)
        code = entry["basic"]["basic_code"]
        if code not in first:
            first[code] = stored
            assert not stored["differences"], label(entry)
            continue
        differing = {name for name in STANDARD_ELEMENTS if stored[name] != first[code][name]}
        assert differing == set(stored["differences"]), label(entry)
        assert differing, label(entry)


def test_impl_codes_are_unique(document):
    codes = []
    for entry in document["items"]:
        assert entry["impl_code"] == "" and entry["handle_item_code"] == ""
        basic = entry["basic"]
        codes.append(make_impl_code(uscc=entry["department_uscc"], exercise_level=basic["exercise_level"],
                                    basic_code=basic["basic_code"]))
    assert len(codes) == len(set(codes))


def test_licence_types_use_the_agreed_codes(contents):
    used = {material.licence_type for content in contents for material in content.materials if material.licence_type}
    assert used <= LICENCE_TYPES, used - LICENCE_TYPES
    assert len(used) >= 6


def test_list_tags_follow_item_types(contents):
    for content in contents:
        if content.item_type == ItemType.PUBLIC_SERVICE:
            assert ItemList.PUBLIC_SERVICE in content.lists, content.name
            assert ItemList.POWER not in content.lists, content.name
        else:
            assert ItemList.POWER in content.lists, content.name
        if ItemList.INTERMEDIARY in content.lists:
            assert content.intermediary_services, content.name
    tagged = {tag for content in contents for tag in content.lists}
    assert tagged == set(ItemList.values)


def test_guides_are_complete(contents):
    for content in contents:
        assert 2 <= len(content.form.fields) <= 10, content.name
        assert content.faq and len(content.faq) <= 3, content.name
        assert content.contact.hall_address and content.contact.hall_hours, content.name
        assert content.contact.consult_phone.startswith("0851-"), content.name
        assert content.steps[0].role == "window_clerk" and content.steps[-1].role == "approver", content.name
        assert all(step.role == "reviewer" for step in content.steps if step.kind == "review"), content.name
        assert content.result_name and content.conditions and content.notes, content.name
        assert all(procedure.basis for procedure in content.special_procedures), content.name
        if content.case_type == "1":
            assert content.promised_limit.amount == 0 and content.visits <= 1, content.name
        assert 3 <= len(content.materials) <= 8, content.name
        for material in content.materials:
            assert material.issuer, (content.name, material.name)


def test_the_set_shows_the_rules_at_work(contents):
    """Deferrable materials, fees with a basis, special procedures, immediate items and
    uncompressed limits with a reason all occur."""
    assert sum(any(m.deferrable for m in c.materials) for c in contents) >= 10
    assert any(c.charges_fee and c.fees for c in contents)
    assert all(fee.basis for c in contents for fee in c.fees)
    assert sum(bool(c.special_procedures) for c in contents) >= 10
    assert sum(c.case_type == "1" for c in contents) >= 5
    assert any(c.compression_reason for c in contents)
    assert {c.visits for c in contents} == {0, 1, 2}
    assert {int(c.online_depth) for c in contents} >= {1, 2, 3, 4}
    field_types = {field.type for c in contents for field in c.form.fields}
    assert field_types == {"text", "number", "date", "choice", "address", "id_number", "uscc", "table", "attachment"}
