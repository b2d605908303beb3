"""Notifications: the in-app inbox plus SMS and email, sent through a transactional outbox.

A service calls `notify(...)` inside its own transaction:

    notify(recipient=case.applicant, subject=_("您的申请已受理"), body=..., channels=("inbox", "sms"))

which writes the Notification (the inbox entry) and one NotificationDelivery row per channel in
that transaction, so a rolled-back service sends nothing. The outbox rows are the queue: the
worker's `notifications_send` sweep (every 2 s) sends every row that is due, new ones and
retries alike. A job per notification would cost each service an extra row in its own
transaction (about a tenth of a case action's work) for a gain of a second or two. Every attempt
first claims its row with a conditional update, so two workers never send one row at once,
and a sent row is never sent again. A failed attempt is retried after 30 s, 1 min, 2 min, ...
(at most an hour apart) until MAX_ATTEMPTS, then the row is marked failed for an operator to
retry from the admin.

Channels are classes named by dotted path in `settings.NOTIFICATION_CHANNELS`; each has
`address(recipient) -> str` and `send(delivery) -> None`, raising on failure.
"""

import abc
import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from onewindow.core import audit
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import DeliveryStatus, Notification, NotificationDelivery
from onewindow.core.prepared import insert

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A claimed row is not due again for this long; a worker that dies mid-send is retried after it.
CLAIM_SECONDS = 300
SWEEP_BATCH = 100


def backoff_seconds(attempts: int) -> int:
    """Wait before the next try after `attempts` failed tries."""
    return min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS)


def mask_address(address: str) -> str:
    """An address for logs and admin lists: enough to tell rows apart, not to contact anyone."""
    local, at, domain = address.partition("@")
    if at:
        return f"{local[:1]}***@{domain}"
    return f"{address[:3]}****{address[-4:]}" if len(address) > 7 else "*" * len(address)


# --- channels -----------------------------------------------------------------------------


class Channel(abc.ABC):
    """One way to reach a user. `send` raises on failure; the caller records and retries."""

    needs_address = True
    # Delivered by the write itself: its outbox row is written as sent, and no job is queued.
    delivered_on_write = False

    def address(self, recipient: Any) -> str:
        return ""

    @abc.abstractmethod
    def send(self, delivery: NotificationDelivery) -> None: ...


class InboxChannel(Channel):
    """The Notification row is the inbox entry: it is delivered when it is written."""

    needs_address = False
    delivered_on_write = True

    def send(self, delivery: NotificationDelivery) -> None:
        return None


class OutboxSmsChannel(Channel):
    """SMS written to DATA_DIR/outbox/sms.jsonl (one JSON object per line) and logged.

    This is the adapter point for a real SMS gateway: subclass it (or write a Channel) whose
    `send` calls the gateway with `delivery.address`, `self.text(delivery)` and
    `str(delivery.key)` as the client message id, raising on any refusal, and name the class
    in ONEWINDOW_SMS_CHANNEL. A resend after a crash carries the same key, so the gateway or
    the reader of the outbox file can drop duplicates.
    """

    def address(self, recipient: Any) -> str:
        return getattr(recipient, "phone", "") or ""

    def text(self, delivery: NotificationDelivery) -> str:
        notification = delivery.notification
        return _("%(subject)s：%(body)s") % {"subject": notification.subject, "body": notification.body}

    def send(self, delivery: NotificationDelivery) -> None:
        if not delivery.address:
            raise ValueError("no phone number")
        outbox = Path(settings.DATA_DIR) / "outbox"
        outbox.mkdir(mode=0o750, parents=True, exist_ok=True)
        line = json.dumps(
            {
                "key": str(delivery.key),
                "to": delivery.address,
                "text": self.text(delivery),
                "queued_at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        # One short append per message: concurrent workers' lines do not interleave.
        with open(outbox / "sms.jsonl", "a", encoding="utf-8", opener=_open_private) as out:
            out.write(line + "\n")
        logger.info("SMS %s queued for %s", delivery.key, mask_address(delivery.address))


def _open_private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o640)


class EmailChannel(Channel):
    """Email through Django's mail framework (settings.EMAIL_BACKEND).

    The Message-ID is derived from the delivery key, so a resend after a crash is recognisable.
    """

    def address(self, recipient: Any) -> str:
        return getattr(recipient, "email", "") or ""

    def send(self, delivery: NotificationDelivery) -> None:
        if not delivery.address:
            raise ValueError("no email address")
        notification = delivery.notification
        EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[delivery.address],
            headers={"Message-ID": f"<{delivery.key}@{DNS_NAME}>"},
        ).send(fail_silently=False)


def get_channel(name: str) -> Channel:
    """The channel configured under `name` in settings.NOTIFICATION_CHANNELS."""
    return import_string(settings.NOTIFICATION_CHANNELS[name])()


# --- writing ------------------------------------------------------------------------------


