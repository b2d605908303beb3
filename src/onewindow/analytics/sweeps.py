"""Analytics' periodic sweeps: each registers itself with `@periodic.sweep`."""

from onewindow.analytics import services  # noqa: F401  (rollup_sweep)
