from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmartConfig(AppConfig):
    name = "onewindow.smart"
    label = "smart"
    verbose_name = _("智慧审批")

    def ready(self) -> None:
        from onewindow.cases import hooks
        from onewindow.smart import selectors
        from onewindow.smart.decisions import decide

        decider = hooks.AutoDecider(
            decide=decide, rules_since=selectors.rules_since, may_decide=selectors.has_rules
        )
        if decider not in hooks.auto_deciders:
            hooks.auto_deciders.append(decider)
