from datetime import date

import pytest
from django.contrib.auth.hashers import identify_hasher

from onewindow.accounts import services
from onewindow.accounts.choices import AccountKind, Gender, HandlerRole, Role
from onewindow.accounts.models import Enterprise, EnterpriseHandler, User
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.identifiers import make_id_number
from tests.accounts.conftest import ID_NUMBER, PASSWORD, USCC, audit_count

pytestmark = pytest.mark.django_db


def register(**overrides):
    fields = {"username": "wangfang", "password": PASSWORD, "real_name": "王芳", "id_number": ID_NUMBER}
    return services.citizen_register(**{**fields, **overrides})


def test_citizen_registers_with_real_name_and_id_number():
    user = register(id_number=ID_NUMBER.lower(), phone="13912345678")
    assert user.kind == AccountKind.CITIZEN
    assert user.id_number == ID_NUMBER
    # 17th digit 2 is even: female.
    assert user.gender == Gender.FEMALE
    assert not user.real_name_verified
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "110105194912310021"}, "id_number"),  # wrong check character
        ({"id_number": "11010519491331002X"}, "id_number"),  # 13th month
        ({"id_number": "1101051949123100"}, "id_number"),
        ({"id_type": "999"}, "id_type"),
        ({"real_name": "  "}, "real_name"),
        ({"real_name": "王\x00芳"}, "real_name"),
        ({"username": "13912345678"}, "username"),  # looks like a phone number
        ({"username": "ab"}, "username"),
        ({"phone": "12345"}, "phone"),
        ({"password": "12345678"}, "password"),  # numeric and common
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_bad_registration_is_refused_with_a_message_and_writes_nothing(overrides, field):
    before = audit_count()
    with pytest.raises(InvalidInput) as refused:
        register(**overrides)
    assert refused.value.field == field
    assert refused.value.message
    assert not User.objects.exists()
    assert audit_count() == before


def test_the_same_id_number_cannot_register_twice():
    register()
    with pytest.raises(InvalidInput) as refused:
        register(username="another")
    assert refused.value.field == "id_number"
    assert User.objects.count() == 1


def test_passport_numbers_are_checked_for_shape_only():
    user = register(id_type="414", id_number="e12345678")
    assert (user.id_type, user.id_number, user.gender) == ("414", "E12345678", Gender.UNSTATED)


