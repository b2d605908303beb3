"""Electronic supervision and analytics at scale: the red/yellow list of one department, the
region's board, a dashboard of 12 months, and the warning sweep over every open case.

    python benchmarks/supervision.py                                # 10,000,000 cases on PostgreSQL, 1,000,000 on SQLite
    python benchmarks/supervision.py --backends sqlite --cases 200000
    python benchmarks/supervision.py --backends postgres --cases 1000000 --requests 100

For each database a throw-away instance is built (a temporary data folder for SQLite; a
temporary database next to DATABASE_URL's, default postgres://postgres@127.0.0.1:5432/postgres,
for PostgreSQL) and migrated. The catalogue is made through the services: a province with
CITIES cities, DEPARTMENTS departments spread over them, ITEMS_PER_DEPARTMENT published items each
(steps accept → review → decide, promise 8 working days); citizens are bulk-inserted.

Cases are then generated fast, spread over the last 365 days: PostgreSQL takes them with
COPY, SQLite with executemany in one transaction per batch. About OPEN_SHARE of them are open
(most in review with their open review step, the others waiting for acceptance) with due dates
around today, so the board holds red, yellow and green; the rest are completed, refused or
withdrawn. The monthly roll-up rows the analytics sweep would have written for those cases are
summed while generating and bulk-inserted (the generated cases have no timeline to read), with
the ratings of RATED_SHARE of the delivered cases counted in (no evaluation rows are written).

Measured, in this order:
  sweep      `supervision.services.warnings_refresh` over every open case, twice: the first run
             creates every signal, records the red and yellow ones as supervision events and
             escalates the cases red for 3 working days or more (one transaction each, with
             notifications); the second recolours everything and finds nothing changed. Open
             cases per second of each; the second is the recurring cost;
  list       GET /api/supervision/warnings?department_id=… (the red list, then the yellow list,
             of one department), as the city's supervisor with a bearer token;
  board      GET /api/supervision/board (the city's counts by colour, department, item and the
             red list);
  dashboard  GET /api/analytics/metrics?group=month (12 months of every figure of the city).
Requests run in-process through Django's test client (the whole stack but the socket), REQUESTS
times each after WARMUP; p50 and p95 are printed. Goals of the issue: list ≤ 50 ms, board and
dashboard ≤ 200 ms at p95. The last line printed holds the figures of every database.
"""

import argparse
import collections
import datetime as dt
import json
import os
import random
import time

from harness import machine_after, machine_before, percentile, run_child, setup_django

CASES = {"postgres": 10_000_000, "sqlite": 1_000_000}
CITIES = 4
DEPARTMENTS = 20
ITEMS_PER_DEPARTMENT = 3
CITIZENS = 2000
OPEN_SHARE = 0.05
BATCH = 50_000
REQUESTS = 50
WARMUP = 3
GOALS_MS = {"list": 50.0, "board": 200.0, "dashboard": 200.0}
SEED = 20261204
# Share of delivered cases their applicant rated, and how the ratings spread over the levels
# 非常满意 … 非常不满意 (published figures run at 95–99 % satisfied).
RATED_SHARE = 0.3
LEVEL_WEIGHTS = (70, 20, 6, 3, 1)
WEEK = dt.timedelta(days=7)



def _item_content(name: str) -> dict:
    return {
        "name": name,
        "item_type": "01",
        "legal_basis": "《行政许可法》",
        "exercise_level": "3",
        "legal_limit": {"amount": 20, "unit": "working_day", "note": ""},
        "conditions": "符合条件。",
        "materials": [{"key": "application", "name": "申请表", "required": True}],
        "service_objects": ["1", "2"],
        "handling_forms": ["1", "2"],
        "case_type": "2",
        "promised_limit": {"amount": 8, "unit": "working_day", "note": ""},
        "visits": 1,
        "online_depth": 4,
        "delivery_methods": ["window"],
        "themes": [],
        "lists": [],
        "keywords": [],
        "steps": [
            {
                "key": "accept",
                "name": "受理",
                "kind": "accept",
                "role": "window_clerk",
                "limit_days": 1,
            },
            {
                "key": "review",
                "name": "审查",
                "kind": "review",
                "role": "reviewer",
                "limit_days": 5,
            },
            {
                "key": "decide",
                "name": "决定",
                "kind": "decide",
                "role": "approver",
                "limit_days": 2,
            },
        ],
        "form": {
            "fields": [
                {"key": "location", "label": "地点", "type": "text", "required": True}
            ]
        },
    }


