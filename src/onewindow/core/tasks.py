"""Core's background work: sending notification deliveries, now and on retry."""

from django_tasks import task

from onewindow.core import notifications
from onewindow.core.periodic import sweep


@task(queue_name="notifications")
def send_deliveries(delivery_ids: list[int]) -> int:
    """Send the outbox rows one `notify` wrote; returns how many this run sent."""
    return sum(notifications.deliver(pk) for pk in delivery_ids)


@sweep(every_seconds=30)
def notifications_retry() -> int:
    """Send every delivery that is due: retries after backoff, and rows whose job was lost."""
    return notifications.deliver_due()
