from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from onewindow.accounts import services
from onewindow.accounts.models import ApiToken, UserSession
from onewindow.accounts.sweeps import user_sessions_prune
from onewindow.core.errors import InvalidInput, NotFound
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another#long-pass9"


@pytest.fixture
def citizen(make_citizen):
    return make_citizen("wangxm")


def signed_in(user, password=PASSWORD) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": password}).status_code == 302
    return client


def test_changing_the_password_ends_every_other_session(citizen):
    here, elsewhere = signed_in(citizen), signed_in(citizen)
    other_key = elsewhere.session.session_key
    response = here.post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    assert here.get("/accounts/me/").status_code == 200
    assert not Session.objects.filter(session_key=other_key).exists()
    assert elsewhere.get("/accounts/me/").status_code == 302
    assert list(UserSession.objects.filter(user=citizen).values_list("session_key", flat=True)) == [
        here.session.session_key
    ]
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)


def test_a_wrong_old_password_changes_nothing(citizen):
    client = signed_in(citizen)
    response = client.post("/accounts/password/", {
        "old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 400
    assert "原密码不正确" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)


def test_a_weak_new_password_is_refused(citizen):
    with pytest.raises(InvalidInput) as refused:
        services.password_change(actor=citizen, old_password=PASSWORD, new_password="password")
    assert refused.value.field == "new_password"


def test_deactivating_an_account_ends_all_its_sessions_and_tokens(root, citizen):
    first, second = signed_in(citizen), signed_in(citizen)
    keys = [first.session.session_key, second.session.session_key]
    services.api_token_create(actor=citizen, name="t")
    services.account_deactivate(actor=root, user=citizen, reason="本人申请注销")
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=citizen).exists()
    assert not ApiToken.objects.filter(user=citizen, revoked_at__isnull=True).exists()
    assert first.get("/accounts/me/").status_code == 302
    assert Client().post("/accounts/login/", {"username": citizen.username, "password": PASSWORD}).status_code == 400


def test_only_the_holder_or_an_administrator_may_deactivate(citizen, make_citizen):
    with pytest.raises(NotFound):
        services.account_deactivate(actor=make_citizen("other"), user=citizen)
    citizen.refresh_from_db()
    assert citizen.is_active


def test_an_administrator_ends_someones_sessions(root, citizen):
    client = signed_in(citizen)
    assert services.sessions_end(actor=root, user=citizen) == 1
    assert client.get("/accounts/me/").status_code == 302


def test_old_session_records_are_pruned(citizen, settings):
    signed_in(citizen)
    UserSession.objects.update(created_at=timezone.now() - timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS + 1))
    fresh = signed_in(citizen)
    assert user_sessions_prune() == 1
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [fresh.session.session_key]
