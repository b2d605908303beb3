"""Catalogue search latency on 100,000 items, and guide-page throughput through the HTTP stack.

    python benchmarks/catalogue_search.py                    # SQLite, then PostgreSQL
    python benchmarks/catalogue_search.py --backends sqlite --items 20000

For each database a throw-away instance is built (a temporary data folder for SQLite; a
temporary database next to DATABASE_URL's, default postgres://postgres@127.0.0.1:5432/postgres,
for PostgreSQL): migrate, the demo data (regions, departments, accounts, 39 published demo
items), then ITEMS implementation items generated from the demo items as real catalogues look:
the same basic items implemented by the matching department of every county and township, in
several handling variants (新办, 变更, 延续 …). Loading and indexing are not the figures.

(a) Search: `selectors.public_items` (the code path of the portal and the API: full-text match,
    ranking, the page of items) for QUERIES, each REPEATS times, with no filter and filtered to
    one county. Goal: p95 ≤ 50 ms.
(b) HTTP: the ASGI server (uvicorn, one process, as `onewindow serve` runs it) is started on the
    same database; CLIENTS keep-alive clients fetch guide pages of POPULAR random items, then the
    bare health endpoint, alternating ROUNDS times for SECONDS each. The figure is the ratio of
    the median requests per second (guide / bare). Goal ≥ 0.5. Published versions never change,
    so the server keeps each rendered guide (per version and language); POPULAR stands for the
    frequently visited part of a catalogue (Shenzhen's 158 high-frequency items carry most
    traffic). The same run also reports the cold ratio: guides of items never requested
    before, each rendered from scratch.

The last line printed holds the figures of every database.
"""

import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from harness import served

ROOT = Path(__file__).resolve().parents[1]
ITEMS = 100_000
QUERIES = ["营业执照", "老年证", "施工许可", "食品经营许可", "低保", "户口迁移", "不动产登记", "社会保障卡",
           "排水许可", "道路运输", "结婚登记", "农机购置补贴", "发票", "医师执业注册", "失业保险金", "户外广告"]
REPEATS = 20
VARIANTS = ["", "新办", "变更", "延续", "注销", "补证", "换证", "备案", "核准", "年检"]
CLIENTS = 4
TOWNS = 20
POPULAR = 1000
ROUNDS = 5
SECONDS = 3.0


# --- the child: one database ----------------------------------------------------------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")
    import django

    django.setup()


