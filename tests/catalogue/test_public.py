"""The public catalogue on the portal and its JSON API: browsing and filters, search, the guide
page with its flowchart, the printable PDF, the six lists, versions and the change history.

Items are made and published through the catalogue services by the demo accounts (department
administrator, legal reviewer, platform administrator), as in real use.
"""

import copy
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from onewindow.accounts import demo as accounts_demo
from onewindow.accounts.models import User
from onewindow.catalogue import services
from onewindow.catalogue.flowchart import flowchart_svg
from onewindow.core import demo_regions, pdf
from onewindow.core.models import Department
from tests.core.test_pdf import pdf_info_string

SVG = "{http://www.w3.org/2000/svg}"
BLANK_FORM = "blankformtoken000000000001"
SAMPLE = "sampletoken00000000000000002"

FOOD = "公开目录食品经营许可"
BIRTH = "公开目录出生医学证明办理"
DISTRICT = "公开目录个体工商户登记确认"
DRAFT = "公开目录尚未发布的户外广告许可"


def standard(name, *, item_type="01"):
    return {
        "name": name,
        "item_type": item_type,
        "legal_basis": "《中华人民共和国食品安全法》第三十五条\n《食品经营许可和备案管理办法》第十二条",
        "exercise_level": "3",
        "legal_limit": {"amount": 20, "unit": "working_day", "note": "自受理之日起计算"},
        "conditions": "申请人已取得营业执照；有与经营食品相适应的经营场所。",
        "materials": [
            {
                "key": "application", "name": "食品经营许可申请书", "basis": "《食品经营许可和备案管理办法》第十二条",
                "format": "both", "content": "须如实填写全部内容", "originals": 1, "copies": 0,
                "sign_seal": "法定代表人签字并加盖公章", "required": True,
                "blank_form": BLANK_FORM, "sample": SAMPLE,
            },
            {
                "key": "business_licence", "name": "营业执照", "source": "government", "issuer": "市场监督管理部门",
                "originals": 0, "copies": 1, "required": True, "licence_type": "BIZ_LICENCE",
            },
            {"key": "site_plan", "name": "经营场所平面布局图", "required": True, "deferrable": True},
        ],
    }


