"""Rule sets as documents and what they decide.

- `parse_rules` / `parse_examples` check what an editor wrote (refusing with located Chinese
  messages); `check_fields` checks the fields the rules name against an item's form.
- `judge` runs the rules over one application's facts: "approved" when every rule holds,
  "manual" when any rule cannot be evaluated, and for a rule that does not hold "denied" only
  where the rule set allows automatic denial, else "manual". One explanation line per rule.
- `run_examples` judges a rule set's example applications; `decide` is the decider registered
  in `onewindow.cases.hooks.auto_deciders`.
"""

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onewindow.cases import hooks
from onewindow.core.errors import InvalidInput
from onewindow.core.text import unstorable
from onewindow.smart.choices import Outcome, Verdict
from onewindow.smart.rules import (
    CannotEvaluate,
    check_expression,
    evaluate,
    render_template,
    template_paths,
)

logger = logging.getLogger(__name__)

MAX_RULES = 30
MAX_EXAMPLES = 30
MAX_NAME = 100
MAX_EXPLANATION = 500
MAX_DOCUMENT_DEPTH = 40
MAX_DOCUMENT_CHARS = 200_000
# Facts besides the form that rules may name (`var` paths).
FACT_PATHS = (
    "applicant.id_number",
    "applicant.real_name",
    "enterprise.uscc",
    "enterprise.name",
    "case.region",
)
EXAMPLE_APPLICANT_KEYS = frozenset(
    {"id_number", "real_name", "licences", "blacklisted"}
)


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Any
    explanation: str


@dataclass(frozen=True)
class Judgement:
    outcome: str
    lines: list[str]


@dataclass(frozen=True)
class ExampleResult:
    name: str
    expected: str
    outcome: str
    lines: list[str]

    @property
    def passed(self) -> bool:
        return self.outcome == self.expected


# --- the documents -------------------------------------------------------------------------


