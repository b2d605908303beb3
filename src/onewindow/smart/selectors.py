"""Reads of smart-approval rule sets, scoped by the actor: the editors of an item (its
department's administrators, platform administrators) see its rule sets; nobody else does."""

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.db.models import Min, Prefetch, QuerySet
from django.utils.translation import gettext as _

from onewindow.catalogue.models import ImplementationItem
from onewindow.catalogue.selectors import editable_items
from onewindow.core.errors import NotFound
from onewindow.core.prepared import PreparedRead, loaded
from onewindow.smart.choices import RuleSetStatus
from onewindow.smart.models import RuleSet


# The decider's one read per case: no join, no sort, its SQL built once.
_PUBLISHED_READ = PreparedRead(
    lambda item: RuleSet.objects.filter(item_id=item, status=RuleSetStatus.PUBLISHED)
    .order_by()
    .values_list("id", "item_id", "number", "rules", "allow_auto_deny"),
    item=int,
)


def published_rule_set(item_id: int) -> RuleSet | None:
    """The rule set in force for an item (only the fields the decider reads)."""
    rows = _PUBLISHED_READ.rows(item=item_id)
    return loaded(RuleSet, rows[0]) if rows else None


RULE_ITEMS_CACHE_KEY = "smart:rule-items"
RULE_ITEMS_CACHE_SECONDS = 60


def rules_since() -> dict[int, dt.datetime]:
    """Items that have rules, each with when its first rule set was published (a published rule
    set is only ever superseded by a newer one, so an item that has had rules keeps them)."""
    return dict(
        RuleSet.objects.filter(published_at__isnull=False)
        .values("item_id")
        .annotate(since=Min("published_at"))
        .order_by()
        .values_list("item_id", "since")
    )


def has_rules(item_id: int) -> bool:
    """The submission's cheap check, from a cache that publishing clears (other processes' caches
    may lag by up to RULE_ITEMS_CACHE_SECONDS; the automatic-decision sweep covers that)."""
    items = cache.get(RULE_ITEMS_CACHE_KEY)
    if items is None:
        items = frozenset(rules_since())
        cache.set(RULE_ITEMS_CACHE_KEY, items, RULE_ITEMS_CACHE_SECONDS)
    return item_id in items


def smart_items(actor: Any) -> QuerySet[ImplementationItem]:
    """Published items the actor may give rules, each with `live_rule_sets` (its published rule
    set and its draft, newest first) prefetched."""
    live = RuleSet.objects.filter(
        status__in=(RuleSetStatus.PUBLISHED, RuleSetStatus.DRAFT)
    ).order_by("-number")
    return (
        editable_items(actor)
        .filter(current_version__isnull=False)
        .prefetch_related(
            Prefetch("rule_sets", queryset=live, to_attr="live_rule_sets")
        )
        .order_by("department__name", "impl_code")
    )


def smart_item(
    actor: Any, *, pk: int | None = None, impl_code: str | None = None
) -> ImplementationItem:
    items = editable_items(actor)
    item = (
        items.filter(pk=pk).first()
        if pk is not None
        else items.filter(impl_code=impl_code).first()
    )
    if item is None:
        raise NotFound(_("没有找到该事项。"))
    return item


def rule_sets(actor: Any, item: ImplementationItem) -> QuerySet[RuleSet]:
    """Every version of an item's rule sets, newest first (the item comes from `smart_item`)."""
    return RuleSet.objects.filter(item=item).select_related(
        "item__region", "created_by", "published_by"
    )


def rule_set(actor: Any, pk: int) -> RuleSet:
    found = (
        RuleSet.objects.filter(pk=pk, item__in=editable_items(actor))
        .select_related("item__region", "item__department", "item__current_version")
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该规则集。"))
    return found