def build_world() -> dict:
    """Regions, departments, published items, a supervisor of the first city, citizens."""
    from django.contrib.auth.hashers import make_password

    from onewindow.accounts.choices import AccountKind, Role
    from onewindow.accounts.models import RoleAssignment, User
    from onewindow.catalogue import services as catalogue
    from onewindow.catalogue.models import ImplementationItem
    from onewindow.core.identifiers import make_uscc
    from onewindow.core.services.regions import department_create, region_create

    province = region_create(actor=None, code="520000", name="贵州省", parent=None)
    cities = [
        region_create(
            actor=None, code=f"52{c + 1:02d}00", name=f"第{c + 1}市", parent=province
        )
        for c in range(CITIES)
    ]
    admin = User.objects.create_user(
        username="bench-admin", kind=AccountKind.STAFF, is_superuser=True, is_staff=True
    )
    legal = User.objects.create_user(username="bench-legal", kind=AccountKind.STAFF)
    editor = User.objects.create_user(username="bench-editor", kind=AccountKind.STAFF)
    items = []
    for d in range(DEPARTMENTS):
        city = cities[d % CITIES]
        department = department_create(
            actor=None,
            name=f"第{d + 1}局",
            short_name="",
            uscc=make_uscc("1", "1", city.code, f"BM{d + 1:06d}"),
            region=city,
            parent=None,
        )
        for role, user in (
            (Role.DEPARTMENT_ADMIN, editor),
            (Role.LEGAL_REVIEWER, legal),
        ):
            RoleAssignment.objects.create(user=user, role=role, department=department)
        for n in range(ITEMS_PER_DEPARTMENT):
            content = _item_content(f"事项{d + 1}-{n + 1}")
            standard = {
                key: content[key]
                for key in (
                    "name",
                    "item_type",
                    "legal_basis",
                    "exercise_level",
                    "legal_limit",
                    "conditions",
                    "materials",
                )
            }
            basic = catalogue.basic_item_create(
                actor=admin,
                basic_code=f"XK{d * 10 + n + 10001:05d}000",
                standard=standard,
            )
            version = catalogue.item_create(
                actor=editor, basic_item=basic, department=department, content=content
            )
            version = catalogue.version_update(
                actor=editor,
                version=version,
                content=version.content,
                change_note="基准",
            )
            version = catalogue.version_submit(actor=editor, version=version)
            version = catalogue.version_approve(actor=legal, version=version)
            catalogue.version_publish_urgent(
                actor=admin, version=version, reason="基准"
            )
            items.append(
                ImplementationItem.objects.select_related("department").get(
                    pk=version.item_id
                )
            )
    supervisor = User.objects.create_user(
        username="bench-supervisor", kind=AccountKind.STAFF
    )
    RoleAssignment.objects.create(
        user=supervisor, role=Role.SUPERVISOR, region=cities[0]
    )
    password = make_password(None)
    User.objects.bulk_create(
        [
            User(
                username=f"bench-citizen-{n}",
                kind=AccountKind.CITIZEN,
                password=password,
            )
            for n in range(CITIZENS)
        ],
        batch_size=1000,
    )
    citizens = list(
        User.objects.filter(kind=AccountKind.CITIZEN).values_list("pk", flat=True)
    )
    return {
        "items": items,
        "citizens": citizens,
        "supervisor": supervisor,
        "city": cities[0],
    }


# --- generating cases ---------------------------------------------------------------------------


