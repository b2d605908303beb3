import json

import pytest
from django.urls import reverse

from onewindow.core import demo_regions
from onewindow.core.choices import RegionLevel
from onewindow.core.errors import InvalidInput
from onewindow.core.identifiers import make_uscc, parse_uscc, uscc_check_char
from onewindow.core.models import AuditEntry, Department, Region
from onewindow.core.selectors.regions import (
    departments_visible_to,
    region_ancestors,
    region_get,
    regions_within,
)
from onewindow.core.services.regions import (
    UNSET,
    department_create,
    department_update,
    region_create,
    region_update,
)

pytestmark = pytest.mark.django_db


def changes(entry: AuditEntry) -> dict:
    return json.loads(entry.changes)


@pytest.fixture
def tree(admin_user):
    province = region_create(actor=admin_user, code="520000", name="贵州省", parent=None)
    city = region_create(actor=admin_user, code="520300", name="遵义市", parent=province)
    county = region_create(actor=admin_user, code="520302", name="红花岗区", parent=city)
    town = region_create(actor=admin_user, code="520302001000", name="老城街道", parent=county)
    other_county = region_create(actor=admin_user, code="520328", name="湄潭县", parent=city)
    return {"province": province, "city": city, "county": county, "town": town, "other_county": other_county}


def uscc(base: str, region: str = "520300") -> str:
    return make_uscc("1", "1", region, base)


# --- region services -----------------------------------------------------------------


def test_region_create_sets_level_path_and_writes_one_audit_entry(admin_user):
    before = AuditEntry.objects.count()
    province = region_create(actor=admin_user, code="520000", name="贵州省", parent=None)
    assert (province.level, province.path) == (RegionLevel.PROVINCE, "520000/")
    entry = AuditEntry.objects.get(object_id=str(province.pk), object_type="core.region")
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "region.create"
    assert entry.actor == admin_user
    assert changes(entry)["after"] == {
        "code": "520000", "name": "贵州省", "level": 1, "parent": None, "path": "520000/"
    }


def test_tree_paths_and_levels(tree):
    assert tree["city"].path == "520000/520300/"
    assert tree["county"].path == "520000/520300/520302/"
    assert tree["town"].path == "520000/520300/520302/520302001000/"
    assert [tree[k].level for k in ("province", "city", "county", "town")] == [1, 2, 3, 4]
    village = region_create(actor=None, code="520302001002", name="某社区", parent=tree["town"])
    assert village.level == RegionLevel.VILLAGE
    assert village.path.endswith("/520302001000/520302001002/")
    assert AuditEntry.objects.filter(action="region.create").count() == 6


def test_nine_digit_township_code_is_stored_in_twelve_digits(tree):
    town = region_create(actor=None, code="520302002", name="万里路街道", parent=tree["county"])
    assert town.code == "520302002000"
    assert region_get("520302002").pk == town.pk


def test_township_directly_under_a_city_without_counties():
    guangdong = region_create(actor=None, code="440000", name="广东省", parent=None)
    dongguan = region_create(actor=None, code="441900", name="东莞市", parent=guangdong)
    town = region_create(actor=None, code="441900003000", name="东城街道", parent=dongguan)
    assert town.level == RegionLevel.TOWN


@pytest.mark.parametrize(
    "code, parent_key, field, fragment",
    [
        ("52030", "city", "code", "6位"),
        ("990302", "city", "code", "99"),
        ("520002", "province", "code", "层级结构无效"),
        ("520402", "city", "parent", "应为 520400"),
        ("530302", "city", "parent", "应为 530300"),
        ("520303", "province", "parent", "应为 520300"),
        ("520302002000", "city", "parent", "应为 520302，"),
        ("520303001000", "county", "parent", "应为 520303，"),
        ("520302001001", "county", "parent", "应为 520302001000"),
        ("520300", "city", "parent", "应为 520000"),
        ("530000", "province", "parent", "没有上级区划"),
        ("520303", None, "parent", "必须指定上级区划"),
        ("520302", "city", "code", "已被「红花岗区」使用"),
    ],
)
def test_invalid_regions_are_refused_and_change_nothing(tree, code, parent_key, field, fragment):
    regions, entries = Region.objects.count(), AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as info:
        region_create(actor=None, code=code, name="测试区划", parent=tree[parent_key] if parent_key else None)
    assert info.value.field == field
    assert fragment in info.value.message
    assert info.value.status_code == 400
    assert (Region.objects.count(), AuditEntry.objects.count()) == (regions, entries)


