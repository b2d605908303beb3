"""pytest plugin: lets Django flush the database after a transactional test.

The append-only triggers refuse the DELETE (SQLite) or TRUNCATE (PostgreSQL) that Django's
flush issues, so they are dropped just before the test's fixtures are torn down; the flush
then emits post_migrate, which installs them again. Tests that use `available_apps` inhibit
that signal and must call `triggers.install()` themselves.
"""

import pytest
from django.db import connections
from pytest_django.fixtures import validate_django_db

from onewindow.core.audit import triggers

_TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}
# Set once the test body starts, i.e. its database fixtures were set up (not skipped).
_ran = pytest.StashKey[bool]()


def _transactional(item: pytest.Item) -> bool:
    if _TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    transaction, reset_sequences, *_rest = validate_django_db(marker)
    return bool(transaction or reset_sequences)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    item.stash[_ran] = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if item.stash.get(_ran, False) and _transactional(item):
        for alias in connections:
            triggers.uninstall(using=alias)
