from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "onewindow.cases"
    label = "cases"
    verbose_name = _("办件")

    def ready(self) -> None:
        from onewindow.cases.selectors import may_read_material
        from onewindow.core.files import register_read_rule

        register_read_rule(may_read_material)
