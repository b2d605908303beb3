from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from onewindow.accounts import permissions, services
from onewindow.accounts.choices import Role
from onewindow.accounts.models import ChiefRepresentativeAuthorisation, RoleAssignment
from onewindow.accounts.permissions import has_role, may_decide, scope_q, scope_regions, staff_departments
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.models import Department
from onewindow.core.testing.access_matrix import assert_selector_scoping
from tests.accounts.conftest import active_roles, audit_count

pytestmark = pytest.mark.django_db


def test_a_department_admin_grants_roles_in_their_department(market_admin, make_staff, places):
    clerk = make_staff("clerk", places.market)
    services.role_grant(actor=market_admin, user=clerk, role=Role.WINDOW_CLERK, department=places.market)
    assert active_roles(clerk) == ["window_clerk"]
    assert has_role(clerk, Role.WINDOW_CLERK, department=places.market)
    assert not has_role(clerk, Role.WINDOW_CLERK, department=places.housing)


def test_a_department_admin_cannot_grant_in_another_department(market_admin, make_staff, places):
    builder = make_staff("builder", places.housing)
    before = audit_count()
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=market_admin, user=builder, role=Role.REVIEWER, department=places.housing)
    assert not RoleAssignment.objects.filter(user=builder).exists()
    assert audit_count() == before


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.SUPERVISOR])
def test_a_department_admin_cannot_grant_platform_or_region_roles(market_admin, make_staff, places, role):
    clerk = make_staff("clerk", places.market)
    scope = {"region": places.zy} if role == Role.SUPERVISOR else {}
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=market_admin, user=clerk, role=role, **scope)


def test_a_department_admin_cannot_revoke_in_another_department(market_admin, make_staff, places):
    builder = make_staff("builder", places.housing, Role.REVIEWER)
    assignment = RoleAssignment.objects.get(user=builder)
    with pytest.raises(PermissionDenied):
        services.role_revoke(actor=market_admin, assignment=assignment)
    assert RoleAssignment.objects.get(pk=assignment.pk).revoked_at is None


def test_ordinary_staff_cannot_grant_roles(make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    other = make_staff("other", places.market)
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=clerk, user=other, role=Role.REVIEWER, department=places.market)


@pytest.mark.parametrize(
    ("role", "scope"),
    [(Role.WINDOW_CLERK, {}), (Role.SUPERVISOR, {}), (Role.PLATFORM_ADMIN, {"region": "zy"}),
     (Role.WINDOW_CLERK, {"region": "zy"}), ("no_such_role", {})],
)
def test_a_role_needs_the_scope_of_its_kind(root, make_staff, places, role, scope):
    clerk = make_staff("clerk", places.market)
    with pytest.raises(InvalidInput):
        services.role_grant(actor=root, user=clerk, role=role, **{k: getattr(places, v) for k, v in scope.items()})


def test_the_database_refuses_a_role_with_the_wrong_scope(make_staff, places):
    clerk = make_staff("clerk", places.market)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=clerk, role=Role.WINDOW_CLERK, region=places.zy)


def test_a_staff_member_from_another_department_cannot_get_this_departments_role(root, make_staff, places):
    builder = make_staff("builder", places.housing)
    with pytest.raises(InvalidInput):
        services.role_grant(actor=root, user=builder, role=Role.REVIEWER, department=places.market)


def test_citizens_cannot_hold_roles(root, make_citizen, places):
    with pytest.raises(InvalidInput):
        services.role_grant(actor=root, user=make_citizen("citizen"), role=Role.PLATFORM_ADMIN)


