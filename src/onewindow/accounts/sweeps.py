from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from onewindow.accounts.models import UserSession
from onewindow.core.periodic import sweep


@sweep(every_seconds=3600)
def user_sessions_prune() -> int:
    """Forget session records older than the absolute session lifetime: those sessions have
    expired however active they were."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS)
    return UserSession.objects.filter(created_at__lt=cutoff).delete()[0]
