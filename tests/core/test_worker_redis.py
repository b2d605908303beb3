"""With REDIS_URL set, tasks and sweeps go through Redis Queue (a real Redis server)."""

import os
import subprocess
import sys
import textwrap
import uuid

SCRIPT = textwrap.dedent(
    """
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from onewindow.core import periodic

    call_command("migrate", verbosity=0)
    assert settings.TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    name = "onewindow.core.tasks.notifications_send"
    result = periodic.run_sweep.enqueue(name)
    assert result.status == "READY", result.status
    call_command("worker", burst=True, no_scheduler=True, verbosity=0)
    result.refresh()
    print(result.status, result.return_value)
    """
)


def test_sweep_runs_through_redis_queue(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEWINDOW_", "DATABASE_URL", "REDIS_URL"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "onewindow.config.settings",
        "ONEWINDOW_DATA_DIR": str(tmp_path),
        "ONEWINDOW_HTTPS": "0",
        # A database number of its own per run, so parallel runs do not share queues.
        "REDIS_URL": os.environ.get("ONEWINDOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/") + str(9 + uuid.uuid4().int % 6),
    }
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "SUCCESSFUL 0"
