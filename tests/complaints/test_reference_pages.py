"""The workbench pages that keep the categories (platform administrators) and the routing rules
(12345 centres): list, create, edit, reorder, stop; bad input shown on the form with nothing
written; everyone else refused."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from onewindow.complaints import services
from onewindow.complaints.models import RoutingRule, Topic
from onewindow.core.errors import DomainError
from onewindow.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def topic_data(**changes):
    return {
        "code": "lights",
        "name": "路灯不亮",
        "group": "城市管理",
        "description": "",
        "keywords": "路灯",
        "department": "",
        "promised_days": "3",
        "attributes": "",
        "is_active": "on",
        **changes,
    }


def rule_data(**changes):
    return {
        "priority": "100",
        "topic": "",
        "item": "",
        "region": "",
        "keyword": "",
        "department": "",
        "promised_days": "",
        "is_active": "on",
        **changes,
    }


def hotline_call(hotline, world, title):
    return services.complaint_submit(
        actor=hotline.operator,
        source="hotline",
        kind="complaint",
        title=title,
        content=title,
        contact_phone="13900000000",
        region=world.county,
    )


# --- categories ----------------------------------------------------------------------------------


def test_the_administrator_creates_edits_and_closes_categories(client_as, hotline, world):
    admin = client_as(world.admin)
    listed = admin.get(reverse("complaints:topics"))
    assert listed.status_code == 200
    assert "噪音扰民" in text(listed) and "道路破损" in text(listed)
    assert f'href="{reverse("complaints:topics")}"' in text(listed)  # in the workbench menu
    assert admin.get(reverse("complaints:topic_new")).status_code == 200

    attributes = [{"code": "pole", "datatype": "string", "required": False, "description": "灯杆编号"}]
    created = admin.post(
        reverse("complaints:topic_new"),
        topic_data(department=world.market.pk, attributes=json.dumps(attributes)),
    )
    assert created.status_code == 302 and created["Location"] == reverse("complaints:topics")
    lights = Topic.objects.get(code="lights")
    assert lights.department == world.market and lights.promised_days == 3
    assert lights.attributes == attributes and lights.is_active

    edit_url = reverse("complaints:topic_edit", args=[lights.pk])
    form = admin.get(edit_url)
    assert form.status_code == 200 and "路灯不亮" in text(form) and "灯杆编号" in text(form)
    edited = admin.post(edit_url, topic_data(code="renamed", name="路灯故障", promised_days="5"))
    assert edited.status_code == 302
    lights.refresh_from_db()
    assert (lights.code, lights.name, lights.promised_days) == ("lights", "路灯故障", 5)
    assert lights.department is None and lights.attributes == []

    closed = admin.post(reverse("complaints:topic_active", args=[lights.pk]), {"is_active": "0"})
    assert closed.status_code == 302
    lights.refresh_from_db()
    assert not lights.is_active and lights.name == "路灯故障"
    assert "lights" not in {t["code"] for t in Client().get(reverse("api:topics")).json()}
    reopened = admin.post(reverse("complaints:topic_active", args=[lights.pk]), {"is_active": "1"})
    assert reopened.status_code == 302 and Topic.objects.get(code="lights").is_active
    assert AuditEntry.objects.filter(action="complaints.topic.save", object_id=str(lights.pk)).count() == 4


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"code": "noise"}, "已有该代码的诉求类别"),
        ({"code": "路灯"}, "类别代码应为1至40位字母、数字、连字符或下划线"),
        ({"name": ""}, "这个字段是必填项"),
        ({"promised_days": "0"}, "确保该值大于或等于1"),
        ({"attributes": "[{"}, "输入一个有效的JSON"),
        ({"attributes": json.dumps([{"code": "x", "datatype": "colour"}])}, "附加信息项定义不对"),
        ({"department": "999999"}, "选择一个有效的选项"),
    ],
)
def test_bad_category_input_is_shown_and_nothing_is_written(client_as, hotline, world, changes, message):
    noise_before = Topic.objects.values().get(code="noise")
    refused = client_as(world.admin).post(reverse("complaints:topic_new"), topic_data(**changes))
    assert refused.status_code == 400 and message in text(refused)
    assert Topic.objects.count() == 2 and Topic.objects.values().get(code="noise") == noise_before


def test_categories_are_kept_by_nobody_else(client, client_as, hotline, world):
    noise = hotline.noise
    for user in (hotline.operator, hotline.market_staff):
        staff = client_as(user)
        assert staff.get(reverse("complaints:topics")).status_code == 403
        assert staff.get(reverse("complaints:topic_edit", args=[noise.pk])).status_code == 403
        assert staff.post(reverse("complaints:topic_new"), topic_data()).status_code == 403
        assert staff.post(reverse("complaints:topic_active", args=[noise.pk]), {"is_active": "0"}).status_code == 403
        assert f'href="{reverse("complaints:topics")}"' not in text(staff.get(reverse("complaints:work")))
    assert client_as(hotline.citizen).get(reverse("complaints:topics")).status_code == 403
    assert client.get(reverse("complaints:topics")).status_code == 302  # to sign in
    assert Topic.objects.count() == 2 and Topic.objects.get(pk=noise.pk).is_active


# --- routing rules ----------------------------------------------------------------------------------


def test_the_centre_creates_edits_reorders_and_stops_rules(client_as, hotline, world):
    operator = client_as(hotline.operator)
    assert f'href="{reverse("complaints:rules")}"' in text(operator.get(reverse("complaints:work")))
    for priority, fields in (
        ("10", {"keyword": "广告", "department": world.market.pk}),
        ("20", {"keyword": "噪音", "region": world.county.pk, "department": world.other.pk}),
        ("30", {"topic": hotline.roads.pk, "department": world.district.pk, "promised_days": "3"}),
    ):
        saved = operator.post(reverse("complaints:rule_new"), rule_data(priority=priority, **fields))
        assert saved.status_code == 302 and saved["Location"] == reverse("complaints:rules")
    advert, noise, roads = RoutingRule.objects.order_by("priority")
    listed = text(operator.get(reverse("complaints:rules")))
    assert listed.index("“广告”") < listed.index("“噪音”") < listed.index(hotline.roads.name)

    moved = operator.post(reverse("complaints:rule_move", args=[roads.pk]), {"direction": "up"})
    assert moved.status_code == 302
    assert list(RoutingRule.objects.order_by("priority", "pk")) == [advert, roads, noise]
    assert AuditEntry.objects.filter(action="complaints.rule.reorder").count() == 1
    assert operator.post(reverse("complaints:rule_move", args=[advert.pk]), {"direction": "up"}).status_code == 302
    assert list(RoutingRule.objects.order_by("priority", "pk")) == [advert, roads, noise]

    edit_url = reverse("complaints:rule_edit", args=[noise.pk])
    assert "噪音" in text(operator.get(edit_url))
    edited = operator.post(
        edit_url, rule_data(priority="5", keyword="施工", region=world.county.pk, department=world.market.pk)
    )
    assert edited.status_code == 302
    noise.refresh_from_db()
    assert (noise.priority, noise.keyword, noise.department) == (5, "施工", world.market)

    assert hotline_call(hotline, world, "广告牌松动").department == world.market
    stopped = operator.post(reverse("complaints:rule_active", args=[advert.pk]), {"is_active": "0"})
    assert stopped.status_code == 302
    advert.refresh_from_db()
    assert not advert.is_active and advert.keyword == "广告"
    assert hotline_call(hotline, world, "广告牌松动").department is None


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"keyword": "", "department": "{market}"}, "规则至少要有一个条件"),
        ({"keyword": "广告", "department": ""}, "这个字段是必填项"),
        ({"keyword": "广告", "department": "{market}", "priority": "-1"}, "确保该值大于或等于0"),
        ({"keyword": "广告", "department": "{market}", "promised_days": "61"}, "确保该值小于或等于60"),
        ({"keyword": "广告", "department": "{market}", "item": "NO-SUCH-ITEM"}, "没有找到该事项"),
    ],
)
def test_bad_rule_input_is_shown_and_nothing_is_written(client_as, hotline, world, changes, message):
    rule = services.routing_rule_save(actor=hotline.operator, department=world.other, keyword="噪音")
    data = rule_data(**{k: str(v).format(market=world.market.pk) for k, v in changes.items()})
    operator = client_as(hotline.operator)
    for url in (reverse("complaints:rule_new"), reverse("complaints:rule_edit", args=[rule.pk])):
        refused = operator.post(url, data)
        assert refused.status_code == 400 and message in text(refused)
    assert list(RoutingRule.objects.values_list("keyword", "department", "priority")) == [
        ("噪音", world.other.pk, 100)
    ]


def test_a_stale_order_is_refused(hotline, world):
    first = services.routing_rule_save(actor=hotline.operator, department=world.other, keyword="噪音")
    second = services.routing_rule_save(actor=hotline.operator, department=world.market, keyword="广告")
    for order in ([second.pk], [second.pk, first.pk, first.pk], [second.pk, "x"]):
        with pytest.raises(DomainError, match="已被他人修改"):
            services.routing_rules_reorder(actor=hotline.operator, order=order)
    assert list(RoutingRule.objects.values_list("priority", flat=True)) == [100, 100]


def test_rules_are_kept_by_nobody_else(client_as, hotline, world):
    rule = services.routing_rule_save(actor=hotline.operator, department=world.other, keyword="噪音")
    staff = client_as(hotline.market_staff)
    assert staff.get(reverse("complaints:rules")).status_code == 403
    assert staff.get(reverse("complaints:rule_edit", args=[rule.pk])).status_code == 403
    assert staff.post(reverse("complaints:rule_new"), rule_data(keyword="x", department=world.market.pk)).status_code == 403
    assert staff.post(reverse("complaints:rule_move", args=[rule.pk]), {"direction": "down"}).status_code == 403
    assert staff.post(reverse("complaints:rule_active", args=[rule.pk]), {"is_active": "0"}).status_code == 403
    assert staff.post(reverse("complaints:rule_delete", args=[rule.pk])).status_code == 403
    assert f'href="{reverse("complaints:rules")}"' not in text(staff.get(reverse("complaints:work")))
    assert client_as(hotline.citizen).get(reverse("complaints:rules")).status_code == 403
    assert list(RoutingRule.objects.values_list("keyword", "is_active")) == [("噪音", True)]
    # Platform administrators keep the rules too.
    assert client_as(world.admin).get(reverse("complaints:rules")).status_code == 200
    bad_move = client_as(hotline.operator).post(reverse("complaints:rule_move", args=[rule.pk]), {"direction": "x"})
    assert bad_move.status_code == 400
