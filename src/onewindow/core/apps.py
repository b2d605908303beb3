from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "onewindow.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        from onewindow.core import periodic
        from onewindow.core.audit import triggers

        periodic.autodiscover()
        triggers.connect(self)
        _convert_long_statements_once()


def _convert_long_statements_once() -> None:
    """psycopg turns a statement's %s placeholders into $n once and keeps the result, except
    for a statement over 4 KB or 50 parameters (ad-hoc ORM statements of that size rarely
    recur). Ours of that size are the fixed few `core.prepared` makes, run by every case action:
    the case read with the rows it points to (8 KB) and the case row's UPDATE (55 parameters).
    Converting them on every run cost about 5% of a submission's Python calls. psycopg has no
    setting for these limits; without psycopg (SQLite only) there is nothing to do."""
    try:
        from psycopg import _queries
    except ImportError:
        return
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", 0), 16 * 1024)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", 0), 100)
