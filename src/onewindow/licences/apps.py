from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "onewindow.licences"
    label = "licences"
    verbose_name = _("电子证照库")

    def ready(self) -> None:
        from onewindow.cases import hooks
        from onewindow.licences.integration import (
            LibrarySource,
            attach_held_licences,
            issue_merged_result,
            issue_result,
        )

        if not any(
            isinstance(source, LibrarySource) for source in hooks.licence_sources
        ):
            hooks.licence_sources.append(LibrarySource())
        if attach_held_licences not in hooks.draft_fillers:
            hooks.draft_fillers.append(attach_held_licences)
        if issue_result not in hooks.result_issuers:
            hooks.result_issuers.append(issue_result)
        if issue_merged_result not in hooks.merged_result_issuers:
            hooks.merged_result_issuers.append(issue_merged_result)