def test_a_role_is_not_granted_twice_and_expires(root, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    with pytest.raises(DomainError):
        services.role_grant(actor=root, user=clerk, role=Role.WINDOW_CLERK, department=places.market)
    RoleAssignment.objects.filter(user=clerk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert not has_role(clerk, Role.WINDOW_CLERK)
    services.role_grant(actor=root, user=clerk, role=Role.WINDOW_CLERK, department=places.market,
                        valid_until=timezone.now() + timedelta(days=30))
    assert has_role(clerk, Role.WINDOW_CLERK)


def test_revoked_roles_and_deactivated_accounts_hold_nothing(root, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    services.role_revoke(actor=root, assignment=RoleAssignment.objects.get(user=clerk))
    assert not has_role(clerk, Role.WINDOW_CLERK)
    reviewer = make_staff("reviewer", places.market, Role.REVIEWER)
    services.account_deactivate(actor=root, user=reviewer)
    reviewer.refresh_from_db()
    assert not has_role(reviewer, Role.REVIEWER)
    assert not staff_departments(reviewer).exists()


def test_the_last_platform_admin_role_is_kept_unless_a_superuser_exists(make_staff, places, root):
    admin = make_staff("admin", places.market, Role.PLATFORM_ADMIN)
    type(root).objects.filter(pk=root.pk).update(is_superuser=False)
    with pytest.raises(DomainError):
        services.role_revoke(actor=admin, assignment=RoleAssignment.objects.get(user=admin))


def test_a_supervisor_sees_their_region_and_below(make_staff, places):
    supervisor = make_staff("supervisor", places.market, Role.SUPERVISOR, region=places.zy)
    assert set(scope_regions(supervisor)) == {places.zy, places.hhg}
    assert has_role(supervisor, Role.SUPERVISOR, region=places.hhg)
    assert has_role(supervisor, Role.SUPERVISOR, department=places.hhg_centre)
    assert not has_role(supervisor, Role.SUPERVISOR, region=places.gz)
    assert not has_role(supervisor, Role.SUPERVISOR, department=places.guiyang)
    visible = Department.objects.filter(scope_q(supervisor, department_field="pk", region_field="region"))
    assert set(visible) == {places.market, places.housing, places.hhg_centre}


def test_staff_see_their_department_only(make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    assert list(staff_departments(clerk)) == [places.market]
    assert not scope_regions(clerk).exists()
    visible = Department.objects.filter(scope_q(clerk, department_field="pk", region_field="region"))
    assert list(visible) == [places.market]


def test_citizens_are_scoped_to_nothing(make_citizen, places):
    citizen = make_citizen("citizen")
    assert not staff_departments(citizen).exists()
    assert not scope_regions(citizen).exists()
    assert not Department.objects.filter(scope_q(citizen, department_field="pk", region_field="region")).exists()


def test_staff_directory_is_scoped_to_administered_departments(market_admin, make_staff, places, root):
    from onewindow.accounts import selectors

    clerk = make_staff("clerk", places.market)
    builder = make_staff("builder", places.housing)
    assert_selector_scoping(selectors.staff_get, market_admin, visible=[clerk], hidden=[builder],
                            lookup=lambda user: {"user_id": user.pk})
    assert_selector_scoping(selectors.staff_get, root, visible=[clerk, builder], lookup=lambda u: {"user_id": u.pk})


# --- HTTP: the same scoping through the workbench pages ------------------------------------


def test_role_grant_page_in_another_department_is_404(client_as, market_admin, make_staff, places):
    builder = make_staff("builder", places.housing)
    client = client_as(market_admin)
    response = client.post(f"/accounts/staff/{builder.pk}/", {"role": Role.REVIEWER, "department": places.housing.pk})
    assert response.status_code == 404
    assert not RoleAssignment.objects.filter(user=builder).exists()


def test_role_grant_page_refuses_another_department_as_scope(client_as, market_admin, make_staff, places):
    clerk = make_staff("clerk", places.market)
    client = client_as(market_admin)
    response = client.post(f"/accounts/staff/{clerk.pk}/", {"role": Role.REVIEWER, "department": places.housing.pk})
    assert response.status_code == 400
    assert not RoleAssignment.objects.filter(user=clerk).exists()
    ok = client.post(f"/accounts/staff/{clerk.pk}/", {"role": Role.REVIEWER, "department": places.market.pk})
    assert ok.status_code == 302
    assert active_roles(clerk) == ["reviewer"]


def test_role_revoke_page_in_another_department_is_404(client_as, market_admin, make_staff, places):
    builder = make_staff("builder", places.housing, Role.REVIEWER)
    assignment = RoleAssignment.objects.get(user=builder)
    response = client_as(market_admin).post(f"/accounts/roles/{assignment.pk}/revoke/")
    assert response.status_code == 404
    assert RoleAssignment.objects.get(pk=assignment.pk).revoked_at is None


def test_staff_pages_are_for_administrators(client_as, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    assert client_as(clerk).get("/accounts/staff/").status_code == 403


def test_a_department_admin_opens_a_staff_account(client_as, market_admin, places):
    client = client_as(market_admin)
    page = client.get("/accounts/staff/")
    assert page.status_code == 200
    response = client.post("/accounts/staff/", {
        "department": places.market.pk, "username": "newclerk", "real_name": "新员工", "phone": "13700000001",
        "password1": "Kq7#tower-lantern", "password2": "Kq7#tower-lantern", "window_number": "B3",
    })
    assert response.status_code == 302
    refused = client.post("/accounts/staff/", {
        "department": places.housing.pk, "username": "elsewhere", "real_name": "外部门", "phone": "13700000002",
        "password1": "Kq7#tower-lantern", "password2": "Kq7#tower-lantern",
    })
    assert refused.status_code == 400
    assert not type(market_admin).objects.filter(username="elsewhere").exists()


# --- chief representatives -----------------------------------------------------------------


def authorise(actor, representative, department, **overrides):
    today = timezone.localdate()
    fields = {
        "representative": representative, "department": department, "scope_text": "窗口现场作出许可决定",
        "document_number": "遵市监授〔2026〕1号", "signatory": "局长", "signed_on": today,
        "valid_from": today, "valid_until": today + timedelta(days=365), "item_codes": ["XK00001000"],
    }
    return services.chief_authorisation_create(actor=actor, **{**fields, **overrides})


def test_may_decide_needs_the_role_and_a_written_authorisation_in_force(market_admin, make_staff, places):
    approver = make_staff("approver", places.market, Role.APPROVER)
    assert not may_decide(approver, places.market)
    authorisation = authorise(market_admin, approver, places.market)
    assert may_decide(approver, places.market)
    assert may_decide(approver, places.market, "XK00001000")
    assert not may_decide(approver, places.market, "XK00002000")
    assert not may_decide(approver, places.housing, "XK00001000")
    services.chief_authorisation_revoke(actor=market_admin, authorisation=authorisation, reason="调岗")
    assert not may_decide(approver, places.market, "XK00001000")


def test_all_items_covers_every_item_but_only_inside_the_period(market_admin, make_staff, places):
    approver = make_staff("approver", places.market, Role.APPROVER)
    authorisation = authorise(market_admin, approver, places.market, all_items=True, item_codes=[])
    assert may_decide(approver, places.market, "ANY0001")
    ChiefRepresentativeAuthorisation.objects.filter(pk=authorisation.pk).update(
        valid_until=timezone.localdate() - timedelta(days=1), valid_from=timezone.localdate() - timedelta(days=10))
    assert not may_decide(approver, places.market, "ANY0001")


def test_losing_the_approver_role_ends_the_power_to_decide(market_admin, make_staff, places):
    approver = make_staff("approver", places.market, Role.APPROVER)
    authorise(market_admin, approver, places.market, all_items=True)
    services.role_revoke(actor=market_admin, assignment=RoleAssignment.objects.get(user=approver))
    assert not may_decide(approver, places.market)


@pytest.mark.parametrize(
    "overrides",
    [{"item_codes": []}, {"item_codes": ["bad code!"]}, {"valid_until": date(2000, 1, 1)},
     {"signed_on": date(2999, 1, 1)}, {"document_number": ""}, {"signed_on": "2026-01-01"}],
)
def test_bad_authorisations_are_refused(market_admin, make_staff, places, overrides):
    approver = make_staff("approver", places.market, Role.APPROVER)
    with pytest.raises(InvalidInput):
        authorise(market_admin, approver, places.market, **overrides)
    assert not ChiefRepresentativeAuthorisation.objects.exists()


def test_only_approvers_of_the_department_and_its_admins_are_involved(market_admin, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK)
    with pytest.raises(InvalidInput):
        authorise(market_admin, clerk, places.market)
    builder = make_staff("builder", places.housing, Role.APPROVER)
    with pytest.raises(PermissionDenied):
        authorise(market_admin, builder, places.housing)


def test_authorisation_pages(client_as, market_admin, make_staff, places):
    approver = make_staff("approver", places.market, Role.APPROVER)
    client = client_as(market_admin)
    assert client.get("/accounts/authorisations/").status_code == 200
    today = timezone.localdate().isoformat()
    response = client.post("/accounts/authorisations/", {
        "department": places.market.pk, "representative": approver.pk, "scope_text": "全部许可事项",
        "all_items": "on", "document_number": "遵市监授〔2026〕2号", "signatory": "局长", "signed_on": today,
        "valid_from": today, "valid_until": "2099-12-31",
    })
    assert response.status_code == 302
    authorisation = ChiefRepresentativeAuthorisation.objects.get()
    assert permissions.may_decide(approver, places.market, "XK1")
    assert client.post(f"/accounts/authorisations/{authorisation.pk}/revoke/", {"reason": ""}).status_code == 400
    assert client.post(f"/accounts/authorisations/{authorisation.pk}/revoke/", {"reason": "离任"}).status_code == 302
    assert not permissions.may_decide(approver, places.market, "XK1")
