import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Notification(models.Model):
    """One message to one user; those sent to the "inbox" channel make up the in-app inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类别"), max_length=50, default="general")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    in_inbox = models.BooleanField(_("显示在消息中心"), default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"], name="core_notification_inbox", condition=models.Q(in_inbox=True)
            ),
            models.Index(
                fields=["recipient"],
                name="core_notification_unread",
                condition=models.Q(in_inbox=True, read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class NotificationDelivery(models.Model):
    """Outbox row: one channel's delivery of a notification, written in the same transaction.

    `key` identifies the delivery to outside gateways, so a resend after a crash can be
    recognised as the same message.
    """

    key = models.UUIDField(_("投递标识"), default=uuid.uuid4, unique=True, editable=False)
    notification = models.ForeignKey(
        Notification, verbose_name=_("消息"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("渠道"), max_length=20)
    address = models.CharField(_("地址"), max_length=254, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    last_error = models.TextField(_("最近错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("消息投递")
        verbose_name_plural = _("消息投递")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="core_delivery_one_per_channel"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="core_delivery_due", condition=models.Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.notification_id}"
