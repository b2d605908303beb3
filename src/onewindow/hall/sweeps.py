"""The hall's periodic sweeps: each registers itself with `@periodic.sweep`."""
from onewindow.hall import services  # noqa: F401  (hall_day_end_sweep)
