"""Supervision's periodic sweeps: each registers itself with `@periodic.sweep`."""

from onewindow.supervision import services  # noqa: F401  (warning_sweep, anomaly_sweep)
