"""The admin sits behind the platform login and its second factor."""

import pytest
from django.urls import reverse

from onewindow.accounts.choices import AccountKind


@pytest.mark.django_db
def test_admin_needs_the_second_factor(client, make_user, admin_client):
    superuser = make_user("root2", kind=AccountKind.STAFF, otp=True, is_staff=True, is_superuser=True)
    client.force_login(superuser)  # password only: no verified device in the session

    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    login = client.get(response["Location"])
    assert login["Location"].startswith(reverse("accounts:verify"))

    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_anonymous_admin_visitors_go_to_the_platform_login(client):
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=%2Fadmin%2F" in response["Location"]
