"""Declared lifecycles: one transition table per lifecycle (states, actions, who may act, guards).

    VERSION_LIFECYCLE = Lifecycle(
        name=_("事项版本"),
        transitions=[
            Transition("submit", frozenset({DRAFT}), IN_REVIEW, _("提交法制审核"), may_edit),
            ...
        ],
    )
    VERSION_LIFECYCLE.check("submit", state=version.status, actor=user, obj=version)

`check` raises DomainError (409) for an action not allowed in the current state and
PermissionDenied (403) when the actor may not take it; services call it first and then write
the target state with a conditional update, so two people acting at once cannot both succeed.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from onewindow.core.errors import DomainError, PermissionDenied

Allowed = Callable[[Any, Any], bool]


def _anyone(actor: Any, obj: Any) -> bool:
    return True


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: an action that leaves the state as it is (editing a draft)
    label: Any
    allowed: Allowed = _anyone


class Lifecycle:
    def __init__(self, *, name: Any, state_labels: dict[str, Any], transitions: Iterable[Transition]) -> None:
        self.name = name
        self.state_labels = state_labels
        self.transitions = {transition.action: transition for transition in transitions}

    def transition(self, action: str) -> Transition:
        return self.transitions[action]

    def check(self, action: str, *, state: str, actor: Any, obj: Any) -> Transition:
        transition = self.transitions[action]
        if state not in transition.sources:
            raise DomainError(
                _("%(object)s当前为“%(state)s”，不能%(action)s。")
                % {"object": self.name, "state": self.state_labels.get(state, state), "action": transition.label}
            )
        if not transition.allowed(actor, obj):
            raise PermissionDenied(_("您没有权限%(action)s。") % {"action": transition.label})
        return transition

    def available(self, *, state: str, actor: Any, obj: Any) -> list[Transition]:
        """The actions `actor` may take now, in declaration order (for buttons)."""
        return [t for t in self.transitions.values() if state in t.sources and t.allowed(actor, obj)]
