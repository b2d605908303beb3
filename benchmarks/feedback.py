"""Complaint intake per second through the HTTP API, and the public progress lookup's latency
under load.

    python benchmarks/feedback.py                          # PostgreSQL, then SQLite
    python benchmarks/feedback.py --backends postgres --clients 8 --workers 4 --seconds 15

For each database a throw-away instance is built (a temporary data folder for SQLite; a
temporary database next to DATABASE_URL's, default postgres://postgres@127.0.0.1:5432/postgres,
for PostgreSQL): migrate, the demo data this needs (regions, calendar, staff, citizens, the
catalogue and the demo cases at every stage), a 12345 centre with an operator and an API token, and a category whose
requests go to the demo department at once.

(a) Intake. uvicorn (WORKERS processes) serves the API; CLIENTS threads with keep-alive
    connections post requests as the hotline operator (POST /api/complaints/, source hotline,
    each with its own idempotency key) for SECONDS: every request is routed, numbered, given a
    working-day due date, written with its history and its audit entry in one transaction.
(b) Lookup. The same threads then read the public progress lookup (GET /api/cases/progress by
    case number and query code, no sign-in) for the demo's cases, and the complaint progress
    lookup (GET /api/complaints/progress) for the requests just filed, for SECONDS each, at
    full concurrency.

Goals of the issue: intake ≥ 300 complaints/s on PostgreSQL; lookup p95 ≤ 20 ms under load.
The figures mean something only on an otherwise idle machine: the load average is printed
before and after, and before it the CPU time of a fixed Python task (`harness.reference_task_ms`).
The last line printed holds the figures of every database.
"""

import argparse
import json
import os
import threading
import time
from urllib.parse import urlencode

from harness import KeepAliveClient, machine_after, machine_before, percentile, run_child, served

CLIENTS = 8
WORKERS = 4
SECONDS = 15.0
GOAL_INTAKE, GOAL_P95 = 300.0, 20.0



# --- the child: one database ----------------------------------------------------------------------


def build_world() -> dict:
    """A 12345 centre, its operator's token, a category routed to the demo department, and the
    demo's case numbers with their query codes."""
    from onewindow.accounts.choices import AccountKind, Role
    from onewindow.accounts.models import RoleAssignment, User
    from onewindow.accounts.services import api_token_create
    from onewindow.cases.models import Case
    from onewindow.complaints import services
    from onewindow.core.identifiers import make_uscc
    from onewindow.core.services.regions import department_create

    department = User.objects.get(username="clerk").staff_profile.department
    centre = department_create(
        actor=None,
        name="12345政务服务便民热线（基准）",
        short_name="",
        parent=None,
        region=department.region,
        uscc=make_uscc("1", "1", department.region.code, "BENCH001"),
    )
    services.centre_save(actor=None, department=centre, region=department.region)
    operator = User.objects.create_user(
        username="bench_operator", kind=AccountKind.STAFF, real_name="话务员"
    )
    RoleAssignment.objects.create(
        user=operator, role=Role.WINDOW_CLERK, department=centre
    )
    services.topic_save(
        actor=None,
        code="bench",
        name="基准测试类别",
        department=department,
        promised_days=5,
    )
    cases = [
        {"number": number, "query_code": code}
        for number, code in Case.objects.exclude(number=None)
        .exclude(query_code="")
        .values_list("number", "query_code")
    ]
    return {
        "token": api_token_create(actor=operator, name="benchmark")[1],
        "cases": cases,
        "region": department.region.code,
    }


class HttpClient:
    def __init__(self, port: int) -> None:
        self.connection = KeepAliveClient(port)

    def send(
        self, method: str, path: str, *, token: str = "", body: dict | None = None
    ) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, payload = self.connection.request(method, path, headers=headers, body=data)
        return status, json.loads(payload) if payload else {}


def _phase(
    clients: int, seconds: float, port: int, step
) -> tuple[int, list[float], list[str]]:
    """Run `step(client, thread_index, n)` in `clients` threads for `seconds`; returns how many
    succeeded, their latencies in ms, and the first errors."""
    done, latencies, errors = [0], [], []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        client = HttpClient(port)
        n = 0
        mine: list[float] = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            ok, detail = step(client, index, n)
            elapsed = (time.perf_counter() - started) * 1000
            n += 1
            if ok:
                mine.append(elapsed)
            elif len(errors) < 5:
                errors.append(detail)
        with lock:
            done[0] += len(mine)
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0], latencies, errors


