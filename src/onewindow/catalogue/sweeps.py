"""The catalogue's periodic sweeps: each registers itself with `@periodic.sweep`."""
from onewindow.catalogue import services  # noqa: F401  (publish_due_batches_sweep)