def _generate(total: int) -> int:
    """Bulk-create `total` published items from the demo items; returns how many were made."""
    from django.db import transaction

    from onewindow.catalogue.choices import VersionStatus
    from onewindow.accounts.models import User
    from onewindow.catalogue.codes import make_basic_code, make_impl_code
    from onewindow.catalogue.models import (
        BasicItem,
        ImplementationItem,
        ItemListMembership,
        ItemVersion,
        Theme,
    )
    from onewindow.catalogue.services import _digest
    from onewindow.core.choices import RegionLevel
    from onewindow.core.identifiers import make_uscc
    from onewindow.core.models import Department, Region

    admin = User.objects.get(username="admin")
    templates = list(ItemVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("item__department"))
    kinds = sorted({t.item.department.short_name.removeprefix("市") for t in templates})
    counties = list(Region.objects.filter(level=RegionLevel.COUNTY).order_by("code"))
    themes = {t.code: t.pk for t in Theme.objects.all()}

    with transaction.atomic():
        # Every county with TOWNS townships, each with its own departments, as a province has.
        existing = set(Region.objects.values_list("code", flat=True))
        towns = Region.objects.bulk_create(
            Region(code=code, name=f"{county.name}第{n}镇", level=RegionLevel.TOWN, parent=county,
                   path=f"{county.path}{code}/")
            for county in counties for n in range(1, TOWNS + 1)
            if (code := f"{county.code}{n + 400:03d}000") not in existing
        )
        regions = counties + towns
        departments = Department.objects.bulk_create(
            Department(
                name=f"{region.name}{kind}", short_name=kind, region=region,
                uscc=make_uscc("1", "1", region.code[:6], f"BM{n:06d}"),
            )
            for n, (region, kind) in enumerate((r, k) for r in regions for k in kinds)
        )
        by_kind: dict[str, list[Department]] = {}
        for department in departments:
            by_kind.setdefault(department.short_name, []).append(department)

        basics = []
        for t_index, template in enumerate(templates):
            for v_index, variant in enumerate(VARIANTS):
                content = template.content
                code = make_basic_code(item_type=content["item_type"], main=t_index + 500, sub=v_index)
                name = f"{content['name']}（{variant}）" if variant else content["name"]
                basics.append((template, name, BasicItem(
                    basic_code=code, name=name, item_type=content["item_type"], exercise_level="4",
                    legal_basis=content["legal_basis"], standard={},
                )))
        BasicItem.objects.bulk_create([basic for _, _, basic in basics])

        made = 0
        items, versions = [], []
        while made < total:
            for template, name, basic in basics:
                kind = template.item.department.short_name.removeprefix("市")
                pool = by_kind[kind]
                department = pool[(made // len(basics)) % len(pool)]
                content = {**template.content, "name": name, "exercise_level": "4"}
                items.append(ImplementationItem(
                    basic_item=basic, impl_code=make_impl_code(uscc=department.uscc, exercise_level="4",
                                                               basic_code=basic.basic_code),
                    department=department, region=department.region, name=name, item_type=content["item_type"],
                    case_type=content["case_type"], promised_days=content["promised_limit"]["amount"],
                    visits=content["visits"], online_depth=content["online_depth"],
                ))
                versions.append(ItemVersion(number=1, status=VersionStatus.PUBLISHED, content=content,
                                            content_sha256=_digest(content), created_by=admin))
                made += 1
                if made == total:
                    break
        ImplementationItem.objects.bulk_create(items, batch_size=2000)
        for item, version in zip(items, versions):
            version.item = item
        ItemVersion.objects.bulk_create(versions, batch_size=2000)
        for item, version in zip(items, versions):
            item.current_version = version
        ImplementationItem.objects.bulk_update(items, ["current_version"], batch_size=2000)
        Through = ImplementationItem.themes.through
        Through.objects.bulk_create(
            [Through(implementationitem_id=i.pk, theme_id=themes[c]) for i, v in zip(items, versions)
             for c in v.content.get("themes", []) if c in themes], batch_size=5000)
        ItemListMembership.objects.bulk_create(
            [ItemListMembership(item_id=i.pk, list_code=c) for i, v in zip(items, versions)
             for c in dict.fromkeys(v.content.get("lists", []))], batch_size=5000)
    return made


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _search_figures(region_code: str) -> dict[str, float]:
    from django.db import connection

    from onewindow.catalogue.selectors import CatalogueFilters, public_items

    figures = {}
    for label, region in (("all", ""), ("county", region_code)):
        samples = []
        for query in QUERIES:  # warm-up: jieba, caches, connection
            public_items(CatalogueFilters(q=query, region=region), limit=20)
        for _ in range(REPEATS):
            for query in QUERIES:
                started = time.perf_counter()
                page = public_items(CatalogueFilters(q=query, region=region), limit=20)
                samples.append((time.perf_counter() - started) * 1000)
                assert page.items or page.total == 0
        figures[f"{label}_median"] = statistics.median(samples)
        figures[f"{label}_p95"] = _percentile(samples, 0.95)
    connection.close()
    return figures


def _load(port: int, paths: list[str] | Iterator[str], seconds: float) -> float:
    """Requests per second of CLIENTS keep-alive clients fetching `paths`: at random from a
    list, or each path once from an iterator (never-seen pages)."""
    counts = [0] * CLIENTS
    deadline = time.perf_counter() + seconds
    failures: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
            with lock:
                path = rng.choice(paths) if isinstance(paths, list) else next(paths)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"{response.status}")
                return
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"HTTP load failed: status {failures[0]}")
    return sum(counts) / (time.perf_counter() - started)