def test_region_name_is_required(tree):
    with pytest.raises(InvalidInput) as info:
        region_create(actor=None, code="520303", name="  ", parent=tree["city"])
    assert info.value.field == "name"
    assert not Region.objects.filter(code="520303").exists()


def test_region_update_renames_with_one_audit_entry(tree, admin_user):
    entries = AuditEntry.objects.count()
    renamed = region_update(actor=admin_user, region=tree["town"], name=" 老城街道办事处 ")
    assert renamed.name == "老城街道办事处"
    assert Region.objects.get(code="520302001000").name == "老城街道办事处"
    assert AuditEntry.objects.count() == entries + 1
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "region.update"
    assert changes(entry) == {"before": {"name": "老城街道"}, "after": {"name": "老城街道办事处"}}


def test_region_update_without_change_writes_nothing(tree):
    entries = AuditEntry.objects.count()
    region_update(actor=None, region=tree["town"], name="老城街道")
    assert AuditEntry.objects.count() == entries


def test_region_update_refuses_blank_name(tree):
    entries = AuditEntry.objects.count()
    with pytest.raises(InvalidInput):
        region_update(actor=None, region=tree["town"], name="")
    assert Region.objects.get(code="520302001000").name == "老城街道"
    assert AuditEntry.objects.count() == entries


# --- region selectors ------------------------------------------------------------------


def test_regions_within_is_the_subtree(tree):
    region_create(actor=None, code="530000", name="云南省", parent=None)
    within_city = list(regions_within(tree["city"]).values_list("code", flat=True))
    assert within_city == ["520300", "520302", "520302001000", "520328"]
    assert list(regions_within(tree["county"]).values_list("code", flat=True)) == ["520302", "520302001000"]


def test_region_ancestors_from_the_province_down(tree):
    assert [r.code for r in region_ancestors(tree["town"])] == ["520000", "520300", "520302"]
    assert list(region_ancestors(tree["province"])) == []


def test_region_get_errors(tree):
    assert region_get("520302000000").pk == tree["county"].pk
    with pytest.raises(InvalidInput):
        region_get("abc")
    with pytest.raises(Exception) as info:
        region_get("110000")
    assert info.value.status_code == 404
    assert "110000" in info.value.message


# --- department services -------------------------------------------------------------


def test_department_create_normalises_the_uscc_and_writes_one_audit_entry(tree, admin_user):
    code = uscc("DM000001")
    entries = AuditEntry.objects.count()
    dept = department_create(
        actor=admin_user, name=" 遵义市政务服务管理局 ", short_name="市政务服务局", uscc=code.lower(), region=tree["city"]
    )
    assert dept.uscc == code
    assert dept.name == "遵义市政务服务管理局"
    assert dept.is_active
    assert AuditEntry.objects.count() == entries + 1
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.object_type, entry.object_id) == ("department.create", "core.department", str(dept.pk))
    assert changes(entry)["after"]["uscc"] == code
    assert changes(entry)["after"]["region"] == "520300"


def test_department_with_failing_organisation_check_digit_is_accepted(tree):
    first17 = "11520300" + "123456780"
    value = first17 + uscc_check_char(first17)
    assert parse_uscc(value).warnings
    assert department_create(actor=None, name="某局", short_name="", uscc=value, region=tree["city"]).pk


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("11520300DM0000013", "18位"),
        ("11520300DMO000013E", "I、O、S、V、Z"),
        ("11520300DM0000013F", "校验位"),
        ("", "18位"),
    ],
)
def test_invalid_uscc_is_refused_and_changes_nothing(tree, value, fragment):
    entries = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as info:
        department_create(actor=None, name="某局", short_name="", uscc=value, region=tree["city"])
    assert info.value.field == "uscc"
    assert fragment in info.value.message
    assert not Department.objects.exists()
    assert AuditEntry.objects.count() == entries


