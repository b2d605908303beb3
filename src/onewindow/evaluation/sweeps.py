"""Evaluation's periodic sweeps: each registers itself with `@periodic.sweep`."""

from onewindow.evaluation import services  # noqa: F401  (evaluation_sweep)