def notify(
    *,
    recipient: Any,
    subject: str,
    body: str,
    channels: Sequence[str] = ("inbox",),
    kind: str = "general",
) -> Notification:
    """Write the inbox entry and one outbox row per channel in the caller's transaction.

    Sending starts after the commit; nothing is sent if the transaction rolls back. A channel
    the recipient has no address for (no phone for "sms") gets a row marked failed at once,
    so the gap shows in the admin instead of vanishing.
    """
    channels = list(dict.fromkeys(channels))
    unknown = [name for name in channels if name not in settings.NOTIFICATION_CHANNELS]
    if unknown:
        names = pgettext("list separator", "、").join(unknown)
        raise InvalidInput(_("未知的通知渠道：%(names)s。") % {"names": names}, field="channels")
    if not channels:
        raise InvalidInput(_("请至少选择一个通知渠道。"), field="channels")
    if getattr(recipient, "pk", None) is None:
        raise InvalidInput(_("通知的接收人无效。"), field="recipient")
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or len(subject) > 200 or "\n" in subject or "\r" in subject:
        raise InvalidInput(_("通知标题应为不超过200字的一行文字。"), field="subject")
    if not body:
        raise InvalidInput(_("通知内容不能为空。"), field="body")
    if not kind or len(kind) > 50:
        raise InvalidInput(_("通知类别无效。"), field="kind")

    return _write(recipient=recipient, subject=subject, body=body, channels=channels, kind=kind)


# Refusals come before this, so inside a service's transaction it needs no savepoint of its own.
@transaction.atomic(savepoint=False)
def _write(*, recipient: Any, subject: str, body: str, channels: list[str], kind: str) -> Notification:
    notification = Notification(recipient=recipient, kind=kind, subject=subject, body=body,
                                in_inbox="inbox" in channels)
    insert(notification)
    deliveries = []
    for name in channels:
        channel = get_channel(name)
        address = channel.address(recipient)
        missing = channel.needs_address and not address
        status = DeliveryStatus.FAILED if missing else (
            DeliveryStatus.SENT if channel.delivered_on_write else DeliveryStatus.PENDING)
        deliveries.append(NotificationDelivery(
            notification=notification,
            channel=name,
            address=address,
            status=status,
            sent_at=notification.created_at if status == DeliveryStatus.SENT else None,
            last_error=_("接收人没有登记该渠道的地址。") if missing else "",
        ))
    insert(*deliveries)
    return notification


# --- sending ------------------------------------------------------------------------------


def deliver(delivery_id: int, *, now: datetime | None = None) -> bool:
    """Claim one due pending delivery and send it; True when it was sent by this call.

    The claim is a conditional update (due and pending → not due for CLAIM_SECONDS, one more
    attempt), so of two workers reaching the same row only one sends it.
    """
    now = now or timezone.now()
    claimed = NotificationDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    if not claimed:
        return False
    delivery = NotificationDelivery.objects.select_related("notification__recipient").get(pk=delivery_id)
    try:
        get_channel(delivery.channel).send(delivery)
    except Exception as exc:
        # Any failure of a channel (gateway, network, configuration) is recorded and retried.
        logger.warning(
            "delivery %s via %s failed (attempt %s): %r", delivery.key, delivery.channel, delivery.attempts, exc
        )
        _record_failure(delivery, exc, now)
        return False
    NotificationDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _record_failure(delivery: NotificationDelivery, exc: Exception, now: datetime) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    # Conditional on the attempt this worker claimed, so a late worker cannot overwrite a newer one.
    rows = NotificationDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    )
    if delivery.attempts >= MAX_ATTEMPTS:
        rows.update(status=DeliveryStatus.FAILED, last_error=error)
    else:
        rows.update(next_attempt_at=now + timedelta(seconds=backoff_seconds(delivery.attempts)), last_error=error)


def deliver_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Try every pending delivery that is due (oldest first); returns how many were sent."""
    now = now or timezone.now()
    due = NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(deliver(pk, now=now) for pk in ids)


@transaction.atomic
def delivery_retry(*, actor: Any, delivery_ids: Sequence[int]) -> int:
    """Put failed deliveries back in the queue with a fresh set of attempts; returns how many."""
    ids = list(
        NotificationDelivery.objects.filter(pk__in=list(delivery_ids), status=DeliveryStatus.FAILED).values_list(
            "pk", flat=True
        )
    )
    if not ids:
        return 0
    NotificationDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    audit.record(
        actor=actor,
        action="notification_delivery.retry",
        object_type=NotificationDelivery._meta.label_lower,
        after={"ids": ids},
    )
    return len(ids)


# --- the inbox ----------------------------------------------------------------------------


def inbox(*, actor: Any) -> QuerySet[Notification]:
    """The actor's own notifications sent to the inbox channel, newest first."""
    return Notification.objects.filter(recipient_id=getattr(actor, "pk", None), in_inbox=True)


def unread_count(*, actor: Any) -> int:
    return inbox(actor=actor).filter(read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, actor: Any, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read; someone else's is NotFound."""
    notification = inbox(actor=actor).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound(_("消息不存在。"))
    if notification.read_at is None:
        now = timezone.now()
        if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
            notification.read_at = now
            audit.record(actor=actor, action="notification.read", target=notification)
        else:
            notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: Any) -> int:
    """Mark all of the actor's unread notifications read; returns how many changed."""
    count = inbox(actor=actor).filter(read_at__isnull=True).update(read_at=timezone.now())
    if count:
        audit.record(
            actor=actor,
            action="notification.read_all",
            object_type=Notification._meta.label_lower,
            after={"count": count},
        )
    return count
