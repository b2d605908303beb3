"""The national code trio of an item: basic code (基本编码), implementation code (实施编码) and
handling-item code (业务办理项编码).

Codes are stored as opaque upper-case strings (12 / 36 / 50 characters, as the national
platform's tables hold them) and checked where a rule is known:

- basic code in the Guizhou form (DB52/T 1264-2018): 2-letter type code + 5-digit main item +
  3-digit sub-item, e.g. XK00127000; the letters must match the item type;
- implementation code: contains the implementing body's USCC (every known provincial form does);
  in the form we generate, USCC + exercise-level digit + basic code, each part must match;
- handling-item code: the implementation code followed by a suffix.
"""

import re

from django.utils.translation import gettext as _

from onewindow.catalogue.choices import BASIC_CODE_PREFIXES, ExerciseLevel, ItemType
from onewindow.core.errors import InvalidInput
from onewindow.core.models import Department

_BASIC = re.compile(r"[0-9A-Z]{1,12}")
_GUIZHOU_BASIC = re.compile(r"([A-Z]{2})([0-9]{5})([0-9]{3})")
_IMPL = re.compile(r"[0-9A-Z-]{1,36}")
_HANDLE = re.compile(r"[0-9A-Z-]{1,50}")


def _upper(value: object) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def clean_basic_code(value: object, *, item_type: str) -> str:
    code = _upper(value)
    if not _BASIC.fullmatch(code):
        raise InvalidInput(_("基本编码应为1至12位数字或大写字母。"), field="basic_code")
    match = _GUIZHOU_BASIC.fullmatch(code)
    if match:
        expected = BASIC_CODE_PREFIXES.get(item_type)
        if match.group(1) in BASIC_CODE_PREFIXES.values() and match.group(1) != expected:
            raise InvalidInput(
                _("基本编码前两位“%(prefix)s”与事项类型“%(type)s”不符，应为“%(expected)s”。")
                % {"prefix": match.group(1), "type": ItemType(item_type).label, "expected": expected},
                field="basic_code",
            )
        if match.group(2) == "00000":
            raise InvalidInput(_("基本编码的主项代码不能为 00000。"), field="basic_code")
    return code


def make_basic_code(*, item_type: str, main: int, sub: int = 0) -> str:
    return f"{BASIC_CODE_PREFIXES[ItemType(item_type)]}{main:05d}{sub:03d}"


def make_impl_code(*, uscc: str, exercise_level: str, basic_code: str) -> str:
    return f"{uscc}{exercise_level}{basic_code}"


def clean_impl_code(value: object, *, department: Department, exercise_level: str, basic_code: str) -> str:
    code = _upper(value)
    if not code:
        return make_impl_code(uscc=department.uscc, exercise_level=exercise_level, basic_code=basic_code)
    if not _IMPL.fullmatch(code):
        raise InvalidInput(_("实施编码应为不超过36位的数字、大写字母或连字符。"), field="impl_code")
    if department.uscc not in code:
        raise InvalidInput(
            _("实施编码须包含实施主体的统一社会信用代码 %(uscc)s。") % {"uscc": department.uscc}, field="impl_code"
        )
    if code.startswith(department.uscc) and len(code) == 19 + len(basic_code):
        level, tail = code[18], code[19:]
        if level not in ExerciseLevel.values:
            raise InvalidInput(_("实施编码第19位应为行使层级代码（1至7）。"), field="impl_code")
        if tail != basic_code:
            raise InvalidInput(
                _("实施编码末段“%(tail)s”与基本编码“%(basic)s”不一致。") % {"tail": tail, "basic": basic_code},
                field="impl_code",
            )
    return code


def clean_handle_item_code(value: object, *, impl_code: str) -> str:
    code = _upper(value)
    if not code:
        return ""
    if not _HANDLE.fullmatch(code) or not code.startswith(impl_code) or code == impl_code:
        raise InvalidInput(
            _("业务办理项编码应为实施编码加后缀，不超过50位。"), field="handle_item_code"
        )
    return code
