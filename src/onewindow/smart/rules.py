"""The rule language of smart approval (智慧审批): a subset of JSON Logic, checked when a rule
set is saved and evaluated here, without `eval` or any code generation.

An expression is JSON: a literal (string, number, true/false, null, a list of expressions) or
an operation, an object with exactly one key naming the operator and its arguments:

    {">=": [{"age_from_id": [{"var": "applicant.id_number"}]}, 60]}

Operators: `var`, `==`, `!=`, `<`, `<=`, `>`, `>=` (`<` and `<=` also take three arguments,
"between"), `and`, `or`, `!`, `in`, `if`, and the domain operators `age_from_id` (full years
from a resident ID number), `holds_licence` (the applicant holds a valid licence of a type),
`on_blacklist` (the applicant or their enterprise is restricted in the credit records) and
`in_region` (a region code or address lies in a region).

Typing is strict, unlike JavaScript: numbers compare only with numbers (a form's number field,
stored as a decimal string such as "3.50", counts as one), `and`, `or`, `!` and `if` take only
true or false. Whatever cannot be decided — a missing or empty field, a value of the wrong
type, a data source that is not available — is a `CannotEvaluate` value carrying the reason,
never an exception: it travels up the expression (the first one met, left to right) and sends
the application to a person.
"""

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from onewindow.core.identifiers import (
    normalise_region_code,
    parent_region_code,
    parse_id_number,
)

# Bounds that keep one evaluation small whatever the input: an expression deeper or larger than
# this is refused when a rule set is saved, and cannot be evaluated if it reaches the evaluator.
MAX_DEPTH = 32
MAX_NODES = 500
_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,10})?")
_VAR_PATH = re.compile(r"[a-z][a-z0-9_]{0,39}(\.[a-z0-9_]{1,40}){0,4}")


@dataclass(frozen=True)
class CannotEvaluate:
    """Why an expression has no value (in the reader's language)."""

    reason: str


class Sources(Protocol):
    """Facts a rule may ask about that are not in the application itself."""

    today: dt.date

    def holds_licence(self, licence_type: str) -> bool | CannotEvaluate: ...

    def on_blacklist(self) -> bool | CannotEvaluate: ...


# --- values ----------------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    """A JSON number or a form's decimal string as a Decimal; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, Decimal))


def _equal(a: Any, b: Any, depth: int = 0) -> bool:
    """Strict equality: true is not 1, "1" is not 1 unless one side is a number and the other a
    decimal string (form numbers are stored as strings). Values nested deeper than MAX_DEPTH
    are not equal."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) or _is_number(b):
        left, right = _number(a), _number(b)
        return left is not None and right is not None and left == right
    if depth > MAX_DEPTH:
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(
            _equal(a[key], b[key], depth + 1) for key in a
        )
    return type(a) is type(b) and a == b


def display(value: Any) -> str:
    """A value as an explanation shows it: short, and never failing on odd input."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, int) and abs(value) >= 10**30:
        return _("（数值过大）")
    if isinstance(value, dict):
        if "region" in value:  # an address
            parts = (value.get("region"), value.get("detail"))
            return (
                " ".join(part[:60] for part in parts if isinstance(part, str) and part)
                or "—"
            )
        return "{…}"
    if isinstance(value, list):
        return "[…]" if value else "[]"
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path ("form.address.region"), or a CannotEvaluate naming the path."""
    current: Any = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return CannotEvaluate(_("缺少“%(field)s”") % {"field": path})
    if current is None or current == "" or current == []:
        return CannotEvaluate(_("“%(field)s”未填写") % {"field": path})
    return current


# --- evaluation ------------------------------------------------------------------------------


class _Evaluation:
    def __init__(self, data: Mapping[str, Any], sources: Sources) -> None:
        self.data = data
        self.sources = sources
        self.nodes = 0

    def value(self, expression: Any, depth: int) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            return CannotEvaluate(_("规则过于复杂"))
        if isinstance(expression, list):
            values = []
            for element in expression:
                value = self.value(element, depth + 1)
                if isinstance(value, CannotEvaluate):
                    return value
                values.append(value)
            return values
        if not isinstance(expression, dict):
            return expression
        if len(expression) != 1:
            return CannotEvaluate(_("运算应是只有一个键的对象"))
        ((operator, arguments),) = expression.items()
        handler = OPERATORS.get(operator) if isinstance(operator, str) else None
        if handler is None:
            return CannotEvaluate(
                _("未知的运算“%(operator)s”") % {"operator": display(operator)}
            )
        if not isinstance(arguments, list):
            arguments = [arguments]
        return handler(self, arguments, depth + 1)

    def values(self, arguments: list[Any], depth: int) -> list[Any] | CannotEvaluate:
        """Every argument's value, or the first CannotEvaluate among them."""
        values = []
        for argument in arguments:
            value = self.value(argument, depth)
            if isinstance(value, CannotEvaluate):
                return value
            values.append(value)
        return values

    def truth(self, argument: Any, depth: int) -> bool | CannotEvaluate:
        value = self.value(argument, depth)
        if isinstance(value, (CannotEvaluate, bool)):
            return value
        return CannotEvaluate(
            _("“%(value)s”不是“是”或“否”") % {"value": display(value)}
        )


