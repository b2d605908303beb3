"""The complaints' periodic sweeps: each registers itself with `@periodic.sweep`."""

from onewindow.complaints import services  # noqa: F401  (complaints_sweep)