class Writer:
    """Rows into a model's table as fast as the database takes them: COPY text on PostgreSQL,
    executemany on SQLite (one transaction per batch). Every column not given gets the field's
    default or NULL (the database has no defaults of its own: Django keeps them). Values are
    given already in the database's form (see `stamp` and `day`)."""

    def __init__(self, connection, model) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [f.column for f in fields]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.template = []
        for f in fields:
            value = f.get_default() if f.has_default() else (None if f.null else "")
            if f.get_internal_type() == "JSONField":
                value = json.dumps(value)
            self.template.append(self.encode(value))
        self.rows: list[list] = []

    def encode(self, value):
        if not self.postgres:
            return value
        if value is None:
            return r"\N"
        if value is True or value is False:
            return "t" if value else "f"
        return str(value)

    def stamp(self, moment: dt.datetime) -> str:
        """A moment as the database stores it (UTC)."""
        utc = moment.astimezone(dt.UTC)
        return (
            utc.isoformat()
            if self.postgres
            else utc.replace(tzinfo=None).isoformat(" ")
        )

    def add(self, values: dict) -> None:
        row = self.template.copy()
        index, encode = self.index, self.encode
        for name, value in values.items():
            row[index[name]] = encode(value)
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        from django.db import transaction

        if not self.rows:
            return
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(name) for name in self.columns)
        with transaction.atomic(), self.connection.cursor() as cursor:
            if self.postgres:
                text = "".join("\t".join(row) + "\n" for row in self.rows)
                with cursor.cursor.copy(
                    f"COPY {quote(self.table)} ({names}) FROM STDIN"
                ) as copy:
                    copy.write(text)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {quote(self.table)} ({names}) VALUES ({marks})",
                    self.rows,
                )
        self.rows = []