def _arity(arguments: list[Any], *counts: int) -> CannotEvaluate | None:
    if len(arguments) in counts:
        return None
    return CannotEvaluate(_("参数个数不对"))


def _var(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if problem := _arity(arguments, 1, 2):
        return problem
    path = ev.value(arguments[0], depth)
    if isinstance(path, CannotEvaluate):
        return path
    if not isinstance(path, str) or not _VAR_PATH.fullmatch(path):
        return CannotEvaluate(_("字段名“%(path)s”无效") % {"path": display(path)})
    found = lookup(ev.data, path)
    if isinstance(found, CannotEvaluate) and len(arguments) == 2:
        return ev.value(arguments[1], depth)
    return found


def _equals(negate: bool) -> Callable[[_Evaluation, list[Any], int], Any]:
    def compare(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
        if problem := _arity(arguments, 2):
            return problem
        values = ev.values(arguments, depth)
        if isinstance(values, CannotEvaluate):
            return values
        return _equal(*values) != negate

    return compare


def _ordering(
    check: Callable[[Decimal, Decimal], bool], *, between: bool
) -> Callable[[_Evaluation, list[Any], int], Any]:
    def compare(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
        if problem := _arity(arguments, *((2, 3) if between else (2,))):
            return problem
        values = ev.values(arguments, depth)
        if isinstance(values, CannotEvaluate):
            return values
        numbers = [_number(value) for value in values]
        for value, number in zip(values, numbers):
            if number is None:
                return CannotEvaluate(
                    _("“%(value)s”不是数值") % {"value": display(value)}
                )
        return all(check(left, right) for left, right in itertools.pairwise(numbers))

    return compare


def _and(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if not arguments:
        return CannotEvaluate(_("参数个数不对"))
    for argument in arguments:
        value = ev.truth(argument, depth)
        if value is not True:
            return value
    return True


def _or(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if not arguments:
        return CannotEvaluate(_("参数个数不对"))
    for argument in arguments:
        value = ev.truth(argument, depth)
        if value is not False:
            return value
    return False


def _not(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if problem := _arity(arguments, 1):
        return problem
    value = ev.truth(arguments[0], depth)
    return value if isinstance(value, CannotEvaluate) else not value


def _in(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if problem := _arity(arguments, 2):
        return problem
    values = ev.values(arguments, depth)
    if isinstance(values, CannotEvaluate):
        return values
    needle, haystack = values
    if isinstance(haystack, list):
        return any(_equal(needle, element) for element in haystack)
    if isinstance(haystack, str) and isinstance(needle, str):
        return needle in haystack
    return CannotEvaluate(_("“在其中”需要一个列表或一段文字"))


def _if(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if len(arguments) < 3 or len(arguments) % 2 == 0:
        return CannotEvaluate(_("参数个数不对"))
    for index in range(0, len(arguments) - 1, 2):
        condition = ev.truth(arguments[index], depth)
        if isinstance(condition, CannotEvaluate):
            return condition
        if condition:
            return ev.value(arguments[index + 1], depth)
    return ev.value(arguments[-1], depth)


def _age_from_id(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if problem := _arity(arguments, 1):
        return problem
    number = ev.value(arguments[0], depth)
    if isinstance(number, CannotEvaluate):
        return number
    if not isinstance(number, str):
        return CannotEvaluate(_("身份证号码应为文字"))
    try:
        born = parse_id_number(number).birth_date
    except ValidationError as exc:
        return CannotEvaluate(
            _("身份证号码无效：%(reason)s") % {"reason": " ".join(exc.messages)}
        )
    today = ev.sources.today
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _holds_licence(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if problem := _arity(arguments, 1):
        return problem
    licence_type = ev.value(arguments[0], depth)
    if isinstance(licence_type, CannotEvaluate):
        return licence_type
    if not isinstance(licence_type, str) or not licence_type:
        return CannotEvaluate(_("证照类型应为证照类型代码"))
    return ev.sources.holds_licence(licence_type)


def _on_blacklist(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if problem := _arity(arguments, 0):
        return problem
    return ev.sources.on_blacklist()


def region_within(code: str, region: str) -> bool:
    """Whether region `code` is `region` or lies below it (GB/T 2260 codes carry their parents)."""
    target = normalise_region_code(region)
    current: str | None = normalise_region_code(code)
    while current is not None:
        if current == target:
            return True
        current = parent_region_code(current)
    return False


def _in_region(ev: _Evaluation, arguments: list[Any], depth: int) -> Any:
    if problem := _arity(arguments, 2):
        return problem
    values = ev.values(arguments, depth)
    if isinstance(values, CannotEvaluate):
        return values
    place, region = values
    if isinstance(place, dict):  # an address field: {"region": code, "detail": text}
        place = place.get("region")
    if not isinstance(place, str) or not isinstance(region, str):
        return CannotEvaluate(_("行政区划代码应为文字"))
    try:
        return region_within(place, region)
    except ValidationError as exc:
        return CannotEvaluate(
            _("行政区划代码无效：%(reason)s") % {"reason": " ".join(exc.messages)}
        )


OPERATORS: dict[str, Callable[[_Evaluation, list[Any], int], Any]] = {
    "var": _var,
    "==": _equals(negate=False),
    "!=": _equals(negate=True),
    "<": _ordering(lambda a, b: a < b, between=True),
    "<=": _ordering(lambda a, b: a <= b, between=True),
    ">": _ordering(lambda a, b: a > b, between=False),
    ">=": _ordering(lambda a, b: a >= b, between=False),
    "and": _and,
    "or": _or,
    "!": _not,
    "in": _in,
    "if": _if,
    "age_from_id": _age_from_id,
    "holds_licence": _holds_licence,
    "on_blacklist": _on_blacklist,
    "in_region": _in_region,
}
# How many arguments each operator takes (None: one or more).
ARITY: dict[str, tuple[int, ...] | None] = {
    "var": (1, 2),
    "==": (2,),
    "!=": (2,),
    "<": (2, 3),
    "<=": (2, 3),
    ">": (2,),
    ">=": (2,),
    "and": None,
    "or": None,
    "!": (1,),
    "in": (2,),
    "if": None,
    "age_from_id": (1,),
    "holds_licence": (1,),
    "on_blacklist": (0,),
    "in_region": (2,),
}


def evaluate(expression: Any, data: Mapping[str, Any], sources: Sources) -> Any:
    """The value of `expression` over `data`, or a CannotEvaluate. Never raises for JSON input."""
    return _Evaluation(data, sources).value(expression, 0)


# --- checking when a rule set is saved -------------------------------------------------------


def check_expression(
    expression: Any, *, known_field: Callable[[str], bool]
) -> list[str]:
    """Everything wrong with an expression as written: unknown operators, wrong argument counts,
    `var` paths that are not literal or name no known field, nesting beyond the bounds."""
    problems: list[str] = []
    nodes = 0
    too_complex = _(
        "规则过于复杂（嵌套不超过 %(depth)s 层，共不超过 %(nodes)s 个元素）。"
    ) % {"depth": MAX_DEPTH, "nodes": MAX_NODES}

    def walk(node: Any, depth: int) -> None:
        nonlocal nodes
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            if too_complex not in problems:
                problems.append(too_complex)
            return
        if isinstance(node, list):
            for element in node:
                walk(element, depth + 1)
            return
        if isinstance(node, float) and not math.isfinite(node):
            problems.append(_("数值必须是有限数。"))
            return
        if not isinstance(node, dict):
            return
        if len(node) != 1:
            problems.append(_('运算应写成只有一个键的对象，例如 {">=": [a, b]}。'))
            return
        ((operator, arguments),) = node.items()
        if operator not in OPERATORS:
            problems.append(
                _("未知的运算“%(operator)s”。") % {"operator": display(operator)}
            )
            return
        arguments = arguments if isinstance(arguments, list) else [arguments]
        counts = ARITY[operator]
        if (
            counts is None
            and (not arguments or (operator == "if" and len(arguments) % 2 == 0))
        ) or (counts is not None and len(arguments) not in counts):
            problems.append(
                _("运算“%(operator)s”的参数个数不对。") % {"operator": operator}
            )
            return
        if operator == "var":
            path = arguments[0]
            if not isinstance(path, str) or not _VAR_PATH.fullmatch(path):
                problems.append(
                    _('字段引用“%(path)s”应写成字段路径，例如 "form.income"。')
                    % {"path": display(path)}
                )
            elif not known_field(path):
                problems.append(_("引用了不存在的字段“%(path)s”。") % {"path": path})
            for default in arguments[1:]:
                walk(default, depth + 1)
            return
        for argument in arguments:
            walk(argument, depth + 1)

    walk(expression, 0)
    return problems


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_.]{0,120})\}")


def render_template(template: str, data: Mapping[str, Any]) -> str:
    """An explanation template with each {path} replaced by the value at that path (no format
    strings, so a template can reach nothing but the application's data)."""

    def replace(match: re.Match[str]) -> str:
        value = lookup(data, match.group(1))
        return "—" if isinstance(value, CannotEvaluate) else display(value)

    return _PLACEHOLDER.sub(replace, template)


def template_paths(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)