def test_duplicate_uscc_is_refused(tree):
    department_create(actor=None, name="甲局", short_name="", uscc=uscc("DM000001"), region=tree["city"])
    with pytest.raises(InvalidInput) as info:
        department_create(actor=None, name="乙局", short_name="", uscc=uscc("DM000001"), region=tree["city"])
    assert "甲局" in info.value.message
    assert Department.objects.count() == 1


def test_department_parent_must_be_in_the_region_or_above(tree):
    county_dept = department_create(
        actor=None, name="红花岗区某局", short_name="", uscc=uscc("DM000002", "520302"), region=tree["county"]
    )
    with pytest.raises(InvalidInput) as info:
        department_create(
            actor=None, name="湄潭县某局", short_name="", uscc=uscc("DM000003", "520328"),
            region=tree["other_county"], parent=county_dept,
        )
    assert info.value.field == "parent"
    city_dept = department_create(actor=None, name="市某局", short_name="", uscc=uscc("DM000004"), region=tree["city"])
    child = department_create(
        actor=None, name="湄潭县某局", short_name="", uscc=uscc("DM000003", "520328"),
        region=tree["other_county"], parent=city_dept,
    )
    assert child.parent == city_dept


def test_department_name_is_required(tree):
    with pytest.raises(InvalidInput) as info:
        department_create(actor=None, name="", short_name="", uscc=uscc("DM000001"), region=tree["city"])
    assert info.value.field == "name"


def test_department_update_audits_only_what_changed(tree, admin_user):
    dept = department_create(actor=None, name="市某局", short_name="", uscc=uscc("DM000001"), region=tree["city"])
    entries = AuditEntry.objects.count()
    updated = department_update(actor=admin_user, department=dept, short_name="某局", is_active=False)
    assert (updated.short_name, updated.is_active, updated.name) == ("某局", False, "市某局")
    assert AuditEntry.objects.count() == entries + 1
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "department.update"
    assert changes(entry) == {
        "before": {"short_name": "", "is_active": True},
        "after": {"short_name": "某局", "is_active": False},
    }
    department_update(actor=admin_user, department=dept, short_name="某局", parent=UNSET)
    assert AuditEntry.objects.count() == entries + 1


def test_department_update_refuses_cycles_and_bad_input(tree):
    top = department_create(actor=None, name="市某局", short_name="", uscc=uscc("DM000001"), region=tree["city"])
    child = department_create(
        actor=None, name="区某局", short_name="", uscc=uscc("DM000002", "520302"), region=tree["county"], parent=top
    )
    entries = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as info:
        department_update(actor=None, department=top, parent=child)
    assert info.value.field == "parent"
    with pytest.raises(InvalidInput):
        department_update(actor=None, department=top, parent=top)
    with pytest.raises(InvalidInput) as info:
        department_update(actor=None, department=top, region=tree["other_county"])
    assert info.value.field == "region"
    with pytest.raises(InvalidInput) as info:
        department_update(actor=None, department=child, uscc=top.uscc)
    assert info.value.field == "uscc"
    top.refresh_from_db()
    assert (top.parent_id, top.region_id) == (None, tree["city"].pk)
    assert AuditEntry.objects.count() == entries


def test_departments_visible_to(tree, admin_user, django_user_model):
    city = department_create(actor=None, name="市某局", short_name="", uscc=uscc("DM000001"), region=tree["city"])
    county = department_create(
        actor=None, name="区某局", short_name="", uscc=uscc("DM000002", "520302"), region=tree["county"]
    )
    closed = department_create(
        actor=None, name="区旧局", short_name="", uscc=uscc("DM000003", "520302"), region=tree["county"]
    )
    department_update(actor=None, department=closed, is_active=False)
    citizen = django_user_model.objects.create_user(username="citizen", password="x-Password-1")
    assert set(departments_visible_to(None)) == {city, county}
    assert set(departments_visible_to(citizen, region=tree["county"])) == {county}
    assert set(departments_visible_to(admin_user, region=tree["county"])) == {county, closed}
    assert set(departments_visible_to(admin_user, region=tree["other_county"])) == set()


