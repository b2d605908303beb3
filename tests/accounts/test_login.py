import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from onewindow.accounts.middleware import LOGIN_AT_KEY, SEEN_AT_KEY
from onewindow.accounts.models import UserSession
from onewindow.core.models import AuditEntry
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PROFILE = "/accounts/me/"


@pytest.fixture
def citizen(make_citizen):
    return make_citizen("wangxm", phone="13912345678")


def login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


@pytest.mark.parametrize("identifier", ["username", "id_number", "phone"])
def test_citizen_signs_in_with_username_id_number_or_phone(client, citizen, identifier):
    response = login(client, getattr(citizen, identifier))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get(PROFILE).status_code == 200
    assert UserSession.objects.filter(user=citizen, session_key=client.session.session_key).exists()
    assert AuditEntry.objects.filter(action="accounts.login", object_id=str(citizen.pk)).exists()


def test_a_wrong_password_gets_400_and_a_translated_message(client, citizen):
    response = login(client, citizen.username, "wrong-password")
    assert response.status_code == 400
    assert "账户或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_next_is_followed_only_within_the_site(client, citizen):
    assert login(client, citizen.username, next="/accounts/me/")["Location"] == "/accounts/me/"
    client.logout()
    assert login(client, citizen.username, next="https://evil.example/")["Location"] == "/"


def test_repeated_failures_lock_the_account_with_a_translated_429(client, citizen):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [login(client, citizen.username, "wrong-password").status_code for _ in range(limit)]
    assert statuses == [400] * (limit - 1) + [429]
    locked = login(client, citizen.username)  # even the right password is refused now
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert f"请{round(settings.AXES_COOLOFF_TIME * 60)}分钟后再试" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_counts_failures_whichever_identifier_was_typed(client, citizen):
    identifiers = [citizen.username, citizen.id_number, citizen.phone]
    statuses = [login(client, identifiers[i % 3], "wrong-password").status_code
                for i in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses[-1] == 429


def test_a_successful_login_resets_the_failure_count(client, citizen):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert login(client, citizen.username, "wrong-password").status_code == 400
    assert login(client, citizen.username).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(limit - 1):
        assert login(client, citizen.username, "wrong-password").status_code == 400
    assert login(client, citizen.username).status_code == 302


def test_the_session_key_is_rotated_at_login(client, citizen):
    session = client.session
    session["probe"] = "before login"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert login(client, citizen.username).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.filter(session_key=after).exists()


def test_an_idle_session_ends_and_the_login_page_says_why(client, citizen):
    login(client, citizen.username)
    key = client.session.session_key
    session = client.session
    session[SEEN_AT_KEY] = time.time() - settings.SESSION_COOKIE_AGE - 1
    session.save()
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "expired=idle" in response["Location"]
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_key=key).exists()
    page = client.get(response["Location"])
    assert "较长时间未操作" in page.content.decode()
    assert client.get(PROFILE).status_code == 302


def test_an_active_session_still_ends_at_the_absolute_lifetime(client, citizen):
    login(client, citizen.username)
    session = client.session
    session[LOGIN_AT_KEY] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session[SEEN_AT_KEY] = time.time()
    session.save()
    response = client.get(PROFILE)
    assert "expired=absolute" in response["Location"]
    assert "最长时限" in client.get(response["Location"]).content.decode()


def test_activity_inside_the_limits_keeps_the_session(client, citizen):
    login(client, citizen.username)
    session = client.session
    session[SEEN_AT_KEY] = time.time() - settings.SESSION_COOKIE_AGE + 60
    session.save()
    assert client.get(PROFILE).status_code == 200
    assert client.session[SEEN_AT_KEY] > time.time() - 60


def test_the_session_store_itself_expires_idle_sessions(client, citizen):
    login(client, citizen.username)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(PROFILE)["Location"].startswith(LOGIN)


def test_an_expired_api_call_is_not_redirected_but_unauthenticated(client, citizen):
    login(client, citizen.username)
    session = client.session
    session[SEEN_AT_KEY] = time.time() - settings.SESSION_COOKIE_AGE - 1
    session.save()
    assert client.get("/api/accounts/me").status_code == 401


def test_logout_is_post_only_and_ends_the_session_server_side(client, citizen):
    login(client, citizen.username)
    key = client.session.session_key
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_key=key).exists()
    assert AuditEntry.objects.filter(action="accounts.logout").exists()


def test_an_inactive_account_cannot_sign_in(client, citizen):
    citizen.is_active = False
    citizen.save()
    assert login(client, citizen.username).status_code == 400
