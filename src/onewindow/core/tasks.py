"""Core's background work: sending notification deliveries, pruning finished jobs."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from onewindow.core import notifications
from onewindow.core.periodic import sweep


# Often enough that an SMS follows its case action within a few seconds.
@sweep(every_seconds=2)
def notifications_send() -> int:
    """Send every delivery that is due: new rows, and retries whose backoff has passed."""
    return notifications.deliver_due()


# The database backend keeps a row per job it ran; the sweeps alone add tens of thousands a day.
FINISHED_JOBS_KEPT = timedelta(days=7)
FAILED_JOBS_KEPT = timedelta(days=30)


@sweep(every_seconds=3600)
def task_results_prune() -> int:
    """Delete the database backend's rows of jobs that succeeded a week ago or failed a month ago."""
    if settings.TASK_BACKEND != "database":
        return 0
    now = timezone.now()
    jobs = DBTaskResult.objects
    deleted, _ = (jobs.successful().filter(finished_at__lt=now - FINISHED_JOBS_KEPT)
                  | jobs.failed().filter(finished_at__lt=now - FAILED_JOBS_KEPT)).delete()
    return deleted
