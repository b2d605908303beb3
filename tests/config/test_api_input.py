"""Input no handler should ever see is refused by the API itself, in the user's language."""

import json

import pytest

from onewindow.accounts.models import ApiToken

UNSTORABLE = "提交的内容中含有无法保存的字符。"


@pytest.fixture
def api(client_as, citizen):
    return client_as(citizen)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "a\\u0000b"}', "name"),
        ('{"name": "\\ud800"}', "name"),
        ('{"name": ["ok", {"deep": "\\u0000"}]}', "name"),
        ('{"na\\u0000me": "key"}', None),
    ],
)
def test_a_body_with_text_no_database_can_store_is_refused(api, body, field):
    response = api.post("/api/accounts/tokens", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == UNSTORABLE
    assert response.json().get("field") == field
    assert not ApiToken.objects.exists()


def test_a_query_string_with_a_nul_is_refused(api):
    response = api.get("/api/catalogue/items", {"q": "食品\x00"})
    assert response.status_code == 400
    assert response.json()["detail"] == UNSTORABLE


def test_a_body_that_is_not_json_is_refused_in_the_users_language(api):
    response = api.post("/api/accounts/tokens", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "请求内容不是有效的 JSON。"
    assert not ApiToken.objects.exists()


def test_well_formed_text_passes_through(api):
    response = api.post(
        "/api/accounts/tokens", json.dumps({"name": "我的令牌 🚀"}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert ApiToken.objects.get().name == "我的令牌 🚀"
