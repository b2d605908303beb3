"""Core's periodic sweeps: each concern registers its own with `@periodic.sweep`."""
from onewindow.core import tasks  # noqa: F401  (notifications_send)
from onewindow.core.services import calendar  # noqa: F401  (calendar_missing_years_sweep)
from onewindow.core.audit import ledger  # noqa: F401  (seal_sweep)
from onewindow.core import files  # noqa: F401  (files_orphans_sweep)
