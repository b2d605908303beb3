"""/api/smart/: an item's smart-approval rule sets, for the item's editors (its department's
administrators and platform administrators), with a bearer token or a browser session.

List an item's rule-set versions, start a draft, save it (rules, example applications, whether
automatic denial is allowed), try its examples, publish or discard it. Anyone else gets 404 for
items and rule sets out of their scope; a refusal is a 4xx with a translated `detail` and
changes nothing.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from onewindow.accounts.auth import api_auth
from onewindow.core.api import ACTION_ERRORS
from onewindow.smart import selectors, services
from onewindow.smart.choices import Outcome, RuleSetStatus
from onewindow.smart.decisions import run_examples
from onewindow.smart.models import RuleSet

router = Router(tags=["smart"], auth=api_auth)

MAX_ID = 2**63 - 1
IMPL_CODE = r"^[0-9A-Za-z-]{1,36}$"




ERRORS = ACTION_ERRORS


class RuleSetOut(Schema):
    id: int
    item: str = Field(description="实施编码 of the item")
    item_name: str
    number: int
    status: str = Field(description='"draft", "published", "superseded" or "discarded"')
    status_label: str
    rules: list[Any] = Field(
        description='Rules: {"name", "condition" (JSON Logic subset), "explanation"}'
    )
    examples: list[Any] = Field(
        description='Example applications: {"name", "form", "applicant", "expected"}'
    )
    allow_auto_deny: bool
    change_note: str
    published_at: datetime | None
    superseded_at: datetime | None


class RuleSetIn(Schema):
    rules: list[Any] = Field(
        description='Each rule: {"name": str, "condition": expression, "explanation": template with {form.field} '
        "placeholders}; see docs/smart.md for the operators"
    )
    examples: list[Any] = Field(
        description='Each example: {"name", "form": {...}, "applicant": {"id_number", "real_name", "licences": '
        '[type codes], "blacklisted": bool}, "enterprise": {...}, "region": code, "expected": '
        '"approved" | "denied" | "manual"}'
    )
    allow_auto_deny: bool = False
    change_note: str | None = Field(None, max_length=2000)


class RuleSetStartIn(Schema):
    change_note: str = Field("", max_length=2000)


class ExampleResultOut(Schema):
    name: str
    expected: str
    outcome: str
    outcome_label: str
    passed: bool
    explanation: list[str]


def _out(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "id": rule_set.pk,
        "item": rule_set.item.impl_code,
        "item_name": rule_set.item.name,
        "number": rule_set.number,
        "status": rule_set.status,
        "status_label": str(RuleSetStatus(rule_set.status).label),
        "rules": rule_set.rules,
        "examples": rule_set.examples,
        "allow_auto_deny": rule_set.allow_auto_deny,
        "change_note": rule_set.change_note,
        "published_at": rule_set.published_at,
        "superseded_at": rule_set.superseded_at,
    }


def _rule_set_id() -> Any:
    return Path(..., ge=1, le=MAX_ID)


@router.get(
    "/items/{impl_code}/rule-sets",
    response={200: list[RuleSetOut], **ERRORS},
    summary="Every version of an item's rule sets, newest first",
)
def list_rule_sets(request: HttpRequest, impl_code: str = Path(..., pattern=IMPL_CODE)):
    item = selectors.smart_item(request.auth, impl_code=impl_code)
    return [_out(rule_set) for rule_set in selectors.rule_sets(request.auth, item)]


@router.post(
    "/items/{impl_code}/rule-sets",
    response={201: RuleSetOut, **ERRORS},
    summary="Start a draft (a copy of the published rule set, or empty)",
)
def start_rule_set(
    request: HttpRequest,
    payload: RuleSetStartIn | None = None,
    impl_code: str = Path(..., pattern=IMPL_CODE),
):
    item = selectors.smart_item(request.auth, impl_code=impl_code)
    draft = services.rule_set_start(
        actor=request.auth,
        item=item,
        change_note=payload.change_note if payload else "",
    )
    return Status(201, _out(draft))


@router.get(
    "/rule-sets/{rule_set_id}",
    response={200: RuleSetOut, **ERRORS},
    summary="One rule-set version",
)
def get_rule_set(request: HttpRequest, rule_set_id: int = _rule_set_id()):
    return _out(selectors.rule_set(request.auth, rule_set_id))


@router.put(
    "/rule-sets/{rule_set_id}",
    response={200: RuleSetOut, **ERRORS},
    summary="Save a draft: refused when a rule does not parse or names a field the form lacks",
)
def update_rule_set(
    request: HttpRequest, payload: RuleSetIn, rule_set_id: int = _rule_set_id()
):
    rule_set = services.rule_set_update(
        actor=request.auth,
        rule_set=selectors.rule_set(request.auth, rule_set_id),
        rules=payload.rules,
        examples=payload.examples,
        allow_auto_deny=payload.allow_auto_deny,
        change_note=payload.change_note,
    )
    return _out(rule_set)


@router.get(
    "/rule-sets/{rule_set_id}/examples",
    response={200: list[ExampleResultOut], **ERRORS},
    summary="Run the example applications and show what the rules decide for each",
)
def try_examples(request: HttpRequest, rule_set_id: int = _rule_set_id()):
    results = run_examples(selectors.rule_set(request.auth, rule_set_id))
    return [
        {
            "name": result.name,
            "expected": result.expected,
            "outcome": result.outcome,
            "outcome_label": str(Outcome(result.outcome).label),
            "passed": result.passed,
            "explanation": result.lines,
        }
        for result in results
    ]


@router.post(
    "/rule-sets/{rule_set_id}/publish",
    response={200: RuleSetOut, **ERRORS},
    summary="Publish a draft: refused while any example does not come out as expected",
)
def publish_rule_set(request: HttpRequest, rule_set_id: int = _rule_set_id()):
    return _out(
        services.rule_set_publish(
            actor=request.auth, rule_set=selectors.rule_set(request.auth, rule_set_id)
        )
    )


@router.post(
    "/rule-sets/{rule_set_id}/discard",
    response={200: RuleSetOut, **ERRORS},
    summary="Discard a draft",
)
def discard_rule_set(request: HttpRequest, rule_set_id: int = _rule_set_id()):
    return _out(
        services.rule_set_discard(
            actor=request.auth, rule_set=selectors.rule_set(request.auth, rule_set_id)
        )
    )
