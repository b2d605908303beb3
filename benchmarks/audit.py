"""Audit ledger cost: what record() adds to a business transaction, and verify() on 1,000,000 entries.

    python benchmarks/audit.py            # PostgreSQL at postgres://postgres@127.0.0.1:5432/postgres
    DATABASE_URL=postgres://user@host:5432/name python benchmarks/audit.py

Runs against a throw-away database created next to DATABASE_URL's (migrated) and dropped
afterwards; keys and the witness file
go to a throw-away data folder.

(b) runs first, so (a) writes into a ledger that already holds a million entries.

(a) Overhead. The same small transaction with and without `audit.record()`, by 1 and by 8
    writer processes, each doing TXNS transactions; while the "with" runs go, a sealer process
    seals every 2 s as the worker sweep does. Two kinds of transaction: a single raw UPDATE of
    one row (the worst case: record() adds a whole statement to one), and the shape of a
    service (lock the row through the ORM, read it, save it). Throughput is the median of
    REPEATS runs, with and without interleaved; the goal is a ratio ≤ 1.3.
(b) Verification. 1,000,000 entries are bulk-loaded with COPY and sealed in large batches
    (loading is not the figure), then `ledger.verify()` is timed (median of VERIFY_RUNS; goal ≤ 10 s).
    The last line printed is that time in seconds.
"""

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time

REPEATS = 5
TXNS = {1: 2000, 8: 500}
SEAL_EVERY = 2.0
LEDGER_SIZE = 1_000_000
LOAD_SEAL_BATCH = 100_000
VERIFY_RUNS = 3
ROWS_PER_WRITER = 100
KINDS = {
    "update": "one UPDATE (raw SQL)",
    "service": "service-shaped (ORM: lock the row, read, save)",
}


# --- (a) overhead -----------------------------------------------------------------------------


def _transaction(kind: str, audited: bool, first: int):
    """One business transaction of the given kind, on this writer's own rows."""
    from django.db import connection, transaction

    from onewindow.core import audit
    from onewindow.core.models import Region

    def plain_update(i: int) -> None:
        account = first + i % ROWS_PER_WRITER
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE benchmark_account SET balance = balance + 1, updated_at = now() WHERE id = %s "
                    "RETURNING balance",
                    [account],
                )
                balance = cursor.fetchone()[0]
            if audited:
                audit.record(
                    actor=None, action="account.credit", object_type="benchmark.account", object_id=str(account),
                    before={"balance": balance - 1}, after={"balance": balance},
                )

    def service(i: int) -> None:
        with transaction.atomic():
            region = Region.objects.select_for_update().get(pk=first + i % ROWS_PER_WRITER)
            before, region.name = region.name, f"区划{i}"
            region.save(update_fields=["name", "updated_at"])
            if audited:
                audit.record(actor=None, action="region.update", target=region, before={"name": before}, after={"name": region.name})

    return plain_update if kind == "update" else service


def _writer(kind: str, index: int, transactions: int, audited: bool, ready, go, results) -> None:
    from django.db import connection

    one = _transaction(kind, audited, 1 + index * ROWS_PER_WRITER)
    one(0)  # connect before the clock starts
    ready.release()
    go.wait()
    started = time.perf_counter()
    for i in range(transactions):
        one(i)
    results.put((started, time.perf_counter()))
    connection.close()


def _sealer(stop) -> None:
    from django.db import connection

    from onewindow.core.audit import ledger

    while not stop.wait(SEAL_EVERY):
        ledger.seal_sweep()
    ledger.seal_sweep()
    connection.close()


def _throughput(kind: str, writers: int, audited: bool) -> float:
    from django.db import connections

    connections.close_all()  # children must not share the parent's socket
    context = multiprocessing.get_context("fork")
    ready, go, stop, results = context.Semaphore(0), context.Event(), context.Event(), context.Queue()
    transactions = TXNS[writers]
    processes = [
        context.Process(target=_writer, args=(kind, n, transactions, audited, ready, go, results))
        for n in range(writers)
    ]
    sealer = context.Process(target=_sealer, args=(stop,)) if audited else None
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    if sealer is not None:
        sealer.start()
    go.set()
    spans = [results.get() for _ in processes]
    for process in processes:
        process.join()
    stop.set()
    if sealer is not None:
        sealer.join()
    if any(p.exitcode for p in processes) or (sealer is not None and sealer.exitcode):
        raise RuntimeError("a benchmark process failed")
    return writers * transactions / (max(end for _, end in spans) - min(start for start, _ in spans))