def run_load(world: dict, port: int, clients: int, seconds: float) -> dict:
    filed: list[dict] = []
    run = f"{os.getpid()}-{time.time_ns()}"

    def intake(client: HttpClient, index: int, n: int) -> tuple[bool, str]:
        body = {
            "kind": "complaint",
            "source": "hotline",
            "topic": "bench",
            "title": "夜间施工噪音",
            "content": "来电反映工地夜间施工，请核查处理。",
            "contact_phone": "13800000000",
            "region": world["region"],
            "idempotency_key": f"{run}-{index}-{n}",
        }
        status, data = client.send(
            "POST", "/api/complaints/", token=world["token"], body=body
        )
        if status == 201:
            filed.append({"number": data["number"], "code": data["query_code"]})
            return True, ""
        return False, f"{status} {data}"

    def case_lookup(client: HttpClient, index: int, n: int) -> tuple[bool, str]:
        case = world["cases"][(index * 7919 + n) % len(world["cases"])]
        status, data = client.send("GET", f"/api/cases/progress?{urlencode(case)}")
        return status == 200, f"{status} {data}"

    def complaint_lookup(client: HttpClient, index: int, n: int) -> tuple[bool, str]:
        complaint = filed[(index * 7919 + n) % len(filed)]
        status, data = client.send(
            "GET", f"/api/complaints/progress?{urlencode(complaint)}"
        )
        return status == 200, f"{status} {data}"

    _phase(clients, 2.0, port, intake)  # warm-up: every worker imports and connects
    filed_before = len(filed)
    started = time.monotonic()
    count, intake_latency, intake_errors = _phase(clients, seconds, port, intake)
    intake_seconds = time.monotonic() - started
    assert len(filed) - filed_before == count
    lookups, lookup_latency, lookup_errors = _phase(clients, seconds, port, case_lookup)
    complaint_lookups, complaint_latency, complaint_errors = _phase(
        clients, seconds, port, complaint_lookup
    )
    return {
        "intake_per_s": count / intake_seconds,
        "intake": count,
        "intake_p50": percentile(intake_latency, 0.5),
        "intake_p95": percentile(intake_latency, 0.95),
        "lookup_per_s": lookups / seconds,
        "lookup_p50": percentile(lookup_latency, 0.5),
        "lookup_p95": percentile(lookup_latency, 0.95),
        "complaint_lookup_per_s": complaint_lookups / seconds,
        "complaint_lookup_p95": percentile(complaint_latency, 0.95),
        "errors": intake_errors + lookup_errors + complaint_errors,
        "cases": len(world["cases"]),
    }



def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    # The parts of the demo data this needs (regions, calendar, accounts, catalogue, cases), not
    # the whole `onewindow demo`, so that other apps' demo data does not weigh on the figures.
    from onewindow.accounts import demo as accounts_demo
    from onewindow.cases import demo as cases_demo
    from onewindow.catalogue import demo as catalogue_demo
    from onewindow.core import demo_regions

    demo_regions.load()
    call_command("calendar_seed", verbosity=0)
    accounts_demo.load()
    catalogue_demo.load()
    cases_demo.load()
    world = build_world()
    connection.close()
    with served(workers=args.workers) as (_server, port):
        figures = run_load(world, port, args.clients, args.seconds)
    print("FIGURES " + json.dumps(figures), flush=True)


# --- the parent: one child per database ------------------------------------------------------------


def _run(backend: str, args) -> dict:
    return run_child(__file__, backend, "feedback", ["--clients", str(args.clients), "--workers", str(args.workers),
                                                    "--seconds", str(args.seconds)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = {}
    for backend in args.backends.split(","):
        print(
            f"{backend}: {args.clients} clients, {args.workers} uvicorn workers, {os.cpu_count()} CPUs, "
            f"{machine_before()}",
            flush=True,
        )
        results[backend] = f = _run(backend, args)
        print(
            f"  intake: {f['intake_per_s']:.1f} complaints/s ({f['intake']} in {args.seconds:.0f} s), "
            f"p50 {f['intake_p50']:.1f} ms, p95 {f['intake_p95']:.1f} ms"
        )
        print(
            f"  case progress lookup: {f['lookup_per_s']:.0f}/s over {f['cases']} cases, "
            f"p50 {f['lookup_p50']:.1f} ms, p95 {f['lookup_p95']:.1f} ms"
        )
        print(
            f"  complaint progress lookup: {f['complaint_lookup_per_s']:.0f}/s, "
            f"p95 {f['complaint_lookup_p95']:.1f} ms"
        )
        if f["errors"]:
            print(f"  first errors: {f['errors']}")
        print(machine_after(), flush=True)
    summary = []
    for backend, f in results.items():
        met = f["intake_per_s"] >= GOAL_INTAKE and f["lookup_p95"] <= GOAL_P95
        summary.append(
            f"{backend}: intake {f['intake_per_s']:.1f} complaints/s, lookup p95 {f['lookup_p95']:.1f} ms "
            f"under {args.clients} clients ({'goals met' if met else 'goals not met'})"
        )
    print("; ".join(summary))


if __name__ == "__main__":
    main()
