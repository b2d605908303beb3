"""Licence signatures and verifications per second (Ed25519 and SM2), and the p95 latency of
the public verification endpoint under concurrent load with a large library.

    python benchmarks/licences.py                                  # PostgreSQL, 1,000,000 licences
    python benchmarks/licences.py --backends postgres,sqlite --licences 100000 --clients 8 --seconds 20

(a) Crypto, in this process: whole licence data files as the platform makes and checks them
    (about 20 salted facts hashed, the target hash signed; then parsed, re-hashed and the
    signature checked), for CRYPTO_SECONDS per algorithm. SM2 is gmssl's pure-Python code
    behind the wrapper.
(b) Library. A throw-away database (a temporary one next to DATABASE_URL's for PostgreSQL, a
    temporary data folder for SQLite) is migrated; a department with its licence type and
    Ed25519 key is made through the services; then LICENCES licences are generated, each with
    its own data file signed by that key (two processes sign), and written with COPY on
    PostgreSQL (executemany on SQLite) together with their versions and the department's
    status list. One in a hundred is revoked.
(c) HTTP. uvicorn (WORKERS processes) serves the API; CLIENTS threads with keep-alive
    connections ask GET /api/licences/verify/<number> for random numbers of the library for
    SECONDS (the per-address rate limit is lifted for the run). Every answer is checked: valid
    for a licence in force, status failed for a revoked one.

Goal of the issue: p95 ≤ 20 ms on PostgreSQL with 1,000,000 licences. The last line printed
holds the figures of every database.
"""

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import machine_after, machine_before, percentile, run_child, served, setup_django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

LICENCES = 1_000_000
CLIENTS = "1,8"  # one client shows the time per request; eight, the latency under load
WORKERS = 2
SECONDS = 20.0
CRYPTO_SECONDS = 3.0
CHUNK = 20_000
REVOKED_EVERY = 100
SAMPLE_NUMBERS = 20_000
GOAL_P95_MS = 20.0
ID_BASE = 10_000_000




# --- (a) crypto --------------------------------------------------------------------------------------


def _sample_facts(index: int) -> dict:
    return {
        "number": f"520300-2026-{index:012d}",
        "version": 1,
        "versionKind": "issue",
        "licenceType.code": "bench_permit",
        "licenceType.name": "户外广告设置许可证",
        "issuer.uscc": "11520300DM5203132A",
        "issuer.name": "遵义市综合行政执法局",
        "holder.kind": "person",
        "holder.id": "520302198803141354",
        "holder.name": "张三",
        "issuedOn": "2026-12-09",
        "validFrom": "2026-12-09",
        "validUntil": "2028-12-08",
        "signedAt": "2026-12-09T10:00:00+08:00",
        "caseNumber": "",
        "status.index": index,
        "status.list": "/api/licences/status-lists/11520300DM5203132A",
        "field.location": "红花岗区中华南路88号",
        "field.area": 12,
        "field.lit": True,
    }


def crypto_figures(seconds: float) -> dict:
    from onewindow.licences import crypto, document

    figures = {}
    for algorithm in ("ed25519", "sm2"):
        signer = crypto.signer(algorithm)
        private, public = signer.generate()
        key_id = crypto.key_id_of(algorithm, public)

        def sign(message: bytes, signer=signer, private=private, public=public) -> str:
            return signer.sign(private, public, message)

        files, deadline = [], time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            files.append(
                document.wrap(
                    _sample_facts(len(files)),
                    sign=sign,
                    algorithm=algorithm,
                    key_id=key_id,
                    issuer="11520300DM5203132A",
                ).serialise()
            )
        signing = len(files) / (time.perf_counter() - started)
        checked, deadline = 0, time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            parsed = document.parse(files[checked % len(files)])
            assert parsed.hash_consistent() and signer.verify(
                public, parsed.signed_message(), parsed.signature.value
            )
            checked += 1
        figures[algorithm] = {
            "signatures_per_s": signing,
            "verifications_per_s": checked / (time.perf_counter() - started),
        }
        print(
            f"  {algorithm}: {signing:,.0f} licence files signed/s, {figures[algorithm]['verifications_per_s']:,.0f} "
            f"verified/s (one core)",
            flush=True,
        )
    return figures


# --- (b) the library -------------------------------------------------------------------------------------