def measure_overhead() -> None:
    from django.db import connection

    from onewindow.core.models import Region

    rows = max(TXNS) * ROWS_PER_WRITER
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE benchmark_account (id bigint PRIMARY KEY, balance bigint NOT NULL, "
            "updated_at timestamptz NOT NULL)"
        )
        cursor.execute("INSERT INTO benchmark_account SELECT g, 0, now() FROM generate_series(1, %s) AS g", [rows])
    Region.objects.bulk_create(
        Region(id=n, code=str(520000000000 + n), name=f"区划{n}", level=1, path=f"{520000000000 + n}/")
        for n in range(1, rows + 1)
    )
    for kind, label in KINDS.items():
        rates: dict[tuple[int, bool], list[float]] = {(w, a): [] for w in TXNS for a in (False, True)}
        for _ in range(REPEATS):
            for writers in TXNS:
                for audited in (False, True):
                    rates[(writers, audited)].append(_throughput(kind, writers, audited))
        for writers in TXNS:
            without = statistics.median(rates[(writers, False)])
            with_audit = statistics.median(rates[(writers, True)])
            print(
                f"(a) {label}, {writers} writer(s) x {TXNS[writers]} txns, median of {REPEATS}: "
                f"{without:,.0f} txn/s without record(), {with_audit:,.0f} txn/s with; "
                f"ratio {without / with_audit:.2f} (goal <= 1.3)"
            )


# --- (b) verification --------------------------------------------------------------------------


def load_entries(count: int) -> None:
    import datetime as dt
    import json
    import random

    from django.db import connection

    from onewindow.core.models.audit import AuditEntry

    rng = random.Random(1_000_000)
    actions = ["case.submit", "case.accept", "case.review", "case.approve", "licence.issue", "evaluation.create"]
    statuses = ["待受理", "已受理", "审查中", "已办结"]
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    columns = "created_at, actor_label, action, object_type, object_id, changes, ip, leaf_hash"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {AuditEntry._meta.db_table} ({columns}) FROM STDIN") as copy:
            for i in range(count):
                before, after = rng.sample(statuses, 2)
                changes = json.dumps(
                    {"before": {"status": before}, "after": {"status": after, "note": f"第{i}号办件"}},
                    sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                )
                copy.write_row((
                    start + dt.timedelta(microseconds=i * 31_536_017), f"staff{rng.randrange(5000):04d}",
                    rng.choice(actions), "cases.case", f"2025{i:010d}", changes, f"10.{i % 250}.{i % 199}.{i % 97}", "",
                ))


def measure_verify() -> float:
    from django.db import connection

    from onewindow.core.audit import ledger

    started = time.perf_counter()
    load_entries(LEDGER_SIZE)
    loaded = time.perf_counter()
    while ledger.seal(max_batch=LOAD_SEAL_BATCH):
        pass
    sealed = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"(b) loaded {LEDGER_SIZE:,} entries in {loaded - started:.1f} s, "
        f"sealed in batches of {LOAD_SEAL_BATCH:,} in {sealed - loaded:.1f} s"
    )
    times = []
    for _ in range(VERIFY_RUNS):
        started = time.perf_counter()
        report = ledger.verify()
        times.append(time.perf_counter() - started)
        if not report.ok or report.entries != LEDGER_SIZE:
            raise RuntimeError(f"verify failed: {report.problems[:3]}")
    print(
        f"(b) verify(): {report.entries:,} entries, {report.heads} heads; "
        f"runs {', '.join(f'{t:.2f}' for t in times)} s; median (goal <= 10 s):"
    )
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead-only", action="store_true", help="measure (a) only, on an empty ledger")
    only_overhead = parser.parse_args().overhead_only
    data_dir = tempfile.mkdtemp(prefix="onewindow-benchmark-")
    os.environ["ONEWINDOW_DATA_DIR"] = data_dir
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")
    try:
        import django

        django.setup()
        from django.db import connection
        from django.test.utils import setup_test_environment, teardown_test_environment

        if connection.vendor != "postgresql":
            print("this benchmark needs PostgreSQL (DATABASE_URL=postgres://...)")
            return 2
        connection.settings_dict["TEST"]["NAME"] = f"benchmark_audit_{os.getpid()}"
        setup_test_environment()
        original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            print(f"database: PostgreSQL {connection.pg_version // 10000}; {os.cpu_count()} CPUs")
            # The ledger is loaded first, so the overhead is measured against a table of a million rows.
            seconds = None if only_overhead else measure_verify()
            measure_overhead()
        finally:
            connection.close()
            connection.creation.destroy_test_db(original_name, verbosity=0)
            teardown_test_environment()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if seconds is not None:
        print(f"{seconds:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
