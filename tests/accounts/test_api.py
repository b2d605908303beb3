import hashlib
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from onewindow.accounts import services
from onewindow.accounts.choices import Role
from onewindow.accounts.auth import ApiTokenAuth
from onewindow.accounts.models import ApiToken, RoleAssignment
from onewindow.accounts.permissions import Grant, grants, has_role
from onewindow.core import request_context
from onewindow.core.errors import InvalidInput
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/accounts/me"
TOKENS = "/api/accounts/tokens"


@pytest.fixture
def citizen(make_citizen):
    return make_citizen("wangxm", phone="13912345678")


@pytest.fixture
def issued(citizen):
    return services.api_token_create(actor=citizen, name="脚本", expires_in_days=30)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_a_token_authenticates_and_only_its_hash_is_stored(client, citizen, issued):
    token, secret = issued
    assert secret.startswith("ow_") and len(secret) > 40
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not ApiToken.objects.filter(key_hash__contains=secret[3:]).exists()
    assert secret not in str(list(ApiToken.objects.values_list()))
    response = client.get(ME, headers=bearer(secret))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == citizen.username
    assert body["id_number"] != citizen.id_number and body["id_number"].endswith(citizen.id_number[-4:])
    assert body["phone"] == "139****5678"


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer ow_notatokenatall", "Bearer x", "Basic abc",
                                    "Bearer ow_" + "A" * 43])
def test_no_or_a_bad_token_gets_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "请先登录，或提供有效的访问令牌。"
    english = client.get(ME, headers={**headers, "Accept-Language": "en"})
    assert english.status_code == 401 and "sign in" in english.json()["detail"].lower()


def test_a_revoked_token_gets_401(client, citizen, issued):
    token, secret = issued
    services.api_token_revoke(actor=citizen, token=token)
    assert client.get(ME, headers=bearer(secret)).status_code == 401


def test_an_expired_token_gets_401(client, issued):
    token, secret = issued
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(ME, headers=bearer(secret)).status_code == 401


def test_a_deactivated_users_token_gets_401(client, citizen, issued):
    _token, secret = issued
    services.account_deactivate(actor=citizen, user=citizen)
    assert client.get(ME, headers=bearer(secret)).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(client, issued):
    token, secret = issued
    client.get(ME, headers=bearer(secret))
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    client.get(ME, headers=bearer(secret))
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get(ME, headers=bearer(secret))
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - timedelta(minutes=2)


