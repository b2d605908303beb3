"""The worker: persisted tasks run after a restart, sweeps are enqueued once while pending, and
finished jobs are pruned."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from onewindow.core import periodic, tasks

calls: list[str] = []


@periodic.sweep(every_seconds=60)
def count_test_sweep() -> int:
    calls.append("swept")
    return 1


@task()
def remember(value: str) -> str:
    calls.append(value)
    return value.upper()


@pytest.fixture(autouse=True)
def fresh_state():
    calls.clear()
    for item in periodic.registry.values():
        item.last_enqueued = 0.0
    yield


def run_worker_until_idle():
    call_command("worker", burst=True, no_scheduler=True, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_enqueued_task_survives_a_worker_restart():
    result = remember.enqueue("受理")
    # Nothing runs until a worker starts: the job is only a row in the database.
    assert DBTaskResult.objects.get(id=result.id).status == "READY"
    assert calls == []

    run_worker_until_idle()

    assert calls == ["受理"]
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == "SUCCESSFUL"
    assert row.return_value == "受理"


@pytest.mark.django_db(transaction=True)
def test_due_sweep_is_enqueued_once_and_runs_in_the_worker():
    name = f"{__name__}.count_test_sweep"
    assert name in periodic.enqueue_due(now=1000.0)
    # Due again later, but its first run is still queued: not enqueued twice.
    periodic.registry[name].last_enqueued = 0.0
    assert name not in periodic.enqueue_due(now=2000.0)
    queued = DBTaskResult.objects.filter(task_path=periodic.run_sweep.module_path, args_kwargs__args=[name])
    assert queued.count() == 1

    run_worker_until_idle()

    assert calls == ["swept"]
    assert queued.get().status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_sweep_is_not_enqueued_before_its_interval():
    name = f"{__name__}.count_test_sweep"
    assert name in periodic.enqueue_due(now=1000.0)
    run_worker_until_idle()
    assert name not in periodic.enqueue_due(now=1030.0)
    assert name in periodic.enqueue_due(now=1061.0)


@pytest.mark.django_db(transaction=True)
def test_burst_worker_enqueues_due_sweeps_and_runs_them():
    call_command("worker", burst=True, verbosity=0)
    assert "swept" in calls
    sweeps = DBTaskResult.objects.filter(task_path=periodic.run_sweep.module_path)
    assert sweeps.count() == len(periodic.registry)
    assert set(sweeps.values_list("status", flat=True)) == {"SUCCESSFUL"}


@pytest.mark.django_db
def test_finished_jobs_are_pruned_after_their_keeping_time():
    now = timezone.now()

    def job(status: str, finished_days_ago: float | None) -> DBTaskResult:
        result = remember.enqueue(status)
        finished_at = None if finished_days_ago is None else now - timedelta(days=finished_days_ago)
        DBTaskResult.objects.filter(id=result.id).update(status=status, finished_at=finished_at)
        return result.id

    kept = {
        job("SUCCESSFUL", 6),
        job("FAILED", 29),
        job("READY", None),
        job("RUNNING", None),
    }
    job("SUCCESSFUL", 8)
    job("FAILED", 31)

    assert tasks.task_results_prune() == 2
    assert {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)} == kept