def _escape(value) -> str:
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    return (
        text.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _make_chunk(job: tuple) -> tuple[list[list], list[list]]:
    """Licence and version rows for indexes [start, stop): numbers, facts, signed files."""
    from onewindow.licences import crypto, document
    from onewindow.licences.services import NUMBER_ALPHABET, NUMBER_RANDOM

    start, stop, setup = job
    rng = random.Random(start)
    signer = crypto.signer(setup["algorithm"])
    private, public = bytes.fromhex(setup["private"]), setup["public"]
    licences, versions = [], []
    for index in range(start, stop):
        number = f"{setup['region']}-2026-" + "".join(
            rng.choice(NUMBER_ALPHABET) for _ in range(NUMBER_RANDOM)
        )
        holder = setup["holders"][index % len(setup["holders"])]
        fields = {
            "location": f"红花岗区中华南路{index % 997 + 1}号",
            "area": index % 50 + 1,
        }
        facts = {
            "number": number,
            "version": 1,
            "versionKind": "issue",
            "licenceType.code": setup["type_code"],
            "licenceType.name": setup["type_name"],
            "issuer.uscc": setup["uscc"],
            "issuer.name": setup["department"],
            "holder.kind": "person",
            "holder.id": holder,
            "holder.name": "持证人",
            "issuedOn": setup["today"],
            "validFrom": setup["today"],
            "validUntil": setup["until"],
            "signedAt": setup["signed_at"],
            "caseNumber": "",
            "status.index": index,
            "status.list": f"/api/licences/status-lists/{setup['uscc']}",
            **{f"field.{key}": value for key, value in fields.items()},
        }
        signed = (
            document.wrap(
                facts,
                sign=lambda m: signer.sign(private, public, m),
                algorithm=setup["algorithm"],
                key_id=setup["key_id"],
                issuer=setup["uscc"],
            )
            .serialise()
            .decode()
        )
        row_id = ID_BASE + index
        status = "revoked" if index % REVOKED_EVERY == 0 else "valid"
        fields_json = json.dumps(fields, ensure_ascii=False)
        licences.append(
            [
                row_id,
                setup["now"],
                setup["now"],
                number,
                setup["type_id"],
                setup["department_id"],
                "person",
                holder,
                "持证人",
                fields_json,
                setup["today"],
                setup["today"],
                setup["until"],
                status,
                "违法设置" if status == "revoked" else "",
                index,
                1,
                row_id,
                "",
                "",
                None,
            ]
        )
        versions.append(
            [
                row_id,
                row_id,
                1,
                "issue",
                "",
                "",
                fields_json,
                setup["until"],
                signed,
                setup["key_pk"],
                setup["now"],
                None,
            ]
        )
    return licences, versions


LICENCE_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "number",
    "licence_type_id",
    "department_id",
    "holder_kind",
    "holder_id",
    "holder_name",
    "fields",
    "issued_on",
    "valid_from",
    "valid_until",
    "status",
    "status_reason",
    "status_index",
    "version",
    "current_version_id",
    "case_number",
    "legacy_number",
    "reminded_for",
]
VERSION_COLUMNS = [
    "id",
    "licence_id",
    "number",
    "kind",
    "case_number",
    "note",
    "fields",
    "valid_until",
    "document",
    "key_id",
    "created_at",
    "created_by_id",
]