def test_list_and_revoke_own_tokens(client, citizen, issued):
    token, secret = issued
    listed = client.get(TOKENS, headers=bearer(secret)).json()
    assert [item["prefix"] for item in listed] == [token.prefix]
    assert "token" not in listed[0] and "key_hash" not in listed[0]
    other, _ = services.api_token_create(actor=citizen, name="另一个")
    response = client.delete(f"{TOKENS}/{other.pk}", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json()["revoked_at"]
    assert client.delete(f"{TOKENS}/{other.pk}", headers=bearer(secret)).status_code == 409


def test_someone_elses_token_is_404(client, make_citizen, issued):
    token, _secret = issued
    _own, other_secret = services.api_token_create(actor=make_citizen("other"), name="x")
    assert client.delete(f"{TOKENS}/{token.pk}", headers=bearer(other_secret)).status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


@pytest.mark.parametrize("token_id", ["0", "-1", "abc", str(2**70)])
def test_a_malformed_token_id_is_422(client, issued, token_id):
    _token, secret = issued
    assert client.delete(f"{TOKENS}/{token_id}", headers=bearer(secret)).status_code in (404, 422)


def test_the_browser_session_creates_a_token_with_csrf(citizen):
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    csrf = client.cookies["csrftoken"].value
    client.post("/accounts/login/", {"username": citizen.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf})
    csrf = client.cookies["csrftoken"].value
    payload = {"name": "浏览器创建", "expires_in_days": 7}
    refused = client.post(TOKENS, payload, content_type="application/json")
    assert refused.status_code == 403
    created = client.post(TOKENS, payload, content_type="application/json", headers={"X-CSRFToken": csrf})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("ow_")
    assert ApiToken.objects.get(pk=body["id"]).key_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert client.get(ME, headers={"Authorization": f"Bearer {body['token']}"}).status_code == 200


def test_anonymous_post_is_401_not_a_csrf_403():
    client = Client(enforce_csrf_checks=True)
    assert client.post(TOKENS, {"name": "x"}, content_type="application/json").status_code == 401
    assert client.delete(f"{TOKENS}/1").status_code == 401


def test_a_token_cannot_mint_tokens(client, issued):
    _token, secret = issued
    response = client.post(TOKENS, {"name": "x"}, content_type="application/json", headers=bearer(secret))
    assert response.status_code == 403


@pytest.mark.parametrize("payload", [{"name": ""}, {"name": "x" * 101}, {"name": "x", "expires_in_days": 0},
                                     {"name": "x", "expires_in_days": 366}, {}, {"name": 5}])
def test_bad_token_requests_are_422(client, citizen, payload):
    client.force_login(citizen)
    response = client.post(TOKENS, payload, content_type="application/json")
    assert response.status_code == 422


@pytest.mark.parametrize("name", ["   ", "a\x00b", "第一行\n第二行"])
def test_bad_token_names_are_400_with_a_message(client, citizen, name):
    client.force_login(citizen)
    response = client.post(TOKENS, {"name": name}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == "name"
    assert not ApiToken.objects.exists()


def test_a_staff_session_counts_only_after_the_second_factor(client, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    client.force_login(clerk)
    assert client.get(ME).status_code == 401
    assert client.post(TOKENS, {"name": "x"}, content_type="application/json").status_code == 401
    assert not ApiToken.objects.exists()


def test_me_lists_roles_and_second_factor_state(client_as, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    body = client_as(clerk).get(ME).json()
    assert body["second_factor_verified"] is True
    assert [(r["role"], r["department"]["name"]) for r in body["roles"]] == [("window_clerk", "遵义市市场监督管理局")]
    assert body["staff"]["department"]["name"] == "遵义市市场监督管理局"


def test_a_name_that_cannot_be_stored_is_refused_by_the_service(citizen):
    with pytest.raises(InvalidInput):
        services.api_token_create(actor=citizen, name="\ud800")
    assert not ApiToken.objects.exists()


def test_a_staff_token_brings_the_grants_in_force_along(root, make_staff, places, django_assert_num_queries):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK, Role.REVIEWER)
    reviewer = RoleAssignment.objects.get(user=clerk, role=Role.REVIEWER)
    services.role_revoke(actor=root, assignment=reviewer)
    RoleAssignment.objects.create(user=clerk, role=Role.APPROVER, department=places.market,
                                  valid_from=timezone.now() + timedelta(days=1))
    _token, secret = services.api_token_create(actor=clerk, name="脚本")
    request = RequestFactory().get(ME)
    with request_context.bind(ip=None):
        with django_assert_num_queries(2):  # the read, and the token's last-used time (once a minute)
            user = ApiTokenAuth().authenticate(request, secret)
            assert grants(user) == (Grant(Role.WINDOW_CLERK, places.market.pk, None),)
            assert has_role(user, Role.WINDOW_CLERK, department=places.market)
            assert not has_role(user, Role.REVIEWER) and not has_role(user, Role.APPROVER)
            assert user.staff_profile.department_id == places.market.pk
    # A user without any assignment in force still signs in, with none.
    services.role_revoke(actor=root, assignment=RoleAssignment.objects.get(user=clerk, role=Role.WINDOW_CLERK))
    with request_context.bind(ip=None), django_assert_num_queries(1):
        assert grants(ApiTokenAuth().authenticate(request, secret)) == ()
