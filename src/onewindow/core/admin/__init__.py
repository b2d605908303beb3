"""Admin screens for core reference data, one module per concern."""
from onewindow.core.admin import regions  # noqa: F401
from onewindow.core.admin import files, notifications  # noqa: F401
from onewindow.core.admin import calendar  # noqa: F401
from onewindow.core.admin import audit  # noqa: F401
