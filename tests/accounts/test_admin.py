import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts import services
from onewindow.accounts.choices import Role
from onewindow.accounts.models import ApiToken, RoleAssignment, UserSession
from tests.accounts.conftest import USCC

pytestmark = pytest.mark.django_db

PAGES = ["user", "enterprise", "enterprisehandler", "staffprofile", "roleassignment",
         "chiefrepresentativeauthorisation", "apitoken", "usersession"]


@pytest.fixture
def admin_client(root, client_as):
    TOTPDevice.objects.create(user=root, name="root TOTP", confirmed=True)
    return client_as(root)


@pytest.fixture
def filled(root, make_staff, make_citizen, places):
    rep = make_citizen("legalrep", real_name="张伟")
    services.enterprise_register(actor=rep, name="公司", uscc=USCC, legal_rep_name="张伟",
                                 legal_rep_id_number=rep.id_number, registered_address="遵义")
    make_staff("clerk", places.market, Role.WINDOW_CLERK)
    token, _secret = services.api_token_create(actor=rep, name="t")
    return token


@pytest.mark.parametrize("model", PAGES)
def test_admin_lists_and_shows_each_model_read_only(admin_client, filled, model):
    listing = admin_client.get(f"/admin/accounts/{model}/")
    assert listing.status_code == 200
    assert f"/admin/accounts/{model}/add/" not in listing.content.decode()


def test_the_token_page_shows_the_hash_not_the_secret(admin_client, filled):
    page = admin_client.get(f"/admin/accounts/apitoken/{filled.pk}/change/").content.decode()
    assert filled.key_hash in page


def test_admin_actions_go_through_the_services(admin_client, filled, make_staff, places):
    assignment = RoleAssignment.objects.get(user__username="clerk")
    response = admin_client.post("/admin/accounts/roleassignment/", {
        "action": "revoke", "_selected_action": [assignment.pk],
    })
    assert response.status_code == 302
    assert RoleAssignment.objects.get(pk=assignment.pk).revoked_at is not None
    admin_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [filled.pk]})
    assert ApiToken.objects.get(pk=filled.pk).revoked_at is not None


def test_an_admin_ends_a_users_sessions_from_the_user_list(admin_client, make_citizen):
    citizen = make_citizen("someone")
    other = Client()
    other.force_login(citizen)
    assert UserSession.objects.filter(user=citizen).exists()
    admin_client.post("/admin/accounts/user/", {"action": "end_sessions", "_selected_action": [citizen.pk]})
    assert not UserSession.objects.filter(user=citizen).exists()
    assert other.get("/accounts/me/").status_code == 302


def test_the_role_list_does_not_query_per_row(admin_client, root, make_staff, places):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/accounts/roleassignment/").status_code == 200
        return len(captured)

    make_staff("staffone", places.market, Role.WINDOW_CLERK)
    queries()  # the first view fills what each process keeps (the 12345 centres, for the menu)
    before = queries()
    make_staff("stafftwo", places.housing, Role.REVIEWER)
    make_staff("staffthree", places.hhg_centre, Role.SUPERVISOR)
    assert queries() == before