def _text(value: Any, *, where: str, what: str, max_length: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(
            _("%(where)s缺少%(what)s。") % {"where": where, "what": what}
        )
    if len(text) > max_length:
        raise InvalidInput(
            _("%(where)s的%(what)s过长（不超过 %(n)s 字）。")
            % {"where": where, "what": what, "n": max_length}
        )
    return text


def check_storable(value: Any, *, field: str, label: str) -> None:
    """Refuse what no database should store: NUL characters and unpaired surrogates (PostgreSQL's
    JSON refuses them), numbers that are not finite, nesting or size beyond the bounds."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    chars = 0
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DOCUMENT_DEPTH:
            raise InvalidInput(_("%(label)s嵌套过深。") % {"label": label}, field=field)
        if isinstance(node, dict):
            stack.extend((key, depth + 1) for key in node)
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise InvalidInput(
                _("%(label)s中的数值必须是有限数。") % {"label": label}, field=field
            )
        elif isinstance(node, str):
            chars += len(node)
            if unstorable(node):
                raise InvalidInput(
                    _("%(label)s中含有无法保存的字符。") % {"label": label}, field=field
                )
        if chars > MAX_DOCUMENT_CHARS:
            raise InvalidInput(_("%(label)s过长。") % {"label": label}, field=field)


def parse_rules(value: Any) -> list[Rule]:
    """The rules as written, shape only: a list of {"name", "condition", "explanation"}."""
    if not isinstance(value, list):
        raise InvalidInput(
            _('规则应是一个列表，每条规则写成 {"name", "condition", "explanation"}。'),
            field="rules",
        )
    if len(value) > MAX_RULES:
        raise InvalidInput(_("规则不超过 %(n)s 条。") % {"n": MAX_RULES}, field="rules")
    rules, names = [], set()
    for index, entry in enumerate(value, start=1):
        where = _("第 %(n)s 条规则") % {"n": index}
        if not isinstance(entry, dict) or set(entry) - {
            "name",
            "condition",
            "explanation",
        }:
            raise InvalidInput(
                _("%(where)s应只包含 name、condition、explanation 三项。")
                % {"where": where},
                field="rules",
            )
        name = _text(
            entry.get("name"), where=where, what=_("名称"), max_length=MAX_NAME
        )
        if name in names:
            raise InvalidInput(
                _("规则名称“%(name)s”重复。") % {"name": name}, field="rules"
            )
        names.add(name)
        if "condition" not in entry:
            raise InvalidInput(
                _("规则“%(name)s”缺少条件（condition）。") % {"name": name},
                field="rules",
            )
        explanation = _text(
            entry.get("explanation"),
            where=_("规则“%(name)s”") % {"name": name},
            what=_("说明模板"),
            max_length=MAX_EXPLANATION,
        )
        rules.append(
            Rule(name=name, condition=entry["condition"], explanation=explanation)
        )
    return rules


def parse_examples(value: Any) -> list[dict[str, Any]]:
    """The example applications, shape only: {"name", "form", "applicant", "expected"}."""
    if not isinstance(value, list):
        raise InvalidInput(_("示例申请应是一个列表。"), field="examples")
    if len(value) > MAX_EXAMPLES:
        raise InvalidInput(
            _("示例申请不超过 %(n)s 个。") % {"n": MAX_EXAMPLES}, field="examples"
        )
    examples, names = [], set()
    for index, entry in enumerate(value, start=1):
        where = _("第 %(n)s 个示例申请") % {"n": index}
        if not isinstance(entry, dict) or set(entry) - {
            "name",
            "form",
            "applicant",
            "enterprise",
            "region",
            "expected",
        }:
            raise InvalidInput(
                _(
                    "%(where)s应只包含 name、form、applicant、enterprise、region、expected。"
                )
                % {"where": where},
                field="examples",
            )
        name = _text(
            entry.get("name"), where=where, what=_("名称"), max_length=MAX_NAME
        )
        if name in names:
            raise InvalidInput(
                _("示例申请名称“%(name)s”重复。") % {"name": name}, field="examples"
            )
        names.add(name)
        where = _("示例申请“%(name)s”") % {"name": name}
        if entry.get("expected") not in Outcome.values:
            raise InvalidInput(
                _("%(where)s的预期结果（expected）应为 approved、denied 或 manual。")
                % {"where": where},
                field="examples",
            )
        for key in ("form", "applicant", "enterprise"):
            if not isinstance(entry.get(key, {}), dict):
                raise InvalidInput(
                    _("%(where)s的 %(key)s 应是一个对象。")
                    % {"where": where, "key": key},
                    field="examples",
                )
        unknown = set(entry.get("applicant", {})) - EXAMPLE_APPLICANT_KEYS
        if unknown:
            raise InvalidInput(
                _(
                    "%(where)s的申请人信息只能包含 id_number、real_name、licences、blacklisted，不能包含 %(keys)s。"
                )
                % {"where": where, "keys": "、".join(sorted(map(str, unknown)))},
                field="examples",
            )
        licences = entry.get("applicant", {}).get("licences", [])
        if not isinstance(licences, list) or not all(
            isinstance(code, str) for code in licences
        ):
            raise InvalidInput(
                _("%(where)s的 licences 应是证照类型代码的列表。") % {"where": where},
                field="examples",
            )
        if not isinstance(entry.get("applicant", {}).get("blacklisted", False), bool):
            raise InvalidInput(
                _("%(where)s的 blacklisted 应为 true 或 false。") % {"where": where},
                field="examples",
            )
        examples.append(entry)
    return examples


def form_fields(version: Any) -> dict[str, str]:
    """The keys and types of an item version's application form."""
    fields = ((version.content or {}).get("form") or {}).get("fields") or []
    return {
        field["key"]: field.get("type", "")
        for field in fields
        if isinstance(field, dict) and "key" in field
    }


def known_path(fields: Mapping[str, str]) -> Any:
    def known(path: str) -> bool:
        if path in FACT_PATHS:
            return True
        parts = path.split(".")
        if parts[0] != "form" or len(parts) < 2 or parts[1] not in fields:
            return False
        if fields[parts[1]] == "address":
            return len(parts) == 2 or (
                len(parts) == 3 and parts[2] in ("region", "detail")
            )
        return len(parts) == 2 or fields[parts[1]] == "table"

    return known


def check_fields(rules: list[Rule], fields: Mapping[str, str]) -> None:
    """Refuse rules that do not parse or name a field the form does not have."""
    known = known_path(fields)
    for rule in rules:
        problems = check_expression(rule.condition, known_field=known)
        problems += [
            _("说明模板引用了不存在的字段“%(path)s”。") % {"path": path}
            for path in template_paths(rule.explanation)
            if not known(path)
        ]
        if problems:
            raise InvalidInput(
                _("规则“%(name)s”：%(problems)s")
                % {"name": rule.name, "problems": "".join(problems)},
                field="rules",
            )


# --- judging ---------------------------------------------------------------------------------


def judge(
    rules: list[Rule], data: Mapping[str, Any], sources: Any, *, allow_auto_deny: bool
) -> Judgement:
    lines, verdicts = [], []
    for rule in rules:
        value = evaluate(rule.condition, data, sources)
        if isinstance(value, CannotEvaluate):
            verdict, reason = Verdict.UNKNOWN, value.reason
        elif not isinstance(value, bool):
            verdict, reason = Verdict.UNKNOWN, _("规则的结果不是“是”或“否”")
        else:
            verdict, reason = (Verdict.PASSED if value else Verdict.FAILED), ""
        verdicts.append(verdict)
        line = _("【%(verdict)s】%(name)s：%(explanation)s") % {
            "verdict": verdict.label,
            "name": rule.name,
            "explanation": render_template(rule.explanation, data),
        }
        if reason:
            line += _("（无法判断：%(reason)s，转人工审查）") % {"reason": reason}
        lines.append(line)
    if Verdict.UNKNOWN in verdicts:
        outcome = Outcome.MANUAL
    elif Verdict.FAILED in verdicts:
        outcome = Outcome.DENIED if allow_auto_deny else Outcome.MANUAL
    else:
        outcome = Outcome.APPROVED
    return Judgement(outcome=str(outcome), lines=lines)


class ExampleSources:
    """An example application's applicant facts stand in for the licence library and the
    credit records: a fact the example leaves out cannot be evaluated, as when a source is down."""

    def __init__(self, applicant: Mapping[str, Any], today: dt.date) -> None:
        self.applicant = applicant
        self.today = today

    def holds_licence(self, licence_type: str) -> bool | CannotEvaluate:
        if "licences" not in self.applicant:
            return CannotEvaluate(_("电子证照库不可用"))
        return licence_type in self.applicant["licences"]

    def on_blacklist(self) -> bool | CannotEvaluate:
        if "blacklisted" not in self.applicant:
            return CannotEvaluate(_("信用信息不可用"))
        return bool(self.applicant["blacklisted"])


class CaseSources:
    """The platform's sources for a case: the licence library and the credit records, through
    the case hooks. A source that is not installed, or fails, cannot be asked: the rule that
    needed it cannot be evaluated and a person decides."""

    def __init__(self, case: Any) -> None:
        self.case = case
        self.today = timezone.localdate()

    def _ask(
        self, question: Callable[[], bool], *, unavailable: str
    ) -> bool | CannotEvaluate:
        try:
            # A savepoint, so that a source's database error leaves the case's transaction usable.
            with transaction.atomic():
                return question()
        except Exception:  # any failure of a source sends the case to a person
            logger.exception("a source failed for case %s", self.case.pk)
            return CannotEvaluate(unavailable)

    def holds_licence(self, licence_type: str) -> bool | CannotEvaluate:
        if not hooks.licence_sources:
            return CannotEvaluate(_("电子证照库不可用"))
        return self._ask(
            lambda: bool(
                hooks.available_licences(self.case, licence_type=licence_type)
            ),
            unavailable=_("电子证照库暂时无法访问"),
        )

    def on_blacklist(self) -> bool | CannotEvaluate:
        if not hooks.credit_checks:
            return CannotEvaluate(_("信用信息不可用"))
        return self._ask(
            lambda: (
                hooks.credit_restriction(self.case.applicant, self.case.enterprise)
                is not None
            ),
            unavailable=_("信用信息暂时无法访问"),
        )


def example_data(example: Mapping[str, Any], item: Any) -> dict[str, Any]:
    applicant = example.get("applicant", {})
    return {
        "form": example.get("form", {}),
        "applicant": {
            key: applicant[key]
            for key in ("id_number", "real_name")
            if key in applicant
        },
        "enterprise": example.get("enterprise", {}),
        "case": {"region": example.get("region") or item.region.code},
    }


def case_data(case: Any) -> dict[str, Any]:
    applicant = case.applicant
    enterprise = case.enterprise
    return {
        "form": case.form_data or {},
        "applicant": {
            "id_number": applicant.id_number,
            "real_name": applicant.real_name,
        },
        "enterprise": {"uscc": enterprise.uscc, "name": enterprise.name}
        if enterprise
        else {},
        "case": {"region": case.region.code},
    }


def run_examples(rule_set: Any, *, today: dt.date | None = None) -> list[ExampleResult]:
    """Judge every example application of a rule set (whose documents have been checked)."""
    rules = parse_rules(rule_set.rules)
    day = today or timezone.localdate()
    results = []
    for example in parse_examples(rule_set.examples):
        judgement = judge(
            rules,
            example_data(example, rule_set.item),
            ExampleSources(example.get("applicant", {}), day),
            allow_auto_deny=rule_set.allow_auto_deny,
        )
        results.append(
            ExampleResult(
                name=example["name"],
                expected=example["expected"],
                outcome=judgement.outcome,
                lines=judgement.lines,
            )
        )
    return results


def decide(case: Any) -> hooks.AutoDecision | None:
    """The decider registered with case handling: None when the item has no published rules."""
    from onewindow.smart.selectors import published_rule_set

    rule_set = published_rule_set(case.item_id)
    if rule_set is None:
        return None
    rule_set.item = (
        case.item
    )  # already loaded with the case: names the rule set without a query
    judgement = judge(
        parse_rules(rule_set.rules),
        case_data(case),
        CaseSources(case),
        allow_auto_deny=rule_set.allow_auto_deny,
    )
    return hooks.AutoDecision(
        outcome=judgement.outcome, explanation=judgement.lines, rule_set=rule_set.label
    )
