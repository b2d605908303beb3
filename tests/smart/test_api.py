"""/api/smart/: the item's editors work on its rule sets with a token; refusals are clear 4xx
with a Chinese reason and change nothing; others see 404."""

import copy

import pytest
from django.test import Client

from onewindow.accounts.services import api_token_create
from onewindow.smart.models import RuleSet
from tests.smart.conftest import EXAMPLES, RULES

pytestmark = pytest.mark.django_db


def bearer(user) -> dict[str, str]:
    _token, secret = api_token_create(actor=user, name="test")
    return {"Authorization": f"Bearer {secret}"}


def call(method, path, user=None, **body):
    client = Client()
    headers = bearer(user) if user else {}
    kwargs = (
        {"data": body, "content_type": "application/json"}
        if body or method in ("post", "put")
        else {}
    )
    return getattr(client, method)(f"/api/smart{path}", headers=headers, **kwargs)


def test_an_editor_drafts_tries_and_publishes_a_rule_set(smart_item, smart_editor):
    code = smart_item.impl_code
    started = call(
        "post", f"/items/{code}/rule-sets", smart_editor, change_note="首版规则"
    )
    assert started.status_code == 201, started.content
    draft = started.json()
    assert (draft["number"], draft["status"], draft["rules"]) == (1, "draft", [])

    saved = call(
        "put", f"/rule-sets/{draft['id']}", smart_editor, rules=RULES, examples=EXAMPLES
    )
    assert saved.status_code == 200 and saved.json()["rules"] == RULES
    tried = call("get", f"/rule-sets/{draft['id']}/examples", smart_editor).json()
    assert [(r["name"], r["outcome"], r["passed"]) for r in tried] == [
        ("符合条件的老人", "approved", True),
        ("收入超过标准", "manual", True),
        ("未填收入", "manual", True),
    ]
    assert tried[2]["explanation"][2].startswith(
        "【无法判断】家庭人均月收入不高于2000元"
    )

    published = call("post", f"/rule-sets/{draft['id']}/publish", smart_editor)
    assert published.status_code == 200 and published.json()["status"] == "published"
    listed = call("get", f"/items/{code}/rule-sets", smart_editor).json()
    assert [(r["number"], r["status_label"]) for r in listed] == [(1, "已发布")]


def test_refusals_are_clear_and_change_nothing(smart_item, smart_editor):
    draft = call(
        "post", f"/items/{smart_item.impl_code}/rule-sets", smart_editor
    ).json()
    unknown = [
        {
            "name": "工资",
            "condition": {">": [{"var": "form.salary"}, 1]},
            "explanation": "工资",
        }
    ]
    response = call(
        "put", f"/rule-sets/{draft['id']}", smart_editor, rules=unknown, examples=[]
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "规则“工资”：引用了不存在的字段“form.salary”。",
        "field": "rules",
    }

    failing = copy.deepcopy(EXAMPLES)
    failing[0]["expected"] = "manual"
    failing.append(
        {"name": "另一位老人", **{k: v for k, v in EXAMPLES[0].items() if k != "name"}}
    )
    call(
        "put", f"/rule-sets/{draft['id']}", smart_editor, rules=RULES, examples=failing
    )
    response = call("post", f"/rule-sets/{draft['id']}/publish", smart_editor)
    assert (
        response.status_code == 400
        and "“符合条件的老人”预期转人工审查，实际自动准予" in response.json()["detail"]
    )
    assert RuleSet.objects.get(pk=draft["id"]).status == "draft"

    again = call("post", f"/items/{smart_item.impl_code}/rule-sets", smart_editor)
    assert again.status_code == 409 and "已有一个规则集草稿" in again.json()["detail"]
    assert (
        call(
            "put", f"/rule-sets/{draft['id']}", smart_editor, rules="x", examples=[]
        ).status_code
        == 422
    )


def test_outsiders_get_404_and_strangers_401(world, smart_item, smart_editor):
    draft = call(
        "post", f"/items/{smart_item.impl_code}/rule-sets", smart_editor
    ).json()
    for user in (world.editor, world.citizen):
        assert (
            call("get", f"/items/{smart_item.impl_code}/rule-sets", user).status_code
            == 404
        )
        assert call("get", f"/rule-sets/{draft['id']}", user).status_code == 404
        assert (
            call("post", f"/rule-sets/{draft['id']}/publish", user).status_code == 404
        )
    assert call("get", f"/rule-sets/{draft['id']}").status_code == 401
    assert (
        "/api/smart/rule-sets/{rule_set_id}/publish"
        in Client().get("/api/openapi.json").json()["paths"]
    )
