from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HallConfig(AppConfig):
    name = "onewindow.hall"
    label = "hall"
    verbose_name = _("预约与取号叫号")
