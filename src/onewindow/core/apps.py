from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "onewindow.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        from onewindow.core import periodic
        from onewindow.core.audit import triggers

        periodic.autodiscover()
        triggers.connect(self)
