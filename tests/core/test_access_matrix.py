import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.core.errors import NotFound
from onewindow.core.testing.access_matrix import (
    AccessCase,
    assert_access_matrix,
    assert_selector_scoping,
    describe_response,
    login_as,
)

pytestmark = pytest.mark.django_db


def url(name):
    return lambda objects: reverse(name)


SHELL_CASES = [
    AccessCase(actor="anonymous", url=url("core:home"), expect="allowed"),
    AccessCase(actor="anonymous", url=url("core:workbench"), expect="login"),
    AccessCase(actor="anonymous", url=url("core:supervision"), expect="login"),
    AccessCase(actor="citizen", url=url("core:home"), expect="allowed"),
    AccessCase(actor="citizen", url=url("core:workbench"), expect=403),
    AccessCase(actor="citizen", url=url("core:supervision"), expect=403),
    AccessCase(actor="staff", url=url("core:home"), expect="allowed"),
    AccessCase(actor="staff", url=url("core:workbench"), expect="allowed"),
    AccessCase(actor="staff", url=url("core:supervision"), expect=403),
    AccessCase(actor="supervisor", url=url("core:supervision"), expect="allowed"),
]


@pytest.fixture
def actors(citizen, staff, supervisor):
    return {"anonymous": None, "citizen": citizen, "staff": staff, "supervisor": supervisor}


def test_shell_pages_matrix(client, actors):
    assert_access_matrix(client, SHELL_CASES, actors)


def test_a_wrong_cell_fails_and_every_wrong_cell_is_reported(client, actors):
    cases = [
        *SHELL_CASES,
        AccessCase(actor="citizen", url=url("core:workbench"), obj="shell", expect="allowed"),
        AccessCase(actor="anonymous", url=url("core:home"), obj="shell", expect=404),
    ]
    with pytest.raises(AssertionError) as failure:
        assert_access_matrix(client, cases, actors)
    message = str(failure.value)
    assert f"2 of {len(cases)} cells wrong" in message
    rows = [line for line in message.splitlines() if line.startswith(("citizen", "anonymous", "staff"))]
    assert len(rows) == 2
    citizen_row = next(row for row in rows if row.startswith("citizen"))
    assert "GET /workbench/" in citizen_row and "allowed" in citizen_row and "403" in citizen_row
    anonymous_row = next(row for row in rows if row.startswith("anonymous"))
    assert "GET /" in anonymous_row and "404" in anonymous_row and "allowed (200)" in anonymous_row


def test_login_redirect_and_other_redirects_are_told_apart(client, actors):
    # A redirect to the login page is "login", not "allowed".
    with pytest.raises(AssertionError, match=r"login \(302 → /accounts/login/\?next="):
        assert_access_matrix(
            client, [AccessCase(actor="anonymous", url=url("core:workbench"), expect="allowed")], actors
        )


def test_a_crashing_url_is_reported_as_a_wrong_cell(client, actors):
    def broken(objects):
        return reverse("core:home", args=[objects["missing"].pk])

    cases = [AccessCase(actor="anonymous", url=broken, obj="missing", expect="allowed"), *SHELL_CASES]
    with pytest.raises(AssertionError, match=f"1 of {len(cases)} cells wrong") as failure:
        assert_access_matrix(client, cases, actors)
    assert "url failed: KeyError('missing')" in str(failure.value)


def test_unknown_actor_is_a_usage_error(client, actors):
    with pytest.raises(ValueError, match="nobody"):
        assert_access_matrix(client, [AccessCase(actor="nobody", url="/", expect="allowed")], actors)


def test_login_as_verifies_the_second_factor_for_users_with_a_device(client, staff, citizen):
    login_as(client, staff)
    device = TOTPDevice.objects.get(user=staff)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("core:workbench")).status_code == 200

    login_as(client, citizen)
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert int(client.session["_auth_user_id"]) == citizen.pk

    login_as(client, None)
    assert "_auth_user_id" not in client.session


def test_a_session_without_the_second_factor_counts_as_not_signed_in(client, make_user):
    # force_login alone skips the second factor; staff pages send such a session on to it.
    unverified = make_user("unverified", kind="staff", otp=True)
    cases = [AccessCase(actor="unverified", url=url("core:workbench"), expect="login")]
    assert_access_matrix(client, cases, {"unverified": unverified}, sign_in=Client.force_login)

    client.force_login(unverified)
    outcome = describe_response(client.get(reverse("core:workbench")))
    assert outcome == ("login", "login (302 → /accounts/verify/?next=%2Fworkbench%2F)")


# A selector written the project's way: scoped by the actor, outsiders get NotFound.
def users_visible_to(*, actor):
    return get_user_model().objects.filter(pk=actor.pk)


def user_get(*, actor, user_id):
    if user_id != actor.pk:
        raise NotFound("not yours")
    return get_user_model().objects.get(pk=user_id)


def test_selector_scoping_passes_for_a_correct_selector(citizen, staff):
    assert_selector_scoping(users_visible_to, citizen, visible=[citizen], hidden=[staff])
    assert_selector_scoping(
        user_get, citizen, visible=[citizen], hidden=[staff], lookup=lambda user: {"user_id": user.pk}
    )


def test_selector_scoping_reports_every_leak_and_every_miss(citizen, staff):
    def leaky(*, actor):
        return get_user_model().objects.filter(pk=staff.pk)

    with pytest.raises(AssertionError) as failure:
        assert_selector_scoping(leaky, citizen, visible=[citizen], hidden=[staff])
    message = str(failure.value)
    assert "2 wrong" in message
    assert f"visible but missing: {citizen!r}" in message
    assert f"hidden but returned: {staff!r}" in message

    def leaky_get(*, actor, user_id):
        return get_user_model().objects.get(pk=user_id)

    with pytest.raises(AssertionError, match=f"hidden but returned: {staff!r}"):
        assert_selector_scoping(
            leaky_get, citizen, visible=[citizen], hidden=[staff], lookup=lambda user: {"user_id": user.pk}
        )
