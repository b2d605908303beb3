"""The cases' periodic sweeps: each registers itself with `@periodic.sweep`."""
from onewindow.cases import services  # noqa: F401  (accept_on_receipt_sweep, auto_decide_sweep, deferral_sweep)
