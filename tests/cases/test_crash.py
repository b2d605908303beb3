"""A server killed with SIGKILL while applicants submit loses no accepted case, and clients that
retry with the same idempotency keys get one case each, numbered without repeats (a submission
killed after it took its number leaves that serial unused: numbers are taken outside the
submission's transaction, so that submissions do not queue behind each other).

The server is a real uvicorn process on its own database (a SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL), with the demo data loaded by `onewindow demo`.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.chaos

DRAFTS = 24
PREPARE = """
import json
from onewindow.accounts.models import Enterprise, User
from onewindow.accounts.services import api_token_create
from onewindow.cases import demo, services
handler = User.objects.get(username="handler1")
enterprise = Enterprise.objects.get(name="遵义黔北茶业有限公司")
item = demo._food_item()
spec = demo.DEMO_CASES[0]
ids = []
for _ in range({count}):
    case = services.case_start(actor=handler, item=item, enterprise=enterprise)
    services.case_save_form(actor=handler, case=case, data={{**case.form_data, **demo._form(spec, handler)}})
    for key, title in demo.MATERIAL_TITLES.items():
        services.case_attach(actor=handler, case=case, material_key=key, uploaded_file=demo._scan(title, [title]))
    ids.append(case.pk)
print(json.dumps({{"ids": ids, "token": api_token_create(actor=handler, name="chaos")[1]}}))
"""
REPORT = """
import json
from onewindow.cases.models import Case
rows = list(Case.objects.filter(idempotency_key__startswith="chaos-").values_list("pk", "idempotency_key", "number"))
print(json.dumps(rows))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path) -> tuple[dict[str, str], str | None]:
    """The server's environment: its own data folder and database; the PostgreSQL database to drop."""
    env = {**os.environ, "ONEWINDOW_DATA_DIR": str(tmp_path), "ONEWINDOW_HTTPS": "0",
           "DJANGO_SETTINGS_MODULE": "onewindow.config.settings"}
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        name = f"onewindow_chaos_{uuid.uuid4().hex[:10]}"
        dsn = (f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
               f"{database['PORT'] or 5432}/")
        subprocess.run(["psql", dsn + "postgres", "-qc", f'create database "{name}"'], check=True)
        env["DATABASE_URL"] = dsn + name
        return env, name
    env.pop("DATABASE_URL", None)
    return env, None


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "onewindow.config.cli", *args], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "onewindow.config.asgi:application", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "2", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    raise AssertionError("the server did not start")


def _submit(port: int, token: str, case_id: int, timeout: float = 30) -> requests.Response:
    return requests.post(f"http://127.0.0.1:{port}/api/cases/{case_id}/submit", timeout=timeout,
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"chaos-{case_id:08d}"})


def test_kill_during_submission_loses_nothing_and_retries_make_no_duplicates(tmp_path):
    env, database = _environment(tmp_path)
    try:
        _manage(env, "migrate", "--no-input", "-v0")
        _manage(env, "demo", "--quiet-logins")
        prepared = json.loads(_manage(env, "shell", "-c", PREPARE.format(count=DRAFTS)).strip().splitlines()[-1])
        ids, token = prepared["ids"], prepared["token"]
        port = _free_port()

        server = _serve(env, port)
        answered: dict[int, str] = {}

        def submit(case_id: int) -> None:
            try:
                response = _submit(port, token, case_id)
            except requests.RequestException:
                return  # the connection died with the server
            if response.status_code == 200:
                answered[case_id] = response.json()["number"]

        threads = [threading.Thread(target=submit, args=(case_id,)) for case_id in ids]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while not answered and time.monotonic() < deadline:
            time.sleep(0.005)
        os.killpg(server.pid, signal.SIGKILL)  # kill -9, workers included, while submissions run
        server.wait()
        for thread in threads:
            thread.join()
        assert 0 < len(answered), "no submission was answered before the kill"

        server = _serve(env, port)
        try:
            retried = {}
            for case_id in ids:
                response = _submit(port, token, case_id)
                assert response.status_code == 200, response.text
                retried[case_id] = response.json()["number"]
                assert _submit(port, token, case_id).json()["number"] == retried[case_id]
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

        # Every answer given before the kill still stands: nothing accepted was lost.
        assert {case_id: retried[case_id] for case_id in answered} == answered
        rows = json.loads(_manage(env, "shell", "-c", REPORT).strip().splitlines()[-1])
        assert sorted(pk for pk, _key, _number in rows) == sorted(ids)
        numbers = [number for _pk, _key, number in rows]
        assert all(numbers) and len(set(numbers)) == DRAFTS, "a case without a number, or a number twice"
    finally:
        if database:
            dsn = env["DATABASE_URL"].rsplit("/", 1)[0]
            subprocess.run(["psql", dsn + "/postgres", "-qc", f'drop database if exists "{database}" with (force)'])
