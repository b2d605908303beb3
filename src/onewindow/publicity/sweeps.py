"""Publicity's periodic sweeps: each registers itself with `@periodic.sweep`."""

from onewindow.publicity import services  # noqa: F401  (publicity_sweep)