# --- demo data --------------------------------------------------------------------------


def test_demo_load_is_idempotent_and_audited():
    counts = demo_regions.load()
    assert counts["regions_created"] == 26
    assert counts["departments_created"] == 16
    zunyi = Region.objects.get(code="520300")
    assert zunyi.children.filter(level=RegionLevel.COUNTY).count() == 14
    assert Region.objects.get(code="520325").name == "道真仡佬族苗族自治县"
    assert Region.objects.get(code="520328004000").path == "520000/520300/520328/520328004000/"
    for dept in Department.objects.all():
        parsed = parse_uscc(dept.uscc)
        assert parsed.warnings == ()
        assert (parsed.registration_authority, parsed.institution_category) == ("1", "1")
        assert parsed.region_code == dept.region.code[:6]
    assert Department.objects.get(name="遵义市政务服务中心").parent.name == "遵义市政务服务管理局"
    entries = AuditEntry.objects.count()
    assert entries == 42

    again = demo_regions.load()
    assert again["regions_unchanged"] == 26 and again["departments_unchanged"] == 16
    assert again["regions_created"] == again["departments_created"] == 0
    assert AuditEntry.objects.count() == entries

    region_update(actor=None, region=zunyi, name="遵义")
    department_update(actor=None, department=Department.objects.get(name="遵义市民政局"), short_name="民政")
    fixed = demo_regions.load()
    assert (fixed["regions_updated"], fixed["departments_updated"]) == (1, 1)
    assert Region.objects.get(code="520300").name == "遵义市"
    assert AuditEntry.objects.count() == entries + 4


# --- API ----------------------------------------------------------------------------------


@pytest.fixture
def demo():
    demo_regions.load()


def test_api_lists_children_of_a_region(client, demo):
    body = client.get("/api/core/regions", {"parent": "520300"}).json()
    assert body["count"] == 14
    assert body["items"][0] == {
        "code": "520302", "name": "红花岗区", "level": 3, "level_label": "县级",
        "parent_code": "520300", "path": "520000/520300/520302/",
    }
    assert [i["code"] for i in body["items"]][-2:] == ["520381", "520382"]


def test_api_region_list_filters_and_pages(client, demo):
    towns = client.get("/api/core/regions", {"level": 4, "page_size": 3, "page": 2}).json()
    assert towns["count"] == 10
    assert [i["code"] for i in towns["items"]] == ["520302007000", "520302101000", "520302105000"]
    assert client.get("/api/core/regions", {"page": 99}).json()["items"] == []


@pytest.mark.parametrize(
    "params, status",
    [
        ({"parent": "abc"}, 400),
        ({"parent": ""}, 400),
        ({"parent": "110000"}, 404),
        ({"level": 9}, 422),
        ({"level": "x"}, 422),
        ({"page": 0}, 422),
        ({"page_size": 100000}, 422),
    ],
)
def test_api_region_list_rejects_bad_parameters(client, demo, params, status):
    response = client.get("/api/core/regions", params)
    assert response.status_code == status
    assert "detail" in response.json()


def test_api_region_detail(client, demo):
    body = client.get("/api/core/regions/520328004000").json()
    assert body["name"] == "湄江街道"
    assert [a["code"] for a in body["ancestors"]] == ["520000", "520300", "520328"]
    assert body["children_count"] == 0
    assert client.get("/api/core/regions/520302000000").json()["code"] == "520302"
    assert client.get("/api/core/regions/520300").json()["children_count"] == 14


@pytest.mark.parametrize("code", ["abc", "52030", "520302001000x", "%00", "a/b", "a%0Ab", "%20520302", "５２０３０２"])
def test_api_region_detail_malformed_code_is_400(client, demo, code):
    response = client.get(f"/api/core/regions/{code}")
    assert response.status_code == 400
    assert "行政区划代码" in response.json()["detail"]


