"""Notifications: transactional outbox, sending by the worker's sweep, retries, the inbox pages."""

import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from onewindow.core import notifications, periodic, tasks
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import AuditEntry, DeliveryStatus, Notification, NotificationDelivery

# --- channels standing in for a gateway, named by dotted path like the real ones ----------

sent_keys: list[str] = []
calls: list[str] = []


class RecordingSms(notifications.OutboxSmsChannel):
    def send(self, delivery):
        sent_keys.append(str(delivery.key))
        super().send(delivery)


class FailingSms(notifications.OutboxSmsChannel):
    def send(self, delivery):
        calls.append(str(delivery.key))
        raise ConnectionError("短信网关无响应")


class FlakySms(notifications.OutboxSmsChannel):
    """Fails twice, then works."""

    def send(self, delivery):
        calls.append(str(delivery.key))
        if len(calls) <= 2:
            raise ConnectionError("短信网关无响应")
        super().send(delivery)


class SweepDuringSendSms(notifications.OutboxSmsChannel):
    """While sending, a second sweep starts: the situation of two workers at once."""

    def send(self, delivery):
        sent_keys.append(str(delivery.key))
        if len(sent_keys) == 1:
            calls.append(f"nested sweep sent {tasks.notifications_send()}")
        super().send(delivery)


def channels(sms: str) -> dict[str, str]:
    return {
        "inbox": "onewindow.core.notifications.InboxChannel",
        "sms": f"{__name__}.{sms}",
        "email": "onewindow.core.notifications.EmailChannel",
    }


@pytest.fixture(autouse=True)
def clean_state(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    sent_keys.clear()
    calls.clear()
    yield


def sms_outbox(settings) -> list[dict]:
    path = settings.DATA_DIR / "outbox" / "sms.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@pytest.fixture
def alice(django_user_model):
    user = django_user_model.objects.create_user(username="alice", email="alice@example.cn", password="x-unused-1")
    user.phone = "13800138000"
    return user


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user(username="bob", email="bob@example.cn", password="x-unused-2")


def notify_all_channels(user, subject="您的申请已受理"):
    return notifications.notify(
        recipient=user,
        subject=subject,
        body="受理编号 2025-0001。",
        channels=("inbox", "sms", "email"),
        kind="case.accepted",
    )


# --- the transactional outbox -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_notify_in_a_rolled_back_transaction_sends_nothing(alice, settings, mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_all_channels(alice)
        raise RuntimeError("the service failed after notifying")

    assert Notification.objects.count() == 0
    assert NotificationDelivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert mailoutbox == []
    assert sms_outbox(settings) == []


@pytest.mark.django_db(transaction=True)
def test_committed_notify_writes_inbox_and_outbox_and_the_worker_sends(alice, settings, mailoutbox):
    with transaction.atomic():
        notification = notify_all_channels(alice)
    # The outbox rows are the queue: the service's transaction writes no job.
    assert DBTaskResult.objects.count() == 0

    deliveries = {d.channel: d for d in notification.deliveries.all()}
    assert set(deliveries) == {"inbox", "sms", "email"}
    # The inbox entry is delivered by being written; the others wait for the worker.
    assert (deliveries["inbox"].status, deliveries["inbox"].sent_at) == (DeliveryStatus.SENT, notification.created_at)
    assert {deliveries["sms"].status, deliveries["email"].status} == {DeliveryStatus.PENDING}
    assert deliveries["sms"].address == "13800138000"
    assert deliveries["email"].address == "alice@example.cn"
    assert sms_outbox(settings) == [] and mailoutbox == []

    # The burst worker enqueues the due sweeps, notifications_send among them, and runs them.
    call_command("worker", burst=True, verbosity=0)

    assert {d.status for d in notification.deliveries.all()} == {DeliveryStatus.SENT}
    assert all(d.sent_at and d.attempts == 1 for d in notification.deliveries.exclude(channel="inbox"))
    [sms] = sms_outbox(settings)
    assert sms["to"] == "13800138000"
    assert sms["key"] == str(deliveries["sms"].key)
    assert "您的申请已受理" in sms["text"] and "2025-0001" in sms["text"]
    [mail] = mailoutbox
    assert mail.to == ["alice@example.cn"]
    assert mail.subject == "您的申请已受理"
    assert str(deliveries["email"].key) in mail.extra_headers["Message-ID"]
    assert Notification.objects.get().read_at is None


@pytest.mark.django_db
def test_each_row_is_sent_once(alice, settings):
    notify_all_channels(alice)

    assert tasks.notifications_send() == 2  # the inbox entry was delivered when written
    assert tasks.notifications_send() == 0
    assert len(sms_outbox(settings)) == 1


@pytest.mark.django_db
def test_a_channel_without_an_address_is_recorded_as_failed(bob, settings, mailoutbox):
    notification = notifications.notify(recipient=bob, subject="通知", body="内容", channels=("inbox", "sms"))

    sms = notification.deliveries.get(channel="sms")
    assert sms.status == DeliveryStatus.FAILED
    assert sms.attempts == 0
    assert "地址" in sms.last_error
    assert notification.deliveries.get(channel="inbox").status == DeliveryStatus.SENT
    assert tasks.notifications_send() == 0  # nothing is left to send
    assert sms_outbox(settings) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channels": ("inbox", "fax")}, "channels"),
        ({"channels": ()}, "channels"),
        ({"subject": "第一行\nBcc: victim@example.cn"}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"body": ""}, "body"),
    ],
)
def test_bad_notification_is_refused_and_writes_nothing(alice, kwargs, field):
    arguments = {"recipient": alice, "subject": "通知", "body": "内容", **kwargs}
    with pytest.raises(InvalidInput) as refused:
        notifications.notify(**arguments)
    assert refused.value.field == field
    assert Notification.objects.count() == NotificationDelivery.objects.count() == 0


