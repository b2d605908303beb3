from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "onewindow.catalogue"
    label = "catalogue"
    verbose_name = _("事项目录")

    def ready(self) -> None:
        from onewindow.catalogue import files

        files.register()  # staff who edit or review an item read its guide files
