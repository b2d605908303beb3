"""Every change to smart-approval rule sets: one keyword-only function per action, one
transaction, one audit entry. Rule sets follow `RULE_SET_LIFECYCLE`:

    draft ──publish──▶ published ──(a newer version is published)──▶ superseded
    draft ──discard──▶ discarded

Only the item's editors act (its department's administrators and platform administrators, as
for the item's guide). A draft is checked whenever it is saved: rules that do not parse or that
name a field the item's form does not have are refused then. Publishing also runs every example
application and is refused while any of them does not come out as expected.
"""

from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.catalogue.models import ImplementationItem
from onewindow.catalogue.services import may_edit
from onewindow.core import audit
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.smart.choices import Outcome, RuleSetStatus
from onewindow.smart.decisions import (
    check_fields,
    check_storable,
    form_fields,
    parse_examples,
    parse_rules,
    run_examples,
)
from onewindow.smart.models import RuleSet
from onewindow.smart.selectors import RULE_ITEMS_CACHE_KEY

MAX_NOTE = 2000


def _may_edit_rule_set(actor: Any, rule_set: RuleSet) -> bool:
    return may_edit(actor, rule_set.item)


S = RuleSetStatus
RULE_SET_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该规则集"),
    state_labels=dict(RuleSetStatus.choices),
    transitions=[
        Transition(
            "edit", frozenset({S.DRAFT}), None, gettext_lazy("修改"), _may_edit_rule_set
        ),
        Transition(
            "publish",
            frozenset({S.DRAFT}),
            S.PUBLISHED,
            gettext_lazy("发布"),
            _may_edit_rule_set,
        ),
        Transition(
            "discard",
            frozenset({S.DRAFT}),
            S.DISCARDED,
            gettext_lazy("废弃"),
            _may_edit_rule_set,
        ),
    ],
)


def _facts(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "item": rule_set.item.impl_code,
        "number": rule_set.number,
        "status": rule_set.status,
        "rules": len(rule_set.rules),
        "examples": len(rule_set.examples),
        "allow_auto_deny": rule_set.allow_auto_deny,
    }


def _locked(rule_set: RuleSet, action: str, actor: Any) -> tuple[RuleSet, Transition]:
    locked = (
        RuleSet.objects.select_for_update(of=("self",))
        .select_related("item__region", "item__department", "item__current_version")
        .get(pk=rule_set.pk)
    )
    return locked, RULE_SET_LIFECYCLE.check(
        action, state=locked.status, actor=actor, obj=locked
    )


def _published_form(item: ImplementationItem) -> dict[str, str]:
    if item.current_version is None:
        raise DomainError(
            _("事项“%(name)s”尚未发布，不能配置智能审批规则。")
            % {"name": item.name or item.impl_code}
        )
    return form_fields(item.current_version)


def _note(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    check_storable(text, field="change_note", label=_("变更说明"))
    if len(text) > MAX_NOTE:
        raise InvalidInput(
            _("变更说明过长（不超过 %(n)s 字）。") % {"n": MAX_NOTE},
            field="change_note",
        )
    return text


@transaction.atomic
def rule_set_start(
    *, actor: Any, item: ImplementationItem, change_note: str = ""
) -> RuleSet:
    """A new draft for an item: a copy of the published rule set, or empty for a first one."""
    locked = (
        ImplementationItem.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=item.pk)
    )
    if not may_edit(actor, locked):
        raise PermissionDenied(
            _("只有本部门的部门管理员或平台管理员可以配置该事项的智能审批规则。")
        )
    _published_form(locked)
    if locked.rule_sets.filter(status=S.DRAFT).exists():
        raise DomainError(_("该事项已有一个规则集草稿，请在草稿上继续修改。"))
    source = locked.rule_sets.filter(status=S.PUBLISHED).first()
    number = (locked.rule_sets.aggregate(Max("number"))["number__max"] or 0) + 1
    try:
        with transaction.atomic():
            rule_set = RuleSet.objects.create(
                item=locked,
                number=number,
                created_by=actor,
                change_note=_note(change_note),
                rules=source.rules if source else [],
                examples=source.examples if source else [],
                allow_auto_deny=source.allow_auto_deny if source else False,
            )
    except IntegrityError:
        raise DomainError(_("该事项已有一个规则集草稿，请在草稿上继续修改。")) from None
    audit.record(
        actor=actor,
        action="smart.rule_set.start",
        target=rule_set,
        after={**_facts(rule_set), "from": source.number if source else None},
    )
    return rule_set


