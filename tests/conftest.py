"""Fixtures shared by every app's tests: accounts of each kind, signed-in clients."""

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts.choices import AccountKind
from onewindow.complaints import reference as complaints_reference
from onewindow.core import workdays
from onewindow.core.testing.access_matrix import login_as


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request under /en/ leaves English active in
    the thread, which would change what reverse() and gettext return in the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_cache():
    """Rendered fragments are keyed by row ids, which a rolled-back test database hands out again."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def reference_check_not_due(monkeypatch):
    """The complaints reference snapshot (categories, rules, 12345 centres, read by every staff
    page's menu) is checked against the database at most once a second, whenever that falls: in
    tests only at the first read after the cache is emptied, so that counted queries do not
    depend on the clock. Its own tests drop the cache entry to make the check due."""
    monkeypatch.setattr(complaints_reference, "CHECK_SECONDS", 3600)


@pytest.fixture(autouse=True)
def calendar_of_this_test():
    """Each test reads the working-day calendar of its own database. A calendar edit leaves the
    thread reading its own transaction's calendar until that transaction is over, and an earlier
    test's was rolled back, which no hook reports; outside tests the next read after it notices."""
    workdays._committed()


@pytest.fixture(autouse=True)
def ledger_files(settings, tmp_path):
    """Each test gets its own audit signing key and witness file, as it gets its own database."""
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "ledger_ed25519.pem"
    settings.AUDIT_WITNESS_FILE = tmp_path / "ledger_heads.jsonl"
    return tmp_path


@pytest.fixture
def make_user(db):
    """``make_user("alice", kind=AccountKind.STAFF, otp=True, **fields)``: a saved account.

    ``otp=True`` gives it a confirmed TOTP device, which staff need to pass the second factor.
    """

    def make(username: str, *, kind: str = AccountKind.CITIZEN, otp: bool = False, **fields):
        user = get_user_model().objects.create_user(username=username, kind=kind, **fields)
        if otp:
            TOTPDevice.objects.create(user=user, name=f"{username} TOTP", confirmed=True)
        return user

    return make


@pytest.fixture
def citizen(make_user):
    return make_user("citizen", kind=AccountKind.CITIZEN, real_name="张三")


@pytest.fixture
def staff(make_user):
    return make_user("staff", kind=AccountKind.STAFF, otp=True, real_name="李四")


@pytest.fixture
def client_as():
    """``client_as(user)``: a fresh test client signed in as ``user`` (second factor verified)."""

    def make(user) -> Client:
        client = Client()
        login_as(client, user)
        return client

    return make


@pytest.fixture
def demo_data(transactional_db):
    """The demo data set (``onewindow demo``), committed so that a live server sees it."""
    call_command("demo", quiet_logins=True, stdout=io.StringIO())


pytest_plugins = ["onewindow.core.audit.pytest_plugin"]


@pytest.fixture
def admin_user(make_user):
    """A platform superuser with a confirmed second factor (the admin requires it)."""
    user = make_user("admin", kind=AccountKind.STAFF, otp=True, real_name="管理员", is_staff=True, is_superuser=True)
    user.set_password("password")
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def admin_client(admin_user, client_as):
    return client_as(admin_user)


@pytest.fixture
def supervisor(make_user):
    """A supervisor (监察员) of 遵义市, second factor enrolled."""
    from onewindow.accounts.choices import Role
    from onewindow.accounts.models import RoleAssignment
    from onewindow.core.models import Region

    province = Region.objects.create(code="520000", name="贵州省", level=1, path="520000/")
    city = Region.objects.create(code="520300", name="遵义市", level=2, parent=province, path="520000/520300/")
    user = make_user("supervisor", kind=AccountKind.STAFF, otp=True, real_name="吴敏")
    RoleAssignment.objects.create(user=user, role=Role.SUPERVISOR, region=city)
    return user