def test_api_region_detail_unknown_code_is_404(client, demo):
    response = client.get("/api/core/regions/110000")
    assert response.status_code == 404
    assert response.json() == {"detail": "行政区划 110000 不存在。"}
    # Well-shaped codes that can name no region at all are unknown too, with the reason.
    assert "99" in client.get("/api/core/regions/990000").json()["detail"]
    assert "层级结构无效" in client.get("/api/core/regions/520002").json()["detail"]


def test_api_region_detail_in_english(client, demo):
    response = client.get("/api/core/regions/110000", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "110000" in response.json()["detail"]


def test_api_departments(client, demo):
    body = client.get("/api/core/departments", {"region": "520302"}).json()
    assert body["count"] == 2
    assert {d["name"] for d in body["items"]} == {"遵义市红花岗区政务服务中心", "遵义市红花岗区市场监督管理局"}
    assert all(d["region_code"] == "520302" for d in body["items"])
    assert client.get("/api/core/departments", {"region": "520300"}).json()["count"] == 14
    assert client.get("/api/core/departments", {"region": "520300", "descendants": "true"}).json()["count"] == 16
    assert client.get("/api/core/departments").json()["count"] == 16
    assert client.get("/api/core/departments", {"region": "5203"}).status_code == 400
    assert client.get("/api/core/departments", {"region": "530000"}).status_code == 404


def test_api_departments_hide_inactive_from_the_public(client, admin_client, demo):
    dept = Department.objects.get(name="遵义市民政局")
    department_update(actor=None, department=dept, is_active=False)
    assert client.get("/api/core/departments").json()["count"] == 15
    assert admin_client.get("/api/core/departments").json()["count"] == 16


def check(client, kind, value, **extra):
    response = client.get("/api/core/identifiers/check", {"kind": kind, "value": value}, **extra)
    assert response.status_code == 200
    return response.json()


def test_api_identifier_check_valid_values(client):
    body = check(client, "id_number", "11010519491231002x")
    assert body == {
        "kind": "id_number", "valid": True, "normalised": "11010519491231002X", "errors": [], "warnings": [],
        "facts": {"region_code": "110105", "birth_date": "1949-12-31", "sequence": "002", "sex": "F"},
    }
    body = check(client, "uscc", "91350100m000100y43")
    assert body["valid"] and body["normalised"] == "91350100M000100Y43"
    assert body["facts"] == {
        "registration_authority": "9", "institution_category": "1",
        "region_code": "350100", "organisation_code": "M000100Y4",
    }


def test_api_identifier_check_errors_and_warnings(client):
    body = check(client, "id_number", "110105194912310021")
    assert (body["valid"], body["normalised"], body["facts"]) == (False, None, {})
    assert "校验位" in body["errors"][0]
    legacy = check(client, "id_number", "110105491231002")
    assert legacy["valid"] is False
    assert legacy["facts"] == {"upgraded_number": "11010519491231002X"}
    first17 = "11520300" + "123456780"
    warned = check(client, "uscc", first17 + uscc_check_char(first17))
    assert warned["valid"] is True
    assert "GB 11714" in warned["warnings"][0]


@pytest.mark.parametrize("value", ["", "x" * 5000, "😀" * 18, "SELECT 1;--", "１１０１０５"])
def test_api_identifier_check_never_fails_on_odd_values(client, value):
    for kind in ("id_number", "uscc"):
        body = check(client, kind, value)
        assert body["valid"] is False and body["errors"]


def test_api_identifier_check_refuses_text_no_database_can_store(client):
    response = client.get("/api/core/identifiers/check", {"kind": "uscc", "value": "9\x00"})
    assert response.status_code == 400 and response.json()["field"] == "value"


def test_api_identifier_check_requires_a_known_kind(client):
    assert client.get("/api/core/identifiers/check", {"kind": "passport", "value": "1"}).status_code == 422
    assert client.get("/api/core/identifiers/check", {"kind": "uscc"}).status_code == 422


# --- admin ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "admin:core_region_changelist",
        "admin:core_region_add",
        "admin:core_department_changelist",
        "admin:core_department_add",
    ],
)
def test_admin_pages_render_for_a_superuser_and_refuse_anonymous(admin_client, client, demo, name):
    assert admin_client.get(reverse(name)).status_code == 200
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_admin_change_pages_and_filters_render(admin_client, demo):
    region = Region.objects.get(code="520302")
    dept = Department.objects.get(name="遵义市公安局")
    assert admin_client.get(reverse("admin:core_region_change", args=[region.pk])).status_code == 200
    assert admin_client.get(reverse("admin:core_department_change", args=[dept.pk])).status_code == 200
    listing = admin_client.get(reverse("admin:core_region_changelist"), {"within": "520300", "level__exact": "3"})
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 14
    depts = admin_client.get(reverse("admin:core_department_changelist"), {"within": "520300", "q": "红花岗"})
    assert depts.context["cl"].result_count == 2