# --- retries ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_failing_channel_is_retried_with_backoff_then_marked_failed(alice, settings):
    settings.NOTIFICATION_CHANNELS = channels("FailingSms")
    sms = notifications.notify(recipient=alice, subject="通知", body="内容", channels=("sms",)).deliveries.get()

    now = timezone.now()
    waits = []
    for attempt in range(1, notifications.MAX_ATTEMPTS + 1):
        assert notifications.deliver_due(now=now) == 0
        sms.refresh_from_db()
        assert sms.attempts == attempt
        assert "短信网关无响应" in sms.last_error
        if attempt < notifications.MAX_ATTEMPTS:
            assert sms.status == DeliveryStatus.PENDING
            wait = sms.next_attempt_at - now
            waits.append(wait.total_seconds())
            # Not due before the backoff has passed.
            assert notifications.deliver_due(now=now + wait - timedelta(seconds=1)) == 0
            assert len(calls) == attempt
            now += wait

    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    assert sms.status == DeliveryStatus.FAILED
    # Given up: later sweeps leave it alone.
    assert notifications.deliver_due(now=now + timedelta(days=1)) == 0
    assert len(calls) == notifications.MAX_ATTEMPTS
    assert sms_outbox(settings) == []


@pytest.mark.django_db
def test_flaky_channel_succeeds_on_a_later_sweep(alice, settings):
    settings.NOTIFICATION_CHANNELS = channels("FlakySms")
    sms = notifications.notify(recipient=alice, subject="通知", body="内容", channels=("sms",)).deliveries.get()

    now = timezone.now()
    sent = [notifications.deliver_due(now=now + timedelta(hours=hour)) for hour in range(4)]

    assert sent == [0, 0, 1, 0]
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (DeliveryStatus.SENT, 3, "")
    assert len(sms_outbox(settings)) == 1


@pytest.mark.django_db
def test_admin_retry_requeues_a_failed_delivery(admin_client, alice, settings):
    settings.NOTIFICATION_CHANNELS = channels("FailingSms")
    sms = notifications.notify(recipient=alice, subject="通知", body="内容", channels=("sms",)).deliveries.get()
    NotificationDelivery.objects.filter(pk=sms.pk).update(status=DeliveryStatus.FAILED, attempts=8)

    listing = admin_client.get(reverse("admin:core_notificationdelivery_changelist"))
    assert listing.status_code == 200
    assert "13800138000" not in listing.content.decode()
    response = admin_client.post(
        reverse("admin:core_notificationdelivery_changelist"), {"action": "retry", "_selected_action": [sms.pk]}
    )

    assert response.status_code == 302
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (DeliveryStatus.PENDING, 0)
    assert AuditEntry.objects.filter(action="notification_delivery.retry").count() == 1
    assert admin_client.get(reverse("admin:core_notificationdelivery_change", args=[sms.pk])).status_code == 200
    assert admin_client.get(reverse("admin:core_notificationdelivery_add")).status_code == 403


def test_send_sweep_is_registered():
    sweep = periodic.registry["onewindow.core.tasks.notifications_send"]
    assert sweep.every_seconds == 2


