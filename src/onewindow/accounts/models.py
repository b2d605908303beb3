from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.accounts.choices import AccountKind


class User(AbstractUser):
    """One account across all modules (一号通): citizen, enterprise handler or staff."""

    kind = models.CharField(_("账户类型"), max_length=16, choices=AccountKind.choices, default=AccountKind.CITIZEN)
    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
