"""Notification deliveries (the outbox) in the admin: read-only, with a retry action."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onewindow.core import notifications
from onewindow.core.models import NotificationDelivery


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "subject", "recipient", "channel", "masked_address", "status", "attempts", "next_attempt_at", "sent_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["notification__subject", "notification__recipient__username", "key"]
    list_select_related = ["notification__recipient"]
    fields = [
        "key", "notification", "channel", "masked_address", "status", "attempts", "next_attempt_at", "last_error",
        "sent_at", "created_at",
    ]
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description=_("标题"))
    def subject(self, delivery: NotificationDelivery) -> str:
        return delivery.notification.subject

    @admin.display(description=_("接收人"))
    def recipient(self, delivery: NotificationDelivery) -> str:
        return str(delivery.notification.recipient)

    @admin.display(description=_("地址"))
    def masked_address(self, delivery: NotificationDelivery) -> str:
        return notifications.mask_address(delivery.address)

    @admin.action(description=_("重新发送所选的失败投递"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[NotificationDelivery]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        count = notifications.delivery_retry(actor=request.user, delivery_ids=ids)
        if count:
            self.message_user(
                request, ngettext("已重新排队 %(count)d 条投递。", "已重新排队 %(count)d 条投递。", count) % {"count": count}
            )
        else:
            self.message_user(request, _("所选投递中没有发送失败的。"), messages.WARNING)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The list's retry action needs change permission; a single row stays read-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
