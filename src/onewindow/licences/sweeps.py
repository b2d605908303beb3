"""The licence library's periodic sweeps: each registers itself with `@periodic.sweep`."""

from onewindow.licences import services  # noqa: F401  (licences_expiry_sweep)
