"""What the benchmarks share: each database is measured by a child process of the benchmark
script (`--child`), on a throw-away database of its own, which prints its figures as JSON on a
line starting with FIGURES; the parent collects them and reports."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


def reference_task_ms() -> float:
    """CPU milliseconds of a fixed pure-Python task (the median of three tries): how fast this
    machine runs Python at the moment. Its speed has been seen to change by nearly half within
    a day, so the figures of different runs are read against this."""
    times = []
    for _ in range(3):
        started = time.process_time()
        words = sorted(str(n * 7919 % 100_003) for n in range(200_000))
        json.loads(json.dumps({word: len(word) for word in words}))
        times.append((time.process_time() - started) * 1000)
    return sorted(times)[1]


def machine_before() -> str:
    """What a run's first line says of the machine: its load, and how fast it runs Python now."""
    return f"load average {os.getloadavg()[0]:.2f} before, reference task {reference_task_ms():.0f} ms"


def machine_after() -> str:
    return f"  load average {os.getloadavg()[0]:.2f} after (other processes on the machine skew the figures)"


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


# One uvicorn worker per CPU, each handling requests on 3 threads (ONEWINDOW_HTTP_THREADS): on the
# 2-core machine this served the most requests; the default 8 threads mostly wait for the
# interpreter lock when the database is on the same machine.
SERVER_WORKERS = os.cpu_count() or 1
SERVER_THREADS = 3


@contextlib.contextmanager
def served(*, workers: int = 1, threads: int | None = None,
           env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, int]]:
    """uvicorn serving the platform on a free local port with `workers` processes (each on
    `threads` request threads, when given), in `env` (this process's environment by default);
    yields the server process and its port once every worker is up, and stops it afterwards."""
    port = free_port()
    environment = dict(os.environ if env is None else env)
    if threads is not None:
        environment["ONEWINDOW_HTTP_THREADS"] = str(threads)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "onewindow.config.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--lifespan", "off", "--no-access-log",
         "--log-level", "warning"],
        env=environment,
    )
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)  # every worker up
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=30)


class KeepAliveClient:
    """A keep-alive HTTP/1.1 client on a plain socket, for the load generators. They share the
    machine's cores with the server they measure, and http.client parses every response's
    headers with the email package: several times the CPU of reading them here, taken from the
    server and added to its latencies."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.received = b""

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                body: bytes = b"") -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
                 *(f"{name}: {value}" for name, value in (headers or {}).items())]
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        while b"\r\n\r\n" not in self.received:
            self._receive()
        head, self.received = self.received.split(b"\r\n\r\n", 1)
        status_line, *fields = head.split(b"\r\n")
        length = None
        for field in fields:
            name, _, value = field.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {head!r}")
        while len(self.received) < length:
            self._receive()
        payload, self.received = self.received[:length], self.received[length:]
        return int(status_line.split()[1]), payload

    def _receive(self) -> None:
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.received += chunk