def _http_figures(env: dict[str, str]) -> dict[str, float]:
    from onewindow.catalogue.models import ImplementationItem

    codes = list(ImplementationItem.objects.filter(current_version__isnull=False).values_list("impl_code", flat=True))
    random.Random(7).shuffle(codes)
    popular = [f"/catalogue/items/{code}/" for code in codes[:POPULAR]]
    cold = iter(f"/catalogue/items/{code}/" for code in codes[POPULAR:])
    with served(env=env) as (_server, port):
        _load(port, popular, 2 * SECONDS)  # warm-up
        _load(port, ["/healthz"], 1.0)
        guide, bare, first_visits = [], [], []
        for _ in range(ROUNDS):
            guide.append(_load(port, popular, SECONDS))
            bare.append(_load(port, ["/healthz"], SECONDS))
        for _ in range(ROUNDS):
            first_visits.append(_load(port, cold, SECONDS))
    guide_rps, bare_rps, cold_rps = (statistics.median(runs) for runs in (guide, bare, first_visits))
    return {"guide_rps": guide_rps, "bare_rps": bare_rps, "ratio": guide_rps / bare_rps,
            "cold_rps": cold_rps, "cold_ratio": cold_rps / bare_rps}


def child(items: int) -> None:
    _setup_django()
    from django.core.management import call_command

    from onewindow.catalogue import search

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("demo", quiet_logins=True, verbosity=0, stdout=open(os.devnull, "w"))
    started = time.perf_counter()
    made = _generate(items - 39)
    search.reindex_all(batch_size=2000)
    print(f"  loaded and indexed {made + 39:,} items in {time.perf_counter() - started:.0f} s", flush=True)
    figures = _search_figures(region_code="520302")
    figures.update(_http_figures(dict(os.environ)))
    print("FIGURES " + " ".join(f"{key}={value:.3f}" for key, value in figures.items()), flush=True)


# --- the parent: one child per database ----------------------------------------------------------


def _run(backend: str, items: int) -> dict[str, float]:
    data_dir = tempfile.mkdtemp(prefix="ow-bench-catalogue-")
    env = {**os.environ, "ONEWINDOW_DATA_DIR": data_dir, "ONEWINDOW_HTTPS": "0",
           "DJANGO_SETTINGS_MODULE": "onewindow.config.settings", "PYTHONPATH": str(ROOT / "src")}
    env.pop("REDIS_URL", None)
    database = None
    if backend == "postgres":
        import psycopg

        base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        database = f"ow_bench_catalogue_{os.getpid()}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + database
    else:
        env.pop("DATABASE_URL", None)
    try:
        result = subprocess.run([sys.executable, __file__, "--child", str(items)], env=env, capture_output=True,
                                text=True)
        sys.stdout.write(result.stdout.replace("FIGURES", "  figures:"))
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"{backend} run failed")
        line = next(line for line in result.stdout.splitlines() if line.startswith("FIGURES "))
        return {key: float(value) for key, value in (part.split("=") for part in line.split()[1:])}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if database:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    results = {}
    for backend in args.backends.split(","):
        print(f"{backend}: {args.items:,} items", flush=True)
        results[backend] = figures = _run(backend, args.items)
        print(f"  search p95 {figures['all_p95']:.1f} ms (median {figures['all_median']:.1f} ms); "
              f"within one county p95 {figures['county_p95']:.1f} ms (median {figures['county_median']:.1f} ms)")
        print(f"  guide page {figures['guide_rps']:.0f} req/s, bare endpoint {figures['bare_rps']:.0f} req/s, "
              f"ratio {figures['ratio']:.2f}; first visits {figures['cold_rps']:.0f} req/s, "
              f"ratio {figures['cold_ratio']:.2f}", flush=True)
    print("; ".join(
        f"{backend}: search p95 {f['all_p95']:.1f} ms, median {f['all_median']:.1f} ms, "
        f"guide/bare {f['ratio']:.2f} (first visits {f['cold_ratio']:.2f})"
        for backend, f in results.items()
    ))


if __name__ == "__main__":
    main()
