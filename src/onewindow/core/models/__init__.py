"""Core models, one module per concern; this package re-exports them for Django."""

from onewindow.core.models.base import TimeStampedModel  # noqa: F401
from onewindow.core.models.regions import Department, Region  # noqa: F401
from onewindow.core.models.audit import AuditEntry, TreeHead  # noqa: F401
from onewindow.core.models.calendar import CalendarDay, CalendarRevision, CalendarYear  # noqa: F401
from onewindow.core.models.files import FileKind, StoredFile  # noqa: F401
from onewindow.core.models.notifications import DeliveryStatus, Notification, NotificationDelivery  # noqa: F401