def test_admin_add_region_goes_through_the_service(admin_client, admin_user, demo):
    city = Region.objects.get(code="520300")
    response = admin_client.post(reverse("admin:core_region_add"), {"code": "520399", "name": "新区", "parent": city.pk})
    assert response.status_code == 302
    region = Region.objects.get(code="520399")
    assert (region.level, region.path) == (RegionLevel.COUNTY, "520000/520300/520399/")
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.actor, entry.object_id) == ("region.create", admin_user, str(region.pk))


def test_admin_add_region_shows_the_error_and_changes_nothing(admin_client, demo):
    city = Region.objects.get(code="520300")
    entries = AuditEntry.objects.count()
    response = admin_client.post(reverse("admin:core_region_add"), {"code": "520402", "name": "错区", "parent": city.pk})
    assert response.status_code == 200
    assert "应为 520400" in response.content.decode()
    assert not Region.objects.filter(code="520402").exists()
    assert AuditEntry.objects.count() == entries


def test_admin_rename_region_is_audited(admin_client, admin_user, demo):
    region = Region.objects.get(code="520302")
    url = reverse("admin:core_region_change", args=[region.pk])
    assert admin_client.post(url, {"name": "红花岗区（测试）"}).status_code == 302
    region.refresh_from_db()
    assert (region.name, region.code) == ("红花岗区（测试）", "520302")
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.actor) == ("region.update", admin_user)


def test_admin_department_uscc_messages(admin_client, admin_user, demo):
    region = Region.objects.get(code="520302")
    url = reverse("admin:core_department_add")
    entries = AuditEntry.objects.count()
    bad = admin_client.post(url, {"name": "区某局", "short_name": "", "uscc": "11520302DM0000013F", "region": region.pk})
    assert bad.status_code == 200
    assert "校验位不正确" in bad.content.decode()
    assert AuditEntry.objects.count() == entries

    first17 = "11520302" + "123456780"
    warned = first17 + uscc_check_char(first17)
    data = {"name": "区某局", "short_name": "", "uscc": warned.lower(), "region": region.pk}
    ok = admin_client.post(url, data, follow=True)
    assert ok.status_code == 200
    assert "GB 11714" in ok.content.decode()
    dept = Department.objects.get(uscc=warned)
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.actor, entry.object_id) == ("department.create", admin_user, str(dept.pk))


def test_admin_department_edit_is_audited(admin_client, demo):
    dept = Department.objects.get(name="遵义市民政局")
    url = reverse("admin:core_department_change", args=[dept.pk])
    data = {
        "name": dept.name, "short_name": "民政局", "uscc": dept.uscc, "region": dept.region_id, "parent": "",
        "is_active": "",
    }
    assert admin_client.post(url, data).status_code == 302
    dept.refresh_from_db()
    assert (dept.short_name, dept.is_active) == ("民政局", False)
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "department.update"
    assert changes(entry)["after"] == {"short_name": "民政局", "is_active": False}


def test_admin_offers_no_delete(admin_client, demo):
    region = Region.objects.get(code="520302")
    response = admin_client.get(reverse("admin:core_region_delete", args=[region.pk]))
    assert response.status_code == 403
