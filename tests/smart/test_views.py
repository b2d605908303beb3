"""The workbench pages: the item's editors see, edit, try and publish its rules; refusals are
shown on the page with their 4xx status and the text as typed; others are kept out."""

import json

import pytest
from django.urls import reverse

from onewindow.smart import services
from onewindow.smart.choices import RuleSetStatus
from onewindow.smart.models import RuleSet
from tests.smart.conftest import EXAMPLES, RULES

pytestmark = pytest.mark.django_db


def test_an_editor_edits_tries_and_publishes_rules_on_the_workbench(
    smart_item, smart_editor, client_as
):
    client = client_as(smart_editor)
    listing = client.get(reverse("smart:items"))
    assert listing.status_code == 200 and "高龄津贴申领" in listing.content.decode()

    assert client.post(reverse("smart:start", args=[smart_item.pk])).status_code == 302
    draft = RuleSet.objects.get(item=smart_item)
    response = client.post(
        reverse("smart:save", args=[draft.pk]),
        {
            "rules": json.dumps(RULES, ensure_ascii=False),
            "examples": json.dumps(EXAMPLES, ensure_ascii=False),
            "change_note": "首版",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("smart:item", args=[smart_item.pk])).content.decode()
    assert (
        "符合条件的老人" in page
        and "✓ 自动准予" in page
        and "【无法判断】家庭人均月收入不高于2000元" in page
    )

    assert client.post(reverse("smart:publish", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == RuleSetStatus.PUBLISHED
    page = client.get(reverse("smart:item", args=[smart_item.pk])).content.decode()
    assert "现行规则" in page and "第 1 版，" in page and "年满80周岁" in page


def test_bad_rules_are_refused_on_the_page_with_the_text_kept(
    smart_item, smart_editor, client_as
):
    client = client_as(smart_editor)
    draft = services.rule_set_start(actor=smart_editor, item=smart_item)
    typed = '[{"name": "x", "condition": {">": [{"var": "form.salary"}, 1]}, "explanation": "y"}]'
    response = client.post(
        reverse("smart:save", args=[draft.pk]), {"rules": typed, "examples": "[]"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "引用了不存在的字段“form.salary”" in body and "form.salary" in body
    response = client.post(
        reverse("smart:save", args=[draft.pk]), {"rules": "[{", "examples": "[]"}
    )
    assert (
        response.status_code == 400
        and "规则不是有效的 JSON：第 1 行" in response.content.decode()
    )
    response = client.post(reverse("smart:publish", args=[draft.pk]))
    assert (
        response.status_code == 400 and "至少要有一条规则" in response.content.decode()
    )
    draft.refresh_from_db()
    assert draft.rules == [] and draft.status == RuleSetStatus.DRAFT


def test_others_are_kept_out(world, smart_item, smart_editor, client_as):
    draft = services.rule_set_start(actor=smart_editor, item=smart_item)
    outsider = client_as(world.editor)
    assert outsider.get(reverse("smart:item", args=[smart_item.pk])).status_code == 404
    assert outsider.post(reverse("smart:publish", args=[draft.pk])).status_code == 404
    assert "高龄津贴申领" not in outsider.get(reverse("smart:items")).content.decode()
    assert client_as(world.clerk).get(reverse("smart:items")).status_code == 403
