"""Every service writes exactly one audit entry, in its own transaction, naming what it did."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts import services
from onewindow.accounts.choices import EnterpriseVerifyMethod, RealNameMethod, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.core.models import AuditEntry
from tests.accounts.conftest import PASSWORD, USCC, totp_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(root, places, make_staff, make_citizen):
    admin = make_staff("deptadmin", places.market, Role.DEPARTMENT_ADMIN)
    approver = make_staff("approver", places.market, Role.APPROVER)
    clerk = make_staff("clerk", places.market)
    rep = make_citizen("legalrep", real_name="张伟")
    handler = make_citizen("handler", real_name="赵磊")
    third = make_citizen("third", real_name="孙静")
    enterprise = services.enterprise_register(
        actor=rep, name="遵义黔北茶业有限公司", uscc=USCC, legal_rep_name="张伟", legal_rep_id_number=rep.id_number,
        registered_address="遵义市红花岗区",
    )
    link = services.handler_add(actor=rep, enterprise=enterprise, user=handler)
    today = timezone.localdate()
    authorisation = services.chief_authorisation_create(
        actor=admin, representative=approver, department=places.market, scope_text="全部", all_items=True,
        document_number="1号", signatory="局长", signed_on=today, valid_from=today,
        valid_until=today + timedelta(days=30),
    )
    token, _secret = services.api_token_create(actor=rep, name="t")
    return locals() | {"places": places}


def calls(w):
    p = w["places"]
    pending = TOTPDevice.objects.create(user=w["clerk"], name="new", confirmed=False)
    return {
        "accounts.citizen_register": lambda: services.citizen_register(
            username="newbie", password=PASSWORD, real_name="新人", id_number="11010519491231002X"),
        "accounts.enterprise_register": lambda: services.enterprise_register(
            actor=w["root"], name="另一家公司", uscc="12441500196720244T", legal_rep_name="某人",
            legal_rep_id_number="11010519491231002X", registered_address="某地"),
        "accounts.handler_add": lambda: services.handler_add(
            actor=w["rep"], enterprise=w["enterprise"], user=w["third"]),
        "accounts.handler_revoke": lambda: services.handler_revoke(actor=w["rep"], handler=w["link"]),
        "accounts.real_name_verify": lambda: services.real_name_verify(
            actor=w["root"], user=w["handler"], method=RealNameMethod.WINDOW),
        "accounts.enterprise_verify": lambda: services.enterprise_verify(
            actor=w["root"], enterprise=w["enterprise"], method=EnterpriseVerifyMethod.E_LICENCE),
        "accounts.staff_create": lambda: services.staff_create(
            actor=w["admin"], department=p.market, username="another", password=PASSWORD, real_name="另一位",
            phone="13600000009"),
        "accounts.role_grant": lambda: services.role_grant(
            actor=w["admin"], user=w["clerk"], role=Role.WINDOW_CLERK, department=p.market),
        "accounts.role_revoke": lambda: services.role_revoke(
            actor=w["admin"], assignment=RoleAssignment.objects.get(user=w["approver"])),
        "accounts.chief_authorisation_create": lambda: services.chief_authorisation_create(
            actor=w["admin"], representative=w["approver"], department=p.market, scope_text="部分",
            item_codes=["XK1"], document_number="2号", signatory="局长", signed_on=timezone.localdate(),
            valid_from=timezone.localdate(), valid_until=timezone.localdate()),
        "accounts.chief_authorisation_revoke": lambda: services.chief_authorisation_revoke(
            actor=w["admin"], authorisation=w["authorisation"], reason="离任"),
        "accounts.password_change": lambda: services.password_change(
            actor=w["rep"], old_password=PASSWORD, new_password="Another#long-pass9"),
        "accounts.account_deactivate": lambda: services.account_deactivate(actor=w["root"], user=w["handler"]),
        "accounts.sessions_end": lambda: services.sessions_end(actor=w["root"], user=w["rep"]),
        "accounts.api_token_create": lambda: services.api_token_create(actor=w["rep"], name="n"),
        "accounts.api_token_revoke": lambda: services.api_token_revoke(actor=w["rep"], token=w["token"]),
        "accounts.otp_code_send": lambda: services.otp_code_send(actor=w["clerk"]),
        "accounts.second_factor_verify": lambda: services.second_factor_verify(
            actor=w["clerk"], device=TOTPDevice.objects.get(user=w["clerk"], confirmed=True), token="000000"),
        "accounts.totp_enrol_start": lambda: services.totp_enrol_start(actor=w["approver"]),
        "accounts.totp_enrol_confirm": lambda: services.totp_enrol_confirm(
            actor=w["clerk"], device=pending, token=totp_now(pending)),
        "accounts.login": lambda: services.session_open(user=w["rep"], session_key="k" * 32, ip="127.0.0.1",
                                                        user_agent="test"),
        "accounts.logout": lambda: services.session_close(user=w["rep"], session_key="k" * 32),
    }


ACTIONS = [
    "accounts.citizen_register", "accounts.enterprise_register", "accounts.handler_add", "accounts.handler_revoke",
    "accounts.real_name_verify", "accounts.enterprise_verify", "accounts.staff_create", "accounts.role_grant",
    "accounts.role_revoke", "accounts.chief_authorisation_create", "accounts.chief_authorisation_revoke",
    "accounts.password_change", "accounts.account_deactivate", "accounts.sessions_end", "accounts.api_token_create",
    "accounts.api_token_revoke", "accounts.otp_code_send", "accounts.second_factor_verify",
    "accounts.totp_enrol_start", "accounts.totp_enrol_confirm", "accounts.login", "accounts.logout",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_each_service_writes_exactly_one_audit_entry(world, action):
    call = calls(world)[action]
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    call()
    written = list(AuditEntry.objects.filter(id__gt=last).values_list("action", flat=True))
    assert written == [action]


def test_every_service_is_covered():
    transactional = {
        name for name, value in vars(services).items()
        if callable(value) and getattr(value, "__module__", "") == services.__name__ and hasattr(value, "__wrapped__")
    }
    renamed = {"session_open": "login", "session_close": "logout", "_totp_enrol_check": "totp_enrol_confirm"}
    assert {f"accounts.{renamed.get(name, name)}" for name in transactional} == set(ACTIONS)


def test_a_refused_call_writes_no_audit_entry(world):
    before = AuditEntry.objects.count()
    with pytest.raises(Exception):
        services.role_grant(actor=world["clerk"], user=world["clerk"], role=Role.REVIEWER,
                            department=world["places"].market)
    assert AuditEntry.objects.count() == before


def test_audit_entries_do_not_hold_full_id_numbers(world):
    changes = " ".join(AuditEntry.objects.values_list("changes", flat=True))
    assert world["rep"].id_number not in changes
