"""What the benchmarks share: each database is measured by a child process of the benchmark
script (`--child`), on a throw-away database of its own, which prints its figures as JSON on a
line starting with FIGURES; the parent collects them and reports."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def run_child(script: str, backend: str, name: str, child_args: list[str]) -> dict:
    """Run `script --child *child_args` on a new database ("postgres": a database created next
    to DATABASE_URL's and dropped afterwards; "sqlite": a file in a temporary data folder),
    showing its output as it comes; returns what it printed on its FIGURES line."""
    data_dir = tempfile.mkdtemp(prefix=f"ow-bench-{name}-")
    env = {**os.environ, "ONEWINDOW_DATA_DIR": data_dir, "ONEWINDOW_HTTPS": "0",
           "DJANGO_SETTINGS_MODULE": "onewindow.config.settings", "PYTHONPATH": str(ROOT / "src")}
    env.pop("REDIS_URL", None)
    base = os.environ.get("DATABASE_URL", DEFAULT_POSTGRES)
    database = f"ow_bench_{name}_{os.getpid()}" if backend == "postgres" else None
    if database:
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = urlsplit(base)._replace(path=f"/{database}").geturl()
    else:
        env.pop("DATABASE_URL", None)
    try:
        figures = None
        with subprocess.Popen([sys.executable, script, "--child", *child_args], env=env, stdout=subprocess.PIPE,
                              text=True) as child:
            for line in child.stdout:
                if line.startswith("FIGURES "):
                    figures = json.loads(line.removeprefix("FIGURES "))
                else:
                    sys.stdout.write(line)
                    sys.stdout.flush()
        if child.returncode != 0 or figures is None:
            raise SystemExit(f"{backend} run failed")
        return figures
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if database:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def print_figures(figures: dict) -> None:
    print("FIGURES " + json.dumps(figures), flush=True)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")
    import django

    django.setup()


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 → p95); NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
