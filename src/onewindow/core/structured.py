"""Structured documents (pydantic models) with errors in the user's language.

Catalogue content, form definitions and import rows are validated by pydantic models; this turns
pydantic's English errors into one translated `InvalidInput` naming the field the user knows:
"申请材料第2项「材料名称」：必须填写。"
"""

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic
from django.utils.translation import gettext as _

from onewindow.core.errors import InvalidInput

Model = TypeVar("Model", bound=pydantic.BaseModel)


def _problem(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("必须填写。")
    if kind in {"string_too_long", "too_long"}:
        return _("不能超过 %(n)s 个字符（项）。") % {"n": ctx.get("max_length")}
    if kind in {"string_too_short", "too_short"}:
        return _("至少需要 %(n)s 个字符（项）。") % {"n": ctx.get("min_length")}
    if kind in {"greater_than_equal", "greater_than"}:
        return _("不能小于 %(n)s。") % {"n": ctx.get("ge", ctx.get("gt"))}
    if kind in {"less_than_equal", "less_than"}:
        return _("不能大于 %(n)s。") % {"n": ctx.get("le", ctx.get("lt"))}
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("须为整数。")
    if kind in {"decimal_parsing", "decimal_type", "float_parsing", "float_type"}:
        return _("须为数字。")
    if kind in {"bool_parsing", "bool_type"}:
        return _("须为“是”或“否”。")
    if kind in {"enum", "literal_error"}:
        return _("取值不在代码表中：%(expected)s。") % {"expected": ctx.get("expected", "")}
    if kind in {"string_type", "list_type", "dict_type", "model_type", "model_attributes_type"}:
        return _("格式不对。")
    if kind == "string_pattern_mismatch":
        return _("格式不对：只能用小写英文字母、数字和下划线，并以字母开头。")
    if kind == "extra_forbidden":
        return _("不是可用的字段。")
    if kind == "value_error":
        # Our own validators raise ValueError with a translated message.
        return str(ctx.get("error", error.get("msg", "")))
    return str(error.get("msg", ""))


def location_label(loc: tuple[Any, ...], labels: Mapping[str, str]) -> str:
    """("materials", 1, "name") → "申请材料第2项「材料名称」"."""
    parts: list[str] = []
    parent = ""
    for part in loc:
        if isinstance(part, int):
            if parts:
                parts[-1] = _("%(list)s第%(n)s项") % {"list": parts[-1], "n": part + 1}
            continue
        # "materials.name" (材料名称) before "name" (事项名称): a key can mean different things.
        label = str(labels.get(f"{parent}.{part}", labels.get(str(part), part)))
        parts.append(label if not parts else f"「{label}」")
        parent = str(part)
    return "".join(parts)


def parse(model: type[Model], data: Any, *, labels: Mapping[str, str], prefix: str = "") -> Model:
    """Validate `data` as `model`; raise InvalidInput with the first error, translated."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        where = location_label(loc, labels)
        field = ".".join(str(part) for part in loc)
        message = f"{prefix}{where}：{_problem(error)}" if where else f"{prefix}{_problem(error)}"
        raise InvalidInput(message, field=field or None) from None
