import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.translation import gettext as _

from onewindow.core import periodic

logger = logging.getLogger(__name__)

# RQ jobs enqueued by django-tasks must be run by its job class (it calls the task function).
RQ_JOB_CLASS = "django_tasks_rq.Job"


class Command(BaseCommand):
    help = _("运行后台任务与定时巡检（任务持久化在数据库中，重启后继续执行）")

    def add_arguments(self, parser):
        parser.add_argument("--tick", type=float, default=1.0, help=_("巡检调度间隔（秒）"))
        parser.add_argument("--no-scheduler", action="store_true", help=_("只执行任务，不调度定时巡检"))
        parser.add_argument(
            "--burst", action="store_true", help=_("排入到期的巡检，执行完队列中的全部任务后退出（适合定时任务调用）")
        )

    def handle(self, *args, tick: float, no_scheduler: bool, burst: bool, **options):
        stop = threading.Event()
        if burst and not no_scheduler:
            periodic.enqueue_due()
        elif not no_scheduler:
            threading.Thread(target=self._schedule, args=(stop, tick), name="sweep-scheduler", daemon=True).start()
        try:
            if settings.TASK_BACKEND == "rq":
                call_command("rqworker", *settings.TASK_QUEUES, job_class=RQ_JOB_CLASS, burst=burst)
            else:
                call_command(
                    "db_worker", queue_name="*", batch=burst, startup_delay=not burst, reload=False,
                    verbosity=options["verbosity"],
                )
        finally:
            stop.set()

    def _schedule(self, stop: threading.Event, tick: float) -> None:
        while not stop.wait(tick):
            try:
                periodic.enqueue_due()
            except Exception:
                logger.exception("sweep scheduling failed")
            finally:
                close_old_connections()