def build_library(count: int) -> dict:
    """The department, its type and key through the services; `count` licences in bulk."""
    from django.db import connection, transaction

    from onewindow.accounts.choices import AccountKind
    from onewindow.accounts.models import User
    from onewindow.core.identifiers import make_id_number, make_uscc
    from onewindow.core.services.regions import department_create, region_create
    from onewindow.licences import crypto, services
    from onewindow.licences.models import LicenceType, SigningKey, StatusList

    admin = User.objects.create_user(
        username="bench-admin", kind=AccountKind.STAFF, is_superuser=True, is_staff=True
    )
    province = region_create(actor=None, code="520000", name="贵州省", parent=None)
    city = region_create(actor=None, code="520300", name="遵义市", parent=province)
    department = department_create(
        actor=None,
        name="遵义市综合行政执法局",
        short_name="",
        parent=None,
        region=city,
        uscc=make_uscc("1", "1", city.code, "DM520313"),
    )
    licence_type = services.licence_type_save(
        actor=admin,
        code="bench_permit",
        name="户外广告设置许可证",
        department=department,
        holder_kind="person",
        fields=[
            {"key": "location", "label": "设置地点", "type": "text", "required": True},
            {"key": "area", "label": "面积", "type": "integer"},
        ],
        validity_years=2,
    )
    with transaction.atomic():
        key, _made = services._active_key(department, "ed25519")
    private = crypto.unseal(
        SigningKey.objects.get(pk=key.pk).sealed_private_key, key_id=key.key_id
    )
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    setup = {
        "algorithm": "ed25519",
        "private": private.hex(),
        "public": key.public_key,
        "key_id": key.key_id,
        "key_pk": key.pk,
        "region": city.code,
        "uscc": department.uscc,
        "department": department.name,
        "department_id": department.pk,
        "type_id": licence_type.pk,
        "type_code": licence_type.code,
        "type_name": licence_type.name,
        "today": today.isoformat(),
        "until": services.default_valid_until(
            LicenceType.objects.get(pk=licence_type.pk), today
        ).isoformat(),
        "signed_at": (now + dt.timedelta(seconds=1)).isoformat(),
        "now": now.isoformat(),
        "holders": [
            make_id_number(
                "520302", dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28), i % 999 + 1
            )
            for i in range(2000)
        ],
    }
    jobs = [
        (start, min(count, start + CHUNK), setup) for start in range(0, count, CHUNK)
    ]
    started = time.perf_counter()
    written = 0
    revoked_bits = bytearray(max(services.STATUS_LIST_BYTES, (count + 7) // 8))
    with (
        multiprocessing.get_context("fork").Pool(
            processes=max(1, min(2, os.cpu_count() or 1))
        ) as pool,
        transaction.atomic(),
    ):
        cursor = connection.cursor()
        for licences, versions in pool.imap(_make_chunk, jobs):
            _write(
                cursor,
                connection.vendor,
                "licences_licenceversion",
                VERSION_COLUMNS,
                versions,
            )
            _write(
                cursor, connection.vendor, "licences_licence", LICENCE_COLUMNS, licences
            )
            for row in licences:
                if row[13] == "revoked":
                    revoked_bits[row[15] // 8] |= 0x80 >> (row[15] % 8)
            written += len(licences)
            if written % 100_000 == 0 or written == count:
                rate = written / (time.perf_counter() - started)
                print(f"    {written:,} licences written ({rate:,.0f}/s)", flush=True)
        StatusList.objects.update_or_create(
            department=department,
            defaults={
                "revoked_bits": bytes(revoked_bits),
                "suspended_bits": bytes(len(revoked_bits)),
                "next_index": count,
            },
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("licences_licence", "licences_licenceversion"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            cursor.execute("ANALYZE licences_licence")
            cursor.execute("ANALYZE licences_licenceversion")
        else:
            cursor.execute("ANALYZE")
    return {"build_seconds": time.perf_counter() - started}


def _write(
    cursor, vendor: str, table: str, columns: list[str], rows: list[list]
) -> None:
    if vendor == "postgresql":
        with cursor.cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            copy.write(
                "".join(
                    "\t".join(_escape(value) for value in row) + "\n" for row in rows
                )
            )
    else:
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
        )


def sample_numbers() -> tuple[list[str], set[str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM licences_licence")
        top = cursor.fetchone()[0]
        ids = random.sample(
            range(ID_BASE, top + 1), min(SAMPLE_NUMBERS, top + 1 - ID_BASE)
        )
        found: list[tuple[str, str]] = []
        for start in range(0, len(ids), 1000):
            batch = ids[start : start + 1000]
            cursor.execute(
                f"SELECT number, status FROM licences_licence WHERE id IN ({', '.join(['%s'] * len(batch))})",
                batch,
            )
            found += cursor.fetchall()
    return [number for number, _status in found], {
        number for number, status in found if status == "revoked"
    }


# --- (c) HTTP ---------------------------------------------------------------------------------------------



def run_load(
    port: int, numbers: list[str], revoked: set[str], clients: int, seconds: float
) -> dict:
    import http.client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        own: list[float] = []
        while not stop.is_set():
            number = rng.choice(numbers)
            started = time.perf_counter()
            connection.request("GET", f"/api/licences/verify/{number}")
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            result = json.loads(body) if response.status == 200 else {}
            failed = [
                c["name"] for c in result.get("checks", []) if c["result"] != "valid"
            ]
            expected = ["status"] if number in revoked else []
            if response.status != 200 or failed != expected:
                with lock:
                    errors.append(f"{number}: {response.status} {failed}")
            own.append(elapsed)
        with lock:
            latencies.extend(own)

    for warm in numbers[:50]:  # every worker's first requests load code and caches
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", f"/api/licences/verify/{warm}")
        connection.getresponse().read()
    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / elapsed,
        "errors": len(errors),
        "error_sample": errors[:3],
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
    }


def _client_counts(text: str) -> list[int]:
    return [int(part) for part in str(text).split(",") if part.strip()]


def http_figures(numbers: list[str], revoked: set[str], args) -> dict:
    from django.db import connection

    connection.close()
    env = {
        **os.environ,
        "ONEWINDOW_LICENCE_VERIFY_PER_MINUTE": "1000000000",
        "ONEWINDOW_LICENCE_VERIFY_MISSES_PER_HOUR": "1000000000",
    }
    with served(workers=args.workers, env=env) as (_server, port):
        return {
            str(clients): run_load(port, numbers, revoked, clients, args.seconds)
            for clients in _client_counts(args.clients)
        }


def child(args) -> None:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    figures = build_library(args.licences)
    numbers, revoked = sample_numbers()
    figures["load"] = http_figures(numbers, revoked, args)
    print("FIGURES " + json.dumps(figures), flush=True)


# --- the parent: one child per database ----------------------------------------------------------------


def _run(backend: str, args) -> dict:
    return run_child(__file__, backend, "licences", ["--licences", str(args.licences), "--clients", str(args.clients),
                                                    "--workers", str(args.workers), "--seconds", str(args.seconds)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="postgres")
    parser.add_argument("--licences", type=int, default=LICENCES)
    parser.add_argument(
        "--clients",
        default=CLIENTS,
        help="concurrent clients; a comma-separated list runs each in turn (e.g. 1,8)",
    )
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--crypto-seconds", type=float, default=CRYPTO_SECONDS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    os.environ.setdefault(
        "ONEWINDOW_DATA_DIR", tempfile.mkdtemp(prefix="ow-bench-licences-crypto-")
    )
    setup_django()
    print(
        f"crypto: licence data files, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    crypto = crypto_figures(args.crypto_seconds)
    results = {}
    for backend in args.backends.split(","):
        print(
            f"{backend}: {args.licences:,} licences, clients {args.clients}, {args.workers} uvicorn workers, "
            f"{machine_before()}",
            flush=True,
        )
        results[backend] = f = _run(backend, args)
        print(
            f"  library built in {f['build_seconds']:.0f} s ({args.licences / f['build_seconds']:,.0f} licences/s, "
            f"signed and written)"
        )
        for clients, load in f["load"].items():
            print(
                f"  GET /api/licences/verify/<number>, {clients} clients: {load['per_s']:.0f} requests/s, "
                f"latency ms p50 {load['p50_ms']:.1f} / p95 {load['p95_ms']:.1f} / p99 {load['p99_ms']:.1f}; "
                f"wrong answers {load['errors']} {load['error_sample']}"
            )
        print(machine_after(), flush=True)
    parts = [
        (
            f"Ed25519 {crypto['ed25519']['signatures_per_s']:,.0f} signatures/s "
            f"{crypto['ed25519']['verifications_per_s']:,.0f} verifications/s"
        ),
        (
            f"SM2 {crypto['sm2']['signatures_per_s']:,.0f} signatures/s "
            f"{crypto['sm2']['verifications_per_s']:,.0f} verifications/s"
        ),
    ]
    clients = str(max(_client_counts(args.clients)))
    for backend, f in results.items():
        load = f["load"][clients]
        if backend == "postgres":
            verdict = "goal met" if load["p95_ms"] <= GOAL_P95_MS else "goal not met"
        else:
            verdict = "no goal"
        parts.append(
            f"{backend} verify p95 {load['p95_ms']:.1f} ms at {load['per_s']:.0f} req/s with {clients} clients "
            f"and {args.licences:,} licences ({verdict}, ≤ {GOAL_P95_MS:.0f} ms)"
        )
    print("; ".join(parts))


if __name__ == "__main__":
    main()