# --- no double sending --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sweep_starting_mid_send_does_not_send_the_row_again(alice, bob, settings):
    settings.NOTIFICATION_CHANNELS = channels("SweepDuringSendSms")
    bob.phone = "13900139000"
    for user in (alice, bob):
        notifications.notify(recipient=user, subject="通知", body="内容", channels=("sms",))

    outer = tasks.notifications_send()

    # The nested sweep could not claim the row being sent, so it sent only the other one.
    assert calls == ["nested sweep sent 1"]
    assert outer == 1
    assert sorted(sent_keys) == sorted(str(k) for k in NotificationDelivery.objects.values_list("key", flat=True))
    assert len([line["key"] for line in sms_outbox(settings)]) == 2
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_send_each_row_once(django_user_model, settings):
    settings.NOTIFICATION_CHANNELS = channels("RecordingSms")
    for number in range(12):
        user = django_user_model.objects.create_user(username=f"u{number}", password="x-unused")
        user.phone = f"1380000{number:04d}"
        notifications.notify(recipient=user, subject="通知", body="内容", channels=("sms",))
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            start.wait(timeout=30)
            results.append(notifications.deliver_due())
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(results) == 12
    assert len(sent_keys) == len(set(sent_keys)) == 12
    assert len(sms_outbox(settings)) == 12
    assert set(NotificationDelivery.objects.values_list("attempts", flat=True)) == {1}


# --- the inbox ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_inbox_shows_only_the_users_own_notifications(client, alice, bob):
    notifications.notify(recipient=alice, subject="爱丽丝的通知", body="内容")
    notifications.notify(recipient=bob, subject="鲍勃的通知", body="内容")

    client.force_login(alice)
    page = client.get(reverse("core:inbox")).content.decode()

    assert "爱丽丝的通知" in page
    assert "鲍勃的通知" not in page
    assert list(notifications.inbox(actor=alice).values_list("subject", flat=True)) == ["爱丽丝的通知"]


@pytest.mark.django_db
def test_a_notification_sent_only_by_sms_is_not_in_the_inbox(client, alice):
    sms_only = notifications.notify(recipient=alice, subject="验证码", body="您的验证码为123456。", channels=("sms",))

    client.force_login(alice)
    assert "验证码" not in client.get(reverse("core:inbox")).content.decode()
    assert notifications.unread_count(actor=alice) == 0
    assert client.post(reverse("core:inbox_mark_read", args=[sms_only.pk])).status_code == 404


@pytest.mark.django_db
def test_someone_elses_notification_is_404_and_stays_unread(client, alice, bob):
    theirs = notifications.notify(recipient=alice, subject="爱丽丝的通知", body="内容")

    client.force_login(bob)
    assert client.post(reverse("core:inbox_mark_read", args=[theirs.pk])).status_code == 404
    with pytest.raises(NotFound):
        notifications.notification_mark_read(actor=bob, notification_id=theirs.pk)

    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert AuditEntry.objects.filter(action="notification.read").count() == 0


@pytest.mark.django_db
def test_mark_read_returns_a_fragment_to_htmx(client, alice):
    mine = notifications.notify(recipient=alice, subject="补正通知", body="请补交身份证复印件。")
    client.force_login(alice)

    response = client.post(reverse("core:inbox_mark_read", args=[mine.pk]), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Trigger"] == "inbox-changed"
    fragment = response.content.decode()
    assert fragment.lstrip().startswith(f'<li id="notification-{mine.pk}"')
    assert "补正通知" in fragment
    assert reverse("core:inbox_mark_read", args=[mine.pk]) not in fragment
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert AuditEntry.objects.filter(action="notification.read", object_id=str(mine.pk)).count() == 1

    # Marking it again changes nothing and records nothing.
    client.post(reverse("core:inbox_mark_read", args=[mine.pk]))
    assert AuditEntry.objects.filter(action="notification.read").count() == 1


@pytest.mark.django_db
def test_mark_read_without_htmx_redirects_back(client, alice):
    mine = notifications.notify(recipient=alice, subject="通知", body="内容")
    client.force_login(alice)

    response = client.post(reverse("core:inbox_mark_read", args=[mine.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("core:inbox")
    assert client.get(reverse("core:inbox_mark_read", args=[mine.pk])).status_code == 405


@pytest.mark.django_db
def test_unread_badge_and_mark_all_read(client, alice, bob):
    for number in range(3):
        notifications.notify(recipient=alice, subject=f"通知{number}", body="内容")
    notifications.notify(recipient=bob, subject="别人的", body="内容")
    client.force_login(alice)

    badge = client.get(reverse("core:inbox_unread_count")).content.decode()
    assert '<span class="badge"' in badge and ">3</span>" in badge

    assert client.post(reverse("core:inbox_mark_all_read")).status_code == 302
    assert notifications.unread_count(actor=alice) == 0
    assert notifications.unread_count(actor=bob) == 1
    assert "badge" not in client.get(reverse("core:inbox_unread_count")).content.decode()


@pytest.mark.django_db
def test_visitors_are_sent_to_login_and_get_an_empty_badge(client):
    response = client.get(reverse("core:inbox"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    badge = client.get(reverse("core:inbox_unread_count"))
    assert badge.status_code == 200
    assert badge.content.strip() == b""