def test_registration_page_refuses_a_bad_id_number_with_400_and_a_translated_message(client):
    response = client.post("/accounts/register/", {
        "username": "wangfang", "real_name": "王芳", "id_type": "111", "id_number": "110105194912310021",
        "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 400
    assert "身份证号码的校验位不正确" in response.content.decode()
    assert not User.objects.exists()


def test_registration_page_creates_the_account_and_sends_to_login(client):
    response = client.post("/accounts/register/", {
        "username": "wangfang", "real_name": "王芳", "id_type": "111", "id_number": ID_NUMBER,
        "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert User.objects.get(username="wangfang").id_number == ID_NUMBER


def test_argon2_is_the_production_hasher_and_tests_only_prepend_md5(settings):
    from onewindow.config import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "MD5" not in " ".join(production.PASSWORD_HASHERS)
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher",
                                         *production.PASSWORD_HASHERS]
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = register()
    assert identify_hasher(user.password).algorithm == "argon2"


# --- enterprises ---------------------------------------------------------------------------


@pytest.fixture
def legal_rep(make_citizen):
    return make_citizen("zhangwei", real_name="张伟")


def enterprise_fields(rep, **overrides):
    fields = {"name": "遵义黔北茶业有限公司", "uscc": USCC, "legal_rep_name": rep.real_name,
              "legal_rep_id_number": rep.id_number, "registered_address": "遵义市红花岗区中华南路88号"}
    return {**fields, **overrides}


def test_the_legal_representative_registers_the_enterprise_and_becomes_its_legal_rep(legal_rep):
    enterprise = services.enterprise_register(actor=legal_rep, **enterprise_fields(legal_rep, uscc=USCC.lower()))
    assert enterprise.uscc == USCC
    link = EnterpriseHandler.objects.get(enterprise=enterprise)
    assert (link.user, link.role) == (legal_rep, HandlerRole.LEGAL_REP)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": "91350100M000100Y44"}, "uscc"),  # wrong check character
        ({"uscc": "91350100M00010"}, "uscc"),
        ({"legal_rep_id_number": "110105194912310021"}, "legal_rep_id_number"),
        ({"registered_address": ""}, "registered_address"),
        ({"registered_on": date(2999, 1, 1)}, "registered_on"),
    ],
)
def test_bad_enterprise_registration_is_refused_and_writes_nothing(legal_rep, overrides, field):
    before = audit_count()
    with pytest.raises(InvalidInput) as refused:
        services.enterprise_register(actor=legal_rep, **enterprise_fields(legal_rep, **overrides))
    assert refused.value.field == field
    assert not Enterprise.objects.exists()
    assert not EnterpriseHandler.objects.exists()
    assert audit_count() == before


def test_someone_else_cannot_register_an_enterprise_in_the_representatives_name(legal_rep, make_citizen):
    stranger = make_citizen("stranger")
    with pytest.raises(PermissionDenied):
        services.enterprise_register(actor=stranger, **enterprise_fields(legal_rep))
    assert not Enterprise.objects.exists()


def test_a_uscc_registers_once(legal_rep):
    services.enterprise_register(actor=legal_rep, **enterprise_fields(legal_rep))
    with pytest.raises(InvalidInput) as refused:
        services.enterprise_register(actor=legal_rep, **enterprise_fields(legal_rep, name="另一家"))
    assert refused.value.field == "uscc"


def test_a_platform_admin_registers_and_the_representatives_account_is_linked(root, legal_rep):
    enterprise = services.enterprise_register(actor=root, **enterprise_fields(legal_rep))
    assert EnterpriseHandler.objects.get(enterprise=enterprise).user == legal_rep


def test_enterprise_page_refuses_a_bad_uscc_with_400(client, legal_rep):
    client.force_login(legal_rep)
    response = client.post("/accounts/enterprises/register/", {
        **enterprise_fields(legal_rep, uscc="91350100M000100Y44"), "legal_rep_id_type": "111",
    })
    assert response.status_code == 400
    assert "统一社会信用代码" in response.content.decode()
    assert not Enterprise.objects.exists()


# --- handlers ------------------------------------------------------------------------------


@pytest.fixture
def enterprise(legal_rep):
    return services.enterprise_register(actor=legal_rep, **enterprise_fields(legal_rep))


def test_the_legal_rep_adds_and_revokes_a_handler(enterprise, legal_rep, make_citizen):
    handler_user = make_citizen("handler", real_name="赵磊")
    link = services.handler_add(actor=legal_rep, enterprise=enterprise, user=handler_user,
                                valid_until=date(2099, 12, 31))
    assert EnterpriseHandler.objects.active().filter(user=handler_user, enterprise=enterprise).exists()
    with pytest.raises(DomainError):
        services.handler_add(actor=legal_rep, enterprise=enterprise, user=handler_user)
    services.handler_revoke(actor=legal_rep, handler=link)
    assert not EnterpriseHandler.objects.active().filter(user=handler_user).exists()
    with pytest.raises(DomainError):
        services.handler_revoke(actor=legal_rep, handler=link)


def test_a_handler_cannot_add_handlers_and_an_outsider_does_not_see_the_enterprise(enterprise, legal_rep,
                                                                                  make_citizen):
    handler_user = make_citizen("handler", real_name="赵磊")
    services.handler_add(actor=legal_rep, enterprise=enterprise, user=handler_user)
    third = make_citizen("third", real_name="孙静")
    with pytest.raises(PermissionDenied):
        services.handler_add(actor=handler_user, enterprise=enterprise, user=third)
    with pytest.raises(NotFound):
        services.handler_add(actor=third, enterprise=enterprise, user=third)


def test_an_expired_authorisation_no_longer_counts(enterprise, legal_rep, make_citizen):
    handler_user = make_citizen("handler", real_name="赵磊")
    link = services.handler_add(actor=legal_rep, enterprise=enterprise, user=handler_user)
    EnterpriseHandler.objects.filter(pk=link.pk).update(valid_until=date(2020, 1, 1))
    assert not EnterpriseHandler.objects.active().filter(pk=link.pk).exists()


def test_staff_accounts_cannot_be_enterprise_handlers(enterprise, legal_rep, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    with pytest.raises(InvalidInput):
        services.handler_add(actor=legal_rep, enterprise=enterprise, user=clerk)


def test_handler_page_finds_the_person_by_id_number_and_name(client, enterprise, legal_rep, make_citizen):
    handler_user = make_citizen("handler", real_name="赵磊")
    client.force_login(legal_rep)
    url = f"/accounts/enterprises/{enterprise.pk}/"
    wrong = client.post(url, {"real_name": "别人", "id_number": handler_user.id_number})
    assert wrong.status_code == 400
    assert "未找到证件号码与姓名相符的账户" in wrong.content.decode()
    right = client.post(url, {"real_name": "赵磊", "id_number": handler_user.id_number})
    assert right.status_code == 302
    assert EnterpriseHandler.objects.active().filter(user=handler_user).exists()


def test_an_outsider_gets_404_for_an_enterprise_page(client, enterprise, make_citizen):
    client.force_login(make_citizen("outsider"))
    assert client.get(f"/accounts/enterprises/{enterprise.pk}/").status_code == 404


def test_make_id_number_gives_numbers_the_services_accept():
    number = make_id_number("520302", date(1990, 1, 1), 1)
    user = register(id_number=number)
    assert user.gender == Gender.MALE
