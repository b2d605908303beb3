"""Smart approval in the staff workbench: the items a department administrator may give rules,
and per item its rule set in force, its draft editor (the rules and example applications as
JSON, whether automatic denial is allowed) with what the rules decide for each example, and
earlier versions. Thin views: reads through `selectors`, every change through `services`; a
refusal is shown on the page with its 4xx status and changes nothing."""

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import role_required
from onewindow.core.errors import DomainError, InvalidInput
from onewindow.core.refusals import problem_page, refusals_as
from onewindow.smart import selectors, services
from onewindow.smart.choices import Outcome, RuleSetStatus
from onewindow.smart.decisions import run_examples
from onewindow.smart.models import RuleSet

EDITOR_ROLES = (Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)
ITEMS_PER_PAGE = 30

domain_errors = refusals_as(
    problem_page("smart:items", gettext_lazy("返回智能审批规则"))
)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _parsed_json(text: str, *, field: str, label: str) -> Any:
    try:
        return json.loads(text or "[]")
    except ValueError as exc:
        raise InvalidInput(
            _("%(label)s不是有效的 JSON：第 %(line)s 行第 %(column)s 列附近有误。")
            % {
                "label": label,
                "line": getattr(exc, "lineno", "?"),
                "column": getattr(exc, "colno", "?"),
            },
            field=field,
        ) from None


@role_required(*EDITOR_ROLES)
def items_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.smart_items(request.user), ITEMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = []
    for item in page.object_list:
        by_status = {rule_set.status: rule_set for rule_set in item.live_rule_sets}
        rows.append(
            {
                "item": item,
                "published": by_status.get(RuleSetStatus.PUBLISHED),
                "draft": by_status.get(RuleSetStatus.DRAFT),
            }
        )
    return render(request, "smart/items.html", {"page": page, "rows": rows})


def _item_page(
    request: HttpRequest,
    item: Any,
    *,
    error: str = "",
    editor: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    versions = list(selectors.rule_sets(request.user, item))
    draft = next(
        (rule_set for rule_set in versions if rule_set.status == RuleSetStatus.DRAFT),
        None,
    )
    published = next(
        (
            rule_set
            for rule_set in versions
            if rule_set.status == RuleSetStatus.PUBLISHED
        ),
        None,
    )
    results = []
    if draft is not None:
        try:
            results = [
                {
                    "name": result.name,
                    "passed": result.passed,
                    "lines": result.lines,
                    "expected_label": Outcome(result.expected).label,
                    "outcome_label": Outcome(result.outcome).label,
                }
                for result in run_examples(draft)
            ]
        except (
            InvalidInput
        ):  # a draft saved before a check was tightened: shown, not tried
            results = []
        editor = editor or {
            "rules": _pretty(draft.rules),
            "examples": _pretty(draft.examples),
            "allow_auto_deny": draft.allow_auto_deny,
            "change_note": draft.change_note,
        }
    return render(
        request,
        "smart/item.html",
        {
            "item": item,
            "draft": draft,
            "published": published,
            "published_rules": [
                {
                    **rule,
                    "condition": json.dumps(rule.get("condition"), ensure_ascii=False),
                }
                for rule in (published.rules if published else [])
            ],
            "versions": versions,
            "error": error,
            "editor": editor,
            "results": results,
            "all_passed": bool(results) and all(r["passed"] for r in results),
        },
        status=status,
    )


@role_required(*EDITOR_ROLES)
@domain_errors
def item_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _item_page(request, selectors.smart_item(request.user, pk=pk))


@require_POST
@role_required(*EDITOR_ROLES)
@domain_errors
def start_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.smart_item(request.user, pk=pk)
    try:
        services.rule_set_start(actor=request.user, item=item)
    except DomainError as exc:
        return _item_page(request, item, error=exc.message, status=exc.status_code)
    messages.success(request, _("已建立规则集草稿。"))
    return redirect("smart:item", pk=item.pk)


def _draft(request: HttpRequest, pk: int) -> RuleSet:
    return selectors.rule_set(request.user, pk)


@require_POST
@role_required(*EDITOR_ROLES)
@domain_errors
def save_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule_set = _draft(request, pk)
    editor = {
        "rules": request.POST.get("rules", ""),
        "examples": request.POST.get("examples", ""),
        "allow_auto_deny": request.POST.get("allow_auto_deny") == "on",
        "change_note": request.POST.get("change_note", ""),
    }
    try:
        services.rule_set_update(
            actor=request.user,
            rule_set=rule_set,
            rules=_parsed_json(editor["rules"], field="rules", label=_("规则")),
            examples=_parsed_json(
                editor["examples"], field="examples", label=_("示例申请")
            ),
            allow_auto_deny=editor["allow_auto_deny"],
            change_note=editor["change_note"],
        )
    except DomainError as exc:
        return _item_page(
            request,
            rule_set.item,
            error=exc.message,
            editor=editor,
            status=exc.status_code,
        )
    messages.success(request, _("规则集草稿已保存，示例申请已重新试算。"))
    return redirect("smart:item", pk=rule_set.item_id)


def _action(service: Any, success: str) -> Any:
    @require_POST
    @role_required(*EDITOR_ROLES)
    @domain_errors
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        rule_set = _draft(request, pk)
        try:
            service(actor=request.user, rule_set=rule_set)
        except DomainError as exc:
            return _item_page(
                request, rule_set.item, error=exc.message, status=exc.status_code
            )
        messages.success(request, success)
        return redirect("smart:item", pk=rule_set.item_id)

    return view


publish_view = _action(
    services.rule_set_publish,
    gettext_lazy("规则集已发布，新提交的申请按此规则智能审批。"),
)
discard_view = _action(services.rule_set_discard, gettext_lazy("规则集草稿已废弃。"))
