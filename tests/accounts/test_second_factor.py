from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts import services
from onewindow.accounts.choices import Role
from onewindow.accounts.models import NotificationCodeDevice, UserSession
from onewindow.core.models import Notification
from tests.accounts.conftest import PASSWORD, totp_now

pytestmark = pytest.mark.django_db

STAFF_PAGE = "/accounts/staff/"
VERIFY = "/accounts/verify/"


@pytest.fixture
def admin_staff(make_staff, places):
    return make_staff("deptadmin", places.market, Role.DEPARTMENT_ADMIN)


def password_login(client: Client, user) -> None:
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_staff_login_goes_to_the_second_factor(client, admin_staff):
    response = client.post("/accounts/login/", {"username": admin_staff.username, "password": PASSWORD})
    assert response["Location"].startswith(VERIFY)


def test_staff_pages_need_the_second_factor(client, admin_staff):
    password_login(client, admin_staff)
    response = client.get(STAFF_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


def test_anonymous_visitors_are_sent_to_login_and_citizens_are_refused(client, make_citizen):
    assert client.get(STAFF_PAGE)["Location"].startswith("/accounts/login/")
    client.force_login(make_citizen("citizen"))
    response = client.get(STAFF_PAGE)
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_a_totp_code_opens_staff_pages_and_rotates_the_session(client, admin_staff):
    password_login(client, admin_staff)
    before = client.session.session_key
    device = TOTPDevice.objects.get(user=admin_staff)
    response = client.post(VERIFY, {"method": "totp", "token": totp_now(device), "next": STAFF_PAGE})
    assert response.status_code == 302
    assert response["Location"] == STAFF_PAGE
    assert client.get(STAFF_PAGE).status_code == 200
    after = client.session.session_key
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    # The session register follows the new key, so the session can still be ended.
    assert UserSession.objects.filter(user=admin_staff, session_key=after).exists()


def test_the_same_totp_code_cannot_be_used_twice(admin_staff):
    device = TOTPDevice.objects.get(user=admin_staff)
    code = totp_now(device)
    first, second = Client(), Client()
    password_login(first, admin_staff)
    password_login(second, admin_staff)
    assert first.post(VERIFY, {"method": "totp", "token": code}).status_code == 302
    refused = second.post(VERIFY, {"method": "totp", "token": code})
    assert refused.status_code == 400
    assert "验证码不正确、已使用或已过期" in refused.content.decode()
    assert second.get(STAFF_PAGE)["Location"].startswith(VERIFY)


def test_a_wrong_totp_code_is_refused(client, admin_staff):
    password_login(client, admin_staff)
    device = TOTPDevice.objects.get(user=admin_staff)
    wrong = f"{(int(totp_now(device)) + 500000) % 1000000:06d}"
    assert client.post(VERIFY, {"method": "totp", "token": wrong}).status_code == 400
    assert client.post(VERIFY, {"method": "totp", "token": "abc"}).status_code == 400
    assert client.get(STAFF_PAGE)["Location"].startswith(VERIFY)


def sms_code(user) -> str:
    return NotificationCodeDevice.objects.get(user=user).token


def test_an_sms_code_works_once(client, admin_staff):
    password_login(client, admin_staff)
    assert client.post("/accounts/verify/send/").status_code == 302
    notification = Notification.objects.get(recipient=admin_staff, kind="accounts.otp_code")
    code = sms_code(admin_staff)
    assert code in notification.body
    assert list(notification.deliveries.values_list("channel", flat=True)) == ["sms"]
    assert client.post(VERIFY, {"method": "sms", "token": code}).status_code == 302
    assert client.get(STAFF_PAGE).status_code == 200

    other = Client()
    password_login(other, admin_staff)
    assert other.post(VERIFY, {"method": "sms", "token": code}).status_code == 400
    assert other.get(STAFF_PAGE)["Location"].startswith(VERIFY)


def test_an_sms_code_expires_after_ten_minutes(client, admin_staff):
    password_login(client, admin_staff)
    client.post("/accounts/verify/send/")
    device = NotificationCodeDevice.objects.get(user=admin_staff)
    assert device.valid_until <= timezone.now() + timedelta(minutes=10)
    NotificationCodeDevice.objects.filter(pk=device.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    expired = client.post(VERIFY, {"method": "sms", "token": device.token})
    assert expired.status_code == 400
    assert "验证码不正确、已使用或已过期" in expired.content.decode()
    assert client.get(STAFF_PAGE)["Location"].startswith(VERIFY)


def test_resending_an_sms_code_is_rate_limited(client, admin_staff):
    password_login(client, admin_staff)
    assert client.post("/accounts/verify/send/").status_code == 302
    again = client.post("/accounts/verify/send/")
    assert again.status_code == 429
    assert "验证码发送过于频繁" in again.content.decode()
    # After the resend interval a new code may be sent, up to the hourly limit.
    device = NotificationCodeDevice.objects.get(user=admin_staff)
    for _ in range(4):
        NotificationCodeDevice.objects.filter(pk=device.pk).update(last_generated_timestamp=None)
        assert client.post("/accounts/verify/send/").status_code == 302
    NotificationCodeDevice.objects.filter(pk=device.pk).update(last_generated_timestamp=None)
    assert client.post("/accounts/verify/send/").status_code == 429


def test_a_guessed_sms_code_dies_after_five_misses(admin_staff):
    device = services.otp_code_send(actor=admin_staff)
    code = device.token
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(5):
        # Step past the exponential back-off instead of waiting it out.
        NotificationCodeDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
        assert not services.second_factor_verify(actor=admin_staff, device=device, token=wrong)
    NotificationCodeDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    assert not services.second_factor_verify(actor=admin_staff, device=device, token=code)


def test_staff_without_a_phone_cannot_ask_for_an_sms_code(client, admin_staff):
    type(admin_staff).objects.filter(pk=admin_staff.pk).update(phone="")
    password_login(client, admin_staff)
    response = client.post("/accounts/verify/send/")
    assert response.status_code == 409
    assert "未登记手机号码" in response.content.decode()


def test_enrolling_an_authenticator_needs_a_verified_session(client, make_staff, places):
    clerk = make_staff("clerk", places.market, Role.WINDOW_CLERK, totp=False)
    password_login(client, clerk)
    assert client.get("/accounts/totp/")["Location"].startswith(VERIFY)
    assert client.post("/accounts/totp/", {"action": "start"})["Location"].startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=clerk).exists()

    client.post("/accounts/verify/send/")
    assert client.post(VERIFY, {"method": "sms", "token": sms_code(clerk)}).status_code == 302
    assert client.post("/accounts/totp/", {"action": "start"}).status_code == 302
    page = client.get("/accounts/totp/")
    assert "otpauth://totp/" in page.content.decode()
    pending = TOTPDevice.objects.get(user=clerk, confirmed=False)
    assert client.post("/accounts/totp/", {"action": "confirm", "token": "000000"}).status_code == 400
    # The wrong code counts against the device's throttle, as a wrong code at sign-in does.
    assert TOTPDevice.objects.get(pk=pending.pk).throttling_failure_count == 1
    TOTPDevice.objects.filter(pk=pending.pk).update(throttling_failure_timestamp=None)
    response = client.post("/accounts/totp/", {"action": "confirm", "token": totp_now(pending)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(pk=pending.pk).confirmed


def test_citizens_are_not_asked_for_a_second_factor(client, make_citizen):
    citizen = make_citizen("citizen")
    response = client.post("/accounts/login/", {"username": citizen.username, "password": PASSWORD})
    assert response["Location"] == "/"
    assert client.get(VERIFY)["Location"] == "/"


def test_citizens_cannot_ask_for_sms_codes(client, make_citizen):
    client.force_login(make_citizen("citizen", phone="13912345678"))
    assert client.post("/accounts/verify/send/").status_code == 403
    assert not NotificationCodeDevice.objects.exists()
