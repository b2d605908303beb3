"""Settings come from the environment, with secure production defaults."""

import json
import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection


def run_with_env(code: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Import the production settings in a fresh interpreter with the given environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ONEWINDOW_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "onewindow.config.settings", "ONEWINDOW_DATA_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    done = run_with_env(
        "import django; django.setup(); from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr


def test_secret_key_is_generated_once_into_the_data_folder(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_with_env(code, tmp_path)
    second = run_with_env(code, tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    assert first.stdout.strip() == second.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_environment_selects_postgres_redis_and_secure_cookies(tmp_path):
    done = run_with_env(
        "import json; from django.conf import settings as s;"
        "print(json.dumps([s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'],"
        "s.CACHES['default']['BACKEND'], s.CHANNEL_LAYERS['default']['BACKEND'], s.TASKS['default']['BACKEND'],"
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECRET_KEY]))",
        tmp_path,
        DATABASE_URL="postgres://ow:pw@db.example:5432/onewindow",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SECRET_KEY="from-the-environment",
    )
    assert done.returncode == 0, done.stderr
    engine, name, cache, layer, tasks, session_secure, csrf_secure, secret = json.loads(done.stdout)
    assert engine == "django.db.backends.postgresql" and name == "onewindow"
    assert cache.endswith("RedisCache") and layer.endswith("RedisChannelLayer")
    assert tasks == "django_tasks_rq.RQBackend"
    assert session_secure and csrf_secure
    assert secret == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_defaults_are_chinese_shanghai_and_argon2():
    from onewindow.config import settings as production

    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_database_connection_settings():
    if connection.vendor == "postgresql":
        assert connection.pg_version >= 130000
        return
    # The embedded default: WAL so readers never block the writer, and a busy timeout.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 10000