@transaction.atomic
def rule_set_update(
    *,
    actor: Any,
    rule_set: RuleSet,
    rules: Any,
    examples: Any,
    allow_auto_deny: bool,
    change_note: str | None = None,
) -> RuleSet:
    """Save a draft. Rules must parse and name only fields of the item's published form."""
    locked, _transition = _locked(rule_set, "edit", actor)
    check_storable(rules, field="rules", label=_("规则"))
    check_storable(examples, field="examples", label=_("示例申请"))
    parsed = parse_rules(rules)
    check_fields(parsed, _published_form(locked.item))
    parse_examples(examples)
    if not isinstance(allow_auto_deny, bool):
        raise InvalidInput(_("“允许自动不予批准”应为是或否。"), field="allow_auto_deny")
    locked.rules = rules
    locked.examples = examples
    locked.allow_auto_deny = allow_auto_deny
    if change_note is not None:
        locked.change_note = _note(change_note)
    locked.save(
        update_fields=[
            "rules",
            "examples",
            "allow_auto_deny",
            "change_note",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor, action="smart.rule_set.update", target=locked, after=_facts(locked)
    )
    return locked


@transaction.atomic
def rule_set_publish(*, actor: Any, rule_set: RuleSet) -> RuleSet:
    """Put a draft in force: refused while it has no rule or no example, a rule does not check
    against the item's published form, or an example does not come out as expected."""
    locked, transition = _locked(rule_set, "publish", actor)
    item = locked.item
    parsed = parse_rules(locked.rules)
    if not parsed:
        raise InvalidInput(_("规则集至少要有一条规则。"), field="rules")
    check_fields(parsed, _published_form(item))
    examples = parse_examples(locked.examples)
    if not examples:
        raise InvalidInput(
            _("规则集至少要有一个示例申请，才能验证规则后发布。"), field="examples"
        )
    if not any(example["expected"] == Outcome.APPROVED for example in examples):
        raise InvalidInput(
            _("至少要有一个预期“自动准予”的示例申请。"), field="examples"
        )
    failing = [result for result in run_examples(locked) if not result.passed]
    if failing:
        raise InvalidInput(
            _("以下示例申请的结果与预期不符，不能发布：%(examples)s。")
            % {
                "examples": "；".join(
                    _("“%(name)s”预期%(expected)s，实际%(outcome)s")
                    % {
                        "name": result.name,
                        "expected": Outcome(result.expected).label,
                        "outcome": Outcome(result.outcome).label,
                    }
                    for result in failing
                )
            },
            field="examples",
        )
    now = timezone.now()
    previous = (
        RuleSet.objects.select_for_update()
        .filter(item=item, status=S.PUBLISHED)
        .first()
    )
    if previous is not None:
        previous.status = S.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
    locked.status = transition.target
    locked.published_at = now
    locked.published_by = actor
    locked.checked_version = item.current_version
    locked.save(
        update_fields=[
            "status",
            "published_at",
            "published_by",
            "checked_version",
            "updated_at",
        ]
    )
    transaction.on_commit(partial(cache.delete, RULE_ITEMS_CACHE_KEY))
    audit.record(
        actor=actor,
        action="smart.rule_set.publish",
        target=locked,
        before={"published": previous.number if previous else None},
        after={**_facts(locked), "item_version": item.current_version.number},
    )
    return locked


@transaction.atomic
def rule_set_discard(*, actor: Any, rule_set: RuleSet) -> RuleSet:
    locked, transition = _locked(rule_set, "discard", actor)
    locked.status = transition.target
    locked.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="smart.rule_set.discard",
        target=locked,
        after=_facts(locked),
    )
    return locked