def generate(world: dict, total: int) -> dict:
    """`total` cases over the last 365 days; returns how many are open."""
    from django.db import connection
    from django.utils import timezone

    from onewindow.analytics.models import COUNTERS, RATING_COUNTERS, MonthlyFigures
    from onewindow.cases.choices import CaseStatus, Channel, Decision, StepStatus
    from onewindow.cases.models import Case, CaseStep
    from onewindow.core.workdays import SHANGHAI

    rng = random.Random(SEED)
    # Ratings draw from their own generator, so the cases are the same as without them.
    rating_rng = random.Random(SEED + 1)
    rating_names = list(RATING_COUNTERS.values())
    today = timezone.now().astimezone(SHANGHAI).date()
    items, citizens = world["items"], world["citizens"]
    cases = Writer(connection, Case)
    stamps: dict[dt.datetime, str] = {}

    def stamp(moment: dt.datetime) -> str:
        if moment not in stamps:
            stamps[moment] = cases.stamp(moment)
        return stamps[moment]

    monthly: dict[tuple, collections.Counter] = collections.defaultdict(
        collections.Counter
    )
    histograms: dict[tuple, collections.Counter] = collections.defaultdict(
        collections.Counter
    )
    open_steps = []
    opened = 0
    channels = [Channel.ONLINE] * 7 + [Channel.WINDOW] * 2 + [Channel.AGENT]
    days = [today - dt.timedelta(days=k) for k in range(365)]
    iso = {
        d: d.isoformat()
        for d in (*days, *(today + dt.timedelta(days=k) for k in range(-30, 60)))
    }
    for n in range(total):
        item = items[n % len(items)]
        channel = channels[rng.randrange(10)]
        draw = rng.random()
        is_open = draw < OPEN_SHARE
        day = days[rng.randrange(15) if is_open else rng.randrange(365)]
        moment = dt.datetime.combine(day, dt.time(9 + n % 8, n % 60), tzinfo=SHANGHAI)
        at = stamp(moment)
        values = {
            "number": f"BENCH{n:012d}",
            "item_id": item.pk,
            "version_id": item.current_version_id,
            "department_id": item.department_id,
            "region_id": item.region_id,
            "applicant_id": citizens[n % len(citizens)],
            "channel": channel,
            "submitted_at": at,
            "acceptance_due": iso.get(day + WEEK) or (day + WEEK).isoformat(),
            "created_at": at,
            "updated_at": at,
            "form_data": "{}",
        }
        key = (day.replace(day=1), item.region_id, item.department_id, item.pk, channel)
        counts = monthly[key]
        counts["applications"] += 1
        counts["online_applications"] += channel == Channel.ONLINE
        if is_open and draw < OPEN_SHARE * 0.2:
            values.update(
                status=CaseStatus.SUBMITTED,
                acceptance_due=iso[today + dt.timedelta(days=rng.randrange(-3, 6))],
            )
        elif is_open:
            due = today + dt.timedelta(days=rng.randrange(-6, 12))
            values.update(
                status=CaseStatus.IN_REVIEW,
                accepted_at=at,
                clock_start=iso[day],
                promised_due=iso[due],
                legal_due=(due + dt.timedelta(days=14)).isoformat(),
            )
            counts["acceptances"] += 1
            open_steps.append((n, due - dt.timedelta(days=3)))
        elif draw < 0.08:
            values.update(
                status=rng.choice([CaseStatus.NOT_ACCEPTED, CaseStatus.WITHDRAWN])
            )
            counts["refusals"] += values["status"] == CaseStatus.NOT_ACCEPTED
        else:
            used = rng.randrange(0, 12)
            done = stamp(moment + dt.timedelta(days=used * 7 // 5))
            visits = rng.choice((0, 0, 1, 1, 1, 2))
            values.update(
                status=CaseStatus.DELIVERED,
                accepted_at=at,
                clock_start=iso[day],
                promised_due=(day + dt.timedelta(days=12)).isoformat(),
                legal_due=(day + dt.timedelta(days=28)).isoformat(),
                decision=Decision.APPROVED,
                decided_at=done,
                completed_at=done,
                delivered_at=done,
                visits=visits,
            )
            counts.update(
                acceptances=1,
                completions=1,
                on_time=int(used <= 8),
                working_days=used,
                deliveries=1,
                visits=visits,
                at_most_once=int(visits <= 1),
                on_the_spot=int(used == 0),
            )
            histograms[key][used] += 1
            if rating_rng.random() < RATED_SHARE:
                counts[rating_rng.choices(rating_names, LEVEL_WEIGHTS)[0]] += 1
        opened += is_open
        cases.add(values)
    cases.flush()
    # The open review step of each case in review.
    numbers = {
        int(number[5:]): pk
        for pk, number in Case.objects.filter(status=CaseStatus.IN_REVIEW).values_list(
            "pk", "number"
        )
    }
    steps = Writer(connection, CaseStep)
    now = steps.stamp(timezone.now())
    for n, due in open_steps:
        steps.add(
            {
                "case_id": numbers[n],
                "position": 1,
                "key": "review",
                "name": "审查",
                "kind": "review",
                "role": "reviewer",
                "limit_days": 5,
                "status": StepStatus.WAITING,
                "started_at": now,
                "due": due.isoformat(),
            }
        )
    steps.flush()
    MonthlyFigures.objects.bulk_create(
        [
            MonthlyFigures(
                month=key[0],
                region_id=key[1],
                department_id=key[2],
                item_id=key[3],
                channel=key[4],
                days_histogram={str(k): v for k, v in sorted(histograms[key].items())},
                **{name: counts[name] for name in COUNTERS},
            )
            for key, counts in monthly.items()
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"open": opened}


# --- measuring --------------------------------------------------------------------------------------


def measure(world: dict, requests: int) -> dict:
    from django.test import Client

    from onewindow.accounts.services import api_token_create
    from onewindow.supervision import services

    started = time.perf_counter()
    services.warnings_refresh()
    first_sweep = time.perf_counter() - started
    started = time.perf_counter()
    services.warnings_refresh()
    sweep_seconds = time.perf_counter() - started
    _token, secret = api_token_create(actor=world["supervisor"], name="benchmark")
    client = Client(
        headers={"Authorization": f"Bearer {secret}"}, HTTP_HOST="localhost"
    )
    department = world["items"][0].department_id
    targets = {
        "list": (
            "/api/supervision/warnings",
            {"department_id": department, "limit": 100},
        ),
        "board": ("/api/supervision/board", {}),
        "dashboard": ("/api/analytics/metrics", {"group": "month"}),
    }
    latency = {}
    for name, (path, query) in targets.items():
        samples = []
        for attempt in range(WARMUP + requests):
            began = time.perf_counter()
            response = client.get(path, query)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(
                    f"{path}: {response.status_code} {response.content[:300]!r}"
                )
            if attempt >= WARMUP:  # the first requests fill caches and plans
                samples.append(elapsed)
        latency[name] = {
            "p50": percentile(samples, 0.5),
            "p95": percentile(samples, 0.95),
        }
    return {
        "first_sweep_seconds": first_sweep,
        "sweep_seconds": sweep_seconds,
        "latency": latency,
    }


def child(args) -> None:
    setup_django()
    from django.core.management import call_command
    from django.urls import get_resolver

    from onewindow.supervision.models import Signal

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    # Every view and API router is imported now, before the long generation, as a server
    # process would at start.
    get_resolver().url_patterns  # noqa: B018
    began = time.perf_counter()
    world = build_world()
    print(
        f"  catalogue: {len(world['items'])} items in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    began = time.perf_counter()
    generated = generate(world, args.cases)
    seconds = time.perf_counter() - began
    print(
        f"  generated {args.cases:,} cases ({generated['open']:,} open) in {seconds:.1f} s "
        f"({args.cases / seconds:,.0f} cases/s)",
        flush=True,
    )
    figures = measure(world, args.requests)
    figures.update(
        cases=args.cases,
        open=generated["open"],
        generate_seconds=seconds,
        signals=Signal.objects.count(),
        red=Signal.objects.filter(colour="red").count(),
    )
    print("FIGURES " + json.dumps(figures), flush=True)


# --- the parent: one child per database ------------------------------------------------------------


def _run(backend: str, args, cases: int) -> dict:
    return run_child(__file__, backend, "supervision", ["--cases", str(cases), "--requests", str(args.requests)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument(
        "--cases",
        type=int,
        default=0,
        help="cases per database (default: 10 M PostgreSQL, 1 M SQLite)",
    )
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    summary = []
    for backend in args.backends.split(","):
        cases = args.cases or CASES[backend]
        print(
            f"{backend}: {cases:,} cases, {os.cpu_count()} CPUs, {machine_before()}",
            flush=True,
        )
        f = _run(backend, args, cases)
        rate = f["open"] / f["sweep_seconds"]
        print(
            f"  warning sweep, first run (every signal created, red ones escalated): {f['open']:,} open cases, "
            f"{f['signals']:,} signals ({f['red']:,} red) in {f['first_sweep_seconds']:.1f} s = "
            f"{f['open'] / f['first_sweep_seconds']:,.0f} cases/s",
            flush=True,
        )
        print(
            f"  warning sweep, next run (every case and step recoloured, nothing changed): "
            f"{f['sweep_seconds']:.1f} s = {rate:,.0f} cases/s",
            flush=True,
        )
        for name, lat in f["latency"].items():
            verdict = "met" if lat["p95"] <= GOALS_MS[name] else "not met"
            print(
                f"  {name:<9} p50 {lat['p50']:7.1f} ms  p95 {lat['p95']:7.1f} ms  (goal {GOALS_MS[name]:.0f} ms: "
                f"{verdict})",
                flush=True,
            )
        print(machine_after(), flush=True)
        summary.append(
            f"{backend} ({cases:,} cases): list p95 {f['latency']['list']['p95']:.1f} ms, board p95 "
            f"{f['latency']['board']['p95']:.1f} ms, dashboard p95 {f['latency']['dashboard']['p95']:.1f} ms, "
            f"sweep {rate:,.0f} open cases/s"
        )
    print("; ".join(summary))


if __name__ == "__main__":
    main()