def content(basic, *, themes=(), lists=(), **changes):
    """A complete guide on top of the basic item's standard elements."""
    value = {
        **copy.deepcopy(basic.standard),
        "service_objects": ["1", "2"],
        "handling_forms": ["1", "2"],
        "case_type": "2",
        "promised_limit": {"amount": 8, "unit": "working_day", "note": ""},
        "visits": 1,
        "online_depth": 4,
        "delivery_methods": ["window", "post"],
        "themes": list(themes),
        "lists": list(lists),
        "keywords": ["开饭店"],
        "undertaking_office": "行政审批科",
        "responsible_post": "审批科科长",
        "result_type": "licence",
        "result_name": "食品经营许可证",
        "special_procedures": [
            {"kind": "2", "name": "现场勘察", "max_days": 10, "unit": "working_day",
             "basis": "《食品经营许可和备案管理办法》第十五条"},
        ],
        "steps": [
            {"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 1},
            {"key": "review", "name": "材料审查与现场核查", "kind": "review", "role": "reviewer", "limit_days": 5},
            {"key": "decide", "name": "决定", "kind": "decide", "role": "approver", "limit_days": 3},
        ],
        "contact": {
            "hall_address": "遵义市政务服务中心二楼 A12 窗口", "hall_hours": "工作日 9:00-17:00",
            "consult_phone": "0851-28221234", "supervise_phone": "12345", "online_url": "javascript:alert(1)",
        },
        "faq": [{"question": "可以委托他人办理吗？", "answer": "可以，须提交授权委托书。"}],
        "notes": "申请人对材料的真实性负责。",
    }
    value.update(changes)
    return value


def publish(people, version, *, editor):
    version = services.version_submit(actor=editor, version=version)
    version = services.version_approve(actor=people.legal, version=version, opinion="符合规定")
    return services.version_publish_urgent(actor=people.admin, version=version, reason="测试发布")


@pytest.fixture
def people(db):
    """The demo regions, departments and accounts (what `onewindow demo` loads before the catalogue)."""
    demo_regions.load()
    accounts_demo.load()
    users = {user.username: user for user in User.objects.filter(username__in=["admin", "deptadmin", "legal"])}
    departments = {d.name: d for d in Department.objects.all()}
    return SimpleNamespace(
        admin=users["admin"],
        deptadmin=users["deptadmin"],
        legal=users["legal"],
        market=departments["遵义市市场监督管理局"],
        health=departments["遵义市卫生健康局"],
        district=departments["遵义市红花岗区市场监督管理局"],
    )


@pytest.fixture
def catalogue(people):
    admin = people.admin
    services.theme_save(actor=admin, code="pc_open", name="开办企业", audience="enterprise")
    services.theme_save(actor=admin, code="pc_birth", name="出生登记", audience="person")

    food_basic = services.basic_item_create(actor=admin, basic_code="XK00901000", standard=standard(FOOD))
    food = services.item_create(
        actor=people.deptadmin, basic_item=food_basic, department=people.market, change_note="首次发布",
        content=content(food_basic, themes=["pc_open"], lists=["power", "responsibility"], charges_fee=True,
                        supports_booking=True,
                        fees=[{"name": "工本费", "standard": "每证 10 元", "amount": "10", "basis": "黔价费〔2020〕1号"}]),
    )
    food = publish(people, food, editor=people.deptadmin)

    birth_basic = services.basic_item_create(actor=admin, basic_code="GG00902000",
                                             standard=standard(BIRTH, item_type="20"))
    birth = services.item_create(
        actor=admin, basic_item=birth_basic, department=people.health, change_note="首次发布",
        content=content(birth_basic, themes=["pc_birth"], lists=["public_service"], visits=2, special_procedures=[]),
    )
    birth = publish(people, birth, editor=admin)

    district_basic = services.basic_item_create(actor=admin, basic_code="QR00903000",
                                                standard=standard(DISTRICT, item_type="07"))
    district = services.item_create(
        actor=admin, basic_item=district_basic, department=people.district, change_note="首次发布",
        content=content(district_basic, lists=["power"]),
    )
    district = publish(people, district, editor=admin)

    draft_basic = services.basic_item_create(actor=admin, basic_code="XK00904000", standard=standard(DRAFT))
    draft = services.item_create(actor=people.deptadmin, basic_item=draft_basic, department=people.market,
                                 content=content(draft_basic, lists=["power"]), change_note="新增")
    return SimpleNamespace(
        food=food.item, birth=birth.item, district=district.item, draft=draft.item, food_basic=food_basic,
    )


def names(response) -> list[str]:
    """The item names listed on a catalogue page, in order."""
    return re.findall(r'<h3 class="catalogue-item__name"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def get(path, **params):
    return Client().get(path, params)


INDEX = "/catalogue/"


# --- browsing ---------------------------------------------------------------------------------


def test_the_index_lists_published_items_only(catalogue):
    response = get(INDEX)
    assert response.status_code == 200
    assert sorted(names(response)) == sorted([FOOD, BIRTH, DISTRICT])
    assert DRAFT not in response.content.decode()
    assert Client().get(reverse("catalogue:item", args=[catalogue.draft.impl_code])).status_code == 404


def test_filters_by_theme_audience_department_type_list_and_region(catalogue, people):
    assert names(get(INDEX, theme="pc_open")) == [FOOD]
    assert names(get(INDEX, audience="person")) == [BIRTH]
    assert names(get(INDEX, department=people.market.pk)) == [FOOD]
    assert names(get(INDEX, item_type="20")) == [BIRTH]
    assert sorted(names(get(INDEX, list="power"))) == sorted([FOOD, DISTRICT])
    # A resident of the district can apply for the district's items and the city's.
    assert sorted(names(get(INDEX, region="520302"))) == sorted([FOOD, BIRTH, DISTRICT])
    assert sorted(names(get(INDEX, region="520300"))) == sorted([FOOD, BIRTH])
    assert names(get(INDEX, department=people.market.pk, item_type="20")) == []


def test_the_facets_link_to_each_filter(catalogue, people):
    page = get(INDEX).content.decode()
    assert "开办企业" in page and "出生登记" in page
    assert f"department={people.market.pk}" in page
    assert "item_type=20" in page
    assert "list=public_service" in page
    assert reverse("catalogue:list", args=["power"]) in page


def test_search_finds_items_by_name(catalogue):
    response = get(INDEX, q="食品经营许可")
    assert response.status_code == 200
    # Every test item's guide mentions food in its legal basis; the one named so ranks first.
    assert names(response)[0] == FOOD
    assert "按相关度排序" in response.content.decode()
    assert names(get(INDEX, q="出生医学证明")) == [BIRTH]
    assert names(get(INDEX, q="出生医学证明", theme="pc_open")) == []
    assert "没有找到" in get(INDEX, q="潜水艇驾驶").content.decode()


def test_an_htmx_request_gets_only_the_results_part(catalogue):
    response = Client().get(INDEX, {"item_type": "01"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="catalogue-browser"' in body
    assert names(response) == [FOOD]
    assert "HX-Request" in response["Vary"]
    full = get(INDEX, item_type="01").content.decode()
    assert "<html" in full and 'id="catalogue-browser"' in full


def test_pages_of_results(catalogue, monkeypatch):
    from onewindow.catalogue import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first, second = get(INDEX), get(INDEX, page="2")
    assert len(names(first)) == 2 and len(names(second)) == 1
    assert set(names(first)) | set(names(second)) == {FOOD, BIRTH, DISTRICT}
    assert "page=2" in first.content.decode()
    # Past the end: the last page.
    assert names(get(INDEX, page="99")) == names(second)


def test_the_six_lists(catalogue):
    response = get(reverse("catalogue:list", args=["power"]))
    assert response.status_code == 200
    assert sorted(names(response)) == sorted([FOOD, DISTRICT])
    assert "权力清单" in response.content.decode()
    assert names(get(reverse("catalogue:list", args=["public_service"]))) == [BIRTH]
    assert names(get(reverse("catalogue:list", args=["intermediary"]))) == []
    assert get("/catalogue/lists/nonsense/").status_code == 404
    # The other filters still apply within a list.
    assert names(get(reverse("catalogue:list", args=["power"]), region="520300")) == [FOOD]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-1"},
        {"page": "0"},
        {"page": "9" * 40},
        {"department": "abc"},
        {"department": "9" * 40},
        {"department": "-3"},
        {"theme": "<script>alert(1)</script>"},
        {"theme": "nope"},
        {"audience": "alien"},
        {"item_type": "zz"},
        {"list": "nope"},
        {"region": "abc"},
        {"region": "999999"},
        {"region": "5" * 40},
        {"q": "\x00\x01食品"},
        {"q": "食" * 5000},
        {"q": "\"' OR 1=1 -- NEAR( * ) AND"},
        {"q": "🙂🙂"},
    ],
)
def test_hostile_query_parameters_never_fail(catalogue, params):
    response = get(INDEX, **params)
    assert response.status_code == 200
    list_response = get(reverse("catalogue:list", args=["power"]), **params)
    assert list_response.status_code == 200


def test_unknown_filters_are_ignored(catalogue):
    assert sorted(names(get(INDEX, theme="nope", item_type="zz", audience="alien"))) == sorted([FOOD, BIRTH, DISTRICT])


@pytest.mark.parametrize(
    "path",
    [
        "/catalogue/items/NOPE/",
        "/catalogue/items/NOPE/guide.pdf",
        "/catalogue/items/NOPE/flowchart.svg",
        "/catalogue/items/NOPE/history/",
        "/catalogue/items/NOPE/v1/",
        "/catalogue/items/%00/",
        "/catalogue/items/a%2Fb/",
        "/catalogue/items/" + "A" * 80 + "/",
    ],
)
def test_unknown_items_are_404(catalogue, path):
    assert Client().get(path).status_code == 404


# --- the guide ------------------------------------------------------------------------------------


def test_the_guide_page_shows_every_element(catalogue, people):
    item = catalogue.food
    response = get(reverse("catalogue:item", args=[item.impl_code]))
    assert response.status_code == 200
    page = response.content.decode()
    for text in [
        FOOD, "行政许可", item.impl_code, "XK00901000", people.market.name, people.market.uscc,
        "市级", "承诺件", "20个工作日", "自受理之日起计算", "8个工作日", "比法定时限压缩60%", "最多跑一次",
        "四级：全程网上办理", "窗口办理", "快递送达", "行政审批科", "审批科科长", "开办企业", "权力清单", "责任清单",
        "《中华人民共和国食品安全法》第三十五条", "申请人已取得营业执照",
        # materials, every column
        "食品经营许可申请书", "营业执照", "经营场所平面布局图", "市场监督管理部门", "须如实填写全部内容",
        "法定代表人签字并加盖公章", "原件 1 份，复印件 0 份", "可容缺", "BIZ_LICENCE", "纸质或电子", "政府部门核发",
        # special procedure, process, result, fees, contact, FAQ, notes
        "现场勘察", "不超过10个工作日", "材料审查与现场核查", "窗口受理员", "审核员", "首席代表（审批人）",
        "食品经营许可证", "工本费", "每证 10 元", "10.00元", "黔价费〔2020〕1号",
        "遵义市政务服务中心二楼 A12 窗口", "0851-28221234", "12345",
        "可以委托他人办理吗？", "可以，须提交授权委托书。", "申请人对材料的真实性负责。",
    ]:
        assert text in page, text
    # Blank forms and samples are downloaded from the item's public address, not the signed-in one.
    for token in (BLANK_FORM, SAMPLE):
        assert f'href="{reverse("catalogue:guide_file", args=[item.impl_code, token])}"' in page
        assert f'href="{reverse("core:file_download", args=[token])}"' not in page
    assert reverse("catalogue:item_pdf", args=[item.impl_code]) in page
    assert reverse("catalogue:history", args=[item.impl_code]) in page
    # A web address that is not http(s) is never a link.
    assert 'href="javascript:' not in page
    # The current version offers "apply online", which starts an application in the case part.
    assert f'href="{reverse("cases:apply", kwargs={"impl_code": item.impl_code})}"' in page
    # An item that takes appointments links to booking a time at the hall for it.
    booking = f'href="{reverse("hall:book")}?item={item.impl_code}"'
    assert booking in page


def test_the_guide_page_has_no_inline_script_or_style(catalogue):
    page = get(reverse("catalogue:item", args=[catalogue.food.impl_code])).content.decode()
    assert "<style" not in page and " style=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []


def test_the_flowchart_is_inline_on_the_guide_page_and_served_as_svg(catalogue):
    item = catalogue.food
    page = get(reverse("catalogue:item", args=[item.impl_code])).content.decode()
    inline = re.search(r"<svg .*?</svg>", page, re.DOTALL).group(0)
    ET.fromstring(inline)
    response = get(reverse("catalogue:flowchart", args=[item.impl_code]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    texts = [node.text for node in root.iter(f"{SVG}text")]
    for expected in ["开始：申请人提交申请", "受理", "材料审查与现场核查", "决定", "办结/送达", "不予受理", "一次性告知补正",
                     "时限：5个工作日", "办理角色：审核员"]:
        assert expected in texts, expected
    assert any(text.startswith("特别程序：现场勘察（不超过10个工作日") for text in texts)


def test_the_flowchart_escapes_text_and_is_deterministic():
    hostile = {
        "name": "<script>&\"'",
        "steps": [
            {"key": "accept", "name": "受理 <b>", "kind": "accept", "role": "window_clerk", "limit_days": 1},
            {"key": "review", "name": "审" * 60, "kind": "review", "role": "unknown_role", "limit_days": 0},
            {"key": "decide", "name": "A & B", "kind": "decide", "role": "approver", "limit_days": 2},
        ],
        "special_procedures": [{"kind": "1", "name": "延长审批]]>", "max_days": 10, "unit": "working_day"}],
    }
    svg = flowchart_svg(hostile)
    assert svg == flowchart_svg(copy.deepcopy(hostile))
    root = ET.fromstring(svg)
    texts = [node.text for node in root.iter(f"{SVG}text")]
    assert "受理 <b>" in texts and "A & B" in texts
    assert "<script>" not in svg
    # A long name wraps instead of running out of its box.
    width = float(root.get("width"))
    assert sum(1 for text in texts if text and set(text) == {"审"}) >= 3
    for rect in root.iter(f"{SVG}rect"):
        assert float(rect.get("x")) + float(rect.get("width")) <= width
    assert ET.fromstring(flowchart_svg({})).tag == f"{SVG}svg"


def test_the_guide_pdf(catalogue):
    item = catalogue.food
    response = get(reverse("catalogue:item_pdf", args=[item.impl_code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    assert pdf_info_string(data, "Title") == f"{FOOD} 办事指南"
    assert pdf_info_string(data, "Subject") == item.impl_code
    if pdf.cjk_font().embedded:
        assert b"/FontFile2" in data
    assert get(reverse("catalogue:item_pdf", args=[catalogue.draft.impl_code])).status_code == 404


# --- versions and the change history ---------------------------------------------------------------


@pytest.fixture
def changed(catalogue, people):
    """The food item's second published version: a new fee standard, a new note."""
    draft = services.version_new_draft(actor=people.deptadmin, item=catalogue.food, change_note="调整工本费标准")
    new_content = copy.deepcopy(draft.content)
    new_content["fees"] = [{"name": "工本费", "standard": "每证 5 元", "amount": "5", "basis": "黔价费〔2024〕3号"}]
    new_content["notes"] = "申请人对材料的真实性负责，可网上预约。"
    draft = services.version_update(actor=people.deptadmin, version=draft, content=new_content)
    publish(people, draft, editor=people.deptadmin)
    catalogue.food.refresh_from_db()
    return catalogue.food


def test_the_history_shows_what_changed(changed):
    response = get(reverse("catalogue:history", args=[changed.impl_code]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "第2版" in page and "第1版" in page
    assert "调整工本费标准" in page and "首次发布。" in page
    assert "收费项目「工本费」 › 收费标准" in page
    assert "每证 10 元" in page and "每证 5 元" in page
    assert "注意事项" in page and "可网上预约" in page
    assert reverse("catalogue:version", args=[changed.impl_code, 1]) in page


def test_an_earlier_version_reads_as_it_was(changed):
    old = get(reverse("catalogue:version", args=[changed.impl_code, 1]))
    assert old.status_code == 200
    old_page = old.content.decode()
    assert "每证 10 元" in old_page and "每证 5 元" not in old_page
    assert "历史版本" in old_page
    ET.fromstring(re.search(r"<svg .*?</svg>", old_page, re.DOTALL).group(0))
    current = get(reverse("catalogue:item", args=[changed.impl_code])).content.decode()
    assert "每证 5 元" in current and "每证 10 元" not in current
    # The current version's own address leads to the guide page.
    response = get(reverse("catalogue:version", args=[changed.impl_code, 2]))
    assert response.status_code == 302 and response["Location"] == reverse("catalogue:item", args=[changed.impl_code])
    old_chart = get(reverse("catalogue:flowchart", args=[changed.impl_code]), v="1")
    assert old_chart.status_code == 200
    for path in [
        reverse("catalogue:version", args=[changed.impl_code, 3]),
        f"/catalogue/items/{changed.impl_code}/v{'9' * 30}/",
    ]:
        assert Client().get(path).status_code == 404
    for value in ["abc", "9" * 30, "3"]:
        assert get(reverse("catalogue:flowchart", args=[changed.impl_code]), v=value).status_code == 404


def test_an_unpublished_draft_is_not_in_the_history(catalogue, people):
    services.version_new_draft(actor=people.deptadmin, item=catalogue.food, change_note="尚在编辑")
    page = get(reverse("catalogue:history", args=[catalogue.food.impl_code])).content.decode()
    assert "尚在编辑" not in page and "第2版" not in page


# --- the JSON API ------------------------------------------------------------------------------------------

API = "/api/catalogue"


def api(path, **params):
    return Client().get(f"{API}{path}", params)


def test_api_lists_and_filters_items(catalogue, people):
    body = api("/items").json()
    assert body["total"] == 3 and body["offset"] == 0
    by_name = {item["name"]: item for item in body["items"]}
    assert set(by_name) == {FOOD, BIRTH, DISTRICT}
    food = by_name[FOOD]
    assert food["impl_code"] == catalogue.food.impl_code
    assert food["item_type"] == "01" and food["item_type_label"] == "行政许可"
    assert food["department"]["name"] == people.market.name
    assert food["region"]["code"] == "520300"
    assert food["promised_days"] == 8 and food["visits"] == 1 and food["online_depth"] == 4
    assert sorted(food["lists"]) == ["power", "responsibility"]
    assert food["url"].endswith(reverse("catalogue:item", args=[catalogue.food.impl_code]))
    assert [i["name"] for i in api("/items", theme="pc_open").json()["items"]] == [FOOD]
    assert [i["name"] for i in api("/items", department=people.health.pk).json()["items"]] == [BIRTH]
    assert [i["name"] for i in api("/items", item_type="07").json()["items"]] == [DISTRICT]
    assert {i["name"] for i in api("/items", list="power").json()["items"]} == {FOOD, DISTRICT}
    assert {i["name"] for i in api("/items", region="520300").json()["items"]} == {FOOD, BIRTH}
    assert [i["name"] for i in api("/items", q="出生医学证明").json()["items"]] == [BIRTH]
    paged = api("/items", limit=2, offset=2).json()
    assert paged["total"] == 3 and len(paged["items"]) == 1


@pytest.mark.parametrize(
    "params",
    [{"limit": "1000"}, {"limit": "0"}, {"offset": "-1"}, {"item_type": "zz"}, {"list": "nope"},
     {"department": "9" * 30}, {"region": "abc"}, {"audience": "alien"}, {"theme": "<x>"}],
)
def test_api_refuses_bad_filters(catalogue, params):
    assert api("/items", **params).status_code == 422


def test_api_survives_odd_search_text(catalogue):
    for q in ["\"' OR 1=1", "🙂", "*"]:
        assert api("/items", q=q).status_code == 200
    # Text no database can store is refused, naming the parameter.
    refused = api("/items", q="\x00食品")
    assert refused.status_code == 400 and refused.json()["field"] == "q"


def test_api_item_detail_is_the_full_guide(catalogue):
    item = catalogue.food
    response = api(f"/items/{item.impl_code}")
    assert response.status_code == 200
    body = response.json()
    assert body["impl_code"] == item.impl_code and body["basic_code"] == "XK00901000"
    assert body["version"] == 1 and body["is_current"] is True
    assert body["content"]["name"] == FOOD
    assert [m["name"] for m in body["content"]["materials"]] == ["食品经营许可申请书", "营业执照", "经营场所平面布局图"]
    assert body["content"]["materials"][2]["deferrable"] is True
    assert Decimal(body["content"]["fees"][0]["amount"]) == Decimal(10)
    assert body["pdf_url"].endswith(reverse("catalogue:item_pdf", args=[item.impl_code]))
    # Lower-case codes find the item too.
    assert api(f"/items/{item.impl_code.lower()}").status_code == 200
    for code in [catalogue.draft.impl_code, "NOPE", "a%2Fb", "%00", "x" * 100]:
        missing = api(f"/items/{code}")
        assert missing.status_code == 404, code
        assert "detail" in missing.json()


def test_api_history_and_versions(changed):
    body = api(f"/items/{changed.impl_code}/history").json()
    assert [v["number"] for v in body["versions"]] == [2, 1]
    newest, first = body["versions"]
    assert newest["is_current"] and newest["change_note"] == "调整工本费标准" and newest["urgent"]
    assert first["changes"] == []
    labels = {change["label"] for change in newest["changes"]}
    assert "收费项目「工本费」 › 收费标准" in labels and "注意事项" in labels
    old = api(f"/items/{changed.impl_code}/versions/1").json()
    assert old["version"] == 1 and old["is_current"] is False
    assert old["content"]["fees"][0]["standard"] == "每证 10 元"
    assert old["url"].endswith(reverse("catalogue:version", args=[changed.impl_code, 1]))
    assert api(f"/items/{changed.impl_code}/versions/3").status_code == 404
    assert api(f"/items/{changed.impl_code}/versions/{'9' * 30}").status_code == 422
    assert api("/items/NOPE/history").status_code == 404


def test_api_themes_lists_and_basic_items(catalogue):
    themes = api("/themes").json()
    assert {"code": "pc_open", "name": "开办企业", "audience": "enterprise", "audience_label": "法人办事"} in themes
    assert [t["code"] for t in api("/themes", audience="person").json()] == ["pc_birth"]
    lists = {entry["code"]: entry for entry in api("/lists").json()}
    assert len(lists) == 6
    assert lists["power"]["count"] == 2 and lists["public_service"]["count"] == 1 and lists["intermediary"]["count"] == 0
    assert lists["power"]["name"] == "权力清单"
    basic = api("/basic-items", q="食品").json()
    assert basic["total"] == 1 and basic["items"][0]["basic_code"] == "XK00901000"
    assert api("/basic-items").json()["total"] == 4


def test_the_openapi_schema_documents_the_catalogue(db):
    schema = Client().get("/api/openapi.json").json()
    for path in [
        "/api/catalogue/items",
        "/api/catalogue/items/{impl_code}",
        "/api/catalogue/items/{impl_code}/history",
        "/api/catalogue/items/{impl_code}/versions/{number}",
        "/api/catalogue/themes",
        "/api/catalogue/lists",
        "/api/catalogue/basic-items",
    ]:
        assert path in schema["paths"], path
    material = schema["components"]["schemas"]["Material"]["properties"]
    assert {"deferrable", "licence_type", "blank_form", "sample", "sign_seal"} <= set(material)
