from base64 import b32decode

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts import demo
from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation, Enterprise, EnterpriseHandler, User
from onewindow.accounts.permissions import has_role, may_decide, scope_regions
from onewindow.core import demo_regions
from onewindow.core.identifiers import validate_id_number, validate_uscc_field
from onewindow.core.models import AuditEntry, Department

pytestmark = pytest.mark.django_db


def test_without_departments_only_citizens_and_enterprises_load():
    logins = demo.load()
    assert {login["kind"] for login in logins} == {AccountKind.CITIZEN, AccountKind.ENTERPRISE}
    assert Enterprise.objects.count() == 2


def test_demo_load_is_idempotent_and_complete():
    demo_regions.load()
    first = demo.load()
    assert [login["username"] for login in first] == [login["username"] for login in demo.DEMO_LOGINS]
    audited = AuditEntry.objects.filter(action="accounts.demo_load").count()
    rows = (User.objects.count(), EnterpriseHandler.objects.count(), ChiefRepresentativeAuthorisation.objects.count())
    assert demo.load() == first
    assert (User.objects.count(), EnterpriseHandler.objects.count(),
            ChiefRepresentativeAuthorisation.objects.count()) == rows
    assert AuditEntry.objects.filter(action="accounts.demo_load").count() == audited  # nothing changed

    market = Department.objects.get(name=demo.SERVICE_DEPARTMENT)
    assert may_decide(User.objects.get(username="approver"), market, "ANY")
    supervisor = User.objects.get(username="supervisor")
    assert {region.code for region in scope_regions(supervisor)} >= {"520300", "520302"}
    for login in demo.DEMO_LOGINS:
        user = User.objects.get(username=login["username"])
        assert user.check_password(demo.DEMO_PASSWORD)
        if login["kind"] == AccountKind.STAFF:
            assert has_role(user, login["role"])
            assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
        else:
            validate_id_number(user.id_number)
    for enterprise in Enterprise.objects.all():
        validate_uscc_field(enterprise.uscc)


def test_a_demo_staff_login_passes_the_second_factor_with_the_published_secret():
    demo_regions.load()
    demo.load()
    clerk = next(login for login in demo.DEMO_LOGINS if login["role"] == Role.WINDOW_CLERK)
    client = Client()
    client.post("/accounts/login/", {"username": clerk["username"], "password": clerk["password"]})
    code = f"{TOTP(b32decode(clerk['totp_secret'])).token():06d}"
    response = client.post("/accounts/verify/", {"method": "totp", "token": code})
    assert response["Location"] == "/workbench/"


def test_a_broken_demo_account_is_repaired():
    demo.load()
    User.objects.filter(username="citizen1").update(real_name="改坏了", is_active=False)
    demo.load()
    user = User.objects.get(username="citizen1")
    assert (user.real_name, user.is_active) == ("张伟", True)
