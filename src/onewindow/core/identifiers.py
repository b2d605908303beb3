"""National identifiers and their check characters.

- Resident ID numbers (公民身份号码, GB 11643): ISO 7064 MOD 11-2.
- Unified social credit codes (统一社会信用代码, GB 32100), including the embedded
  organisation code (GB 11714), whose own check digit is only a warning.
- Administrative region codes (GB/T 2260, 6 digits; GB/T 39046 township codes, 9 digits;
  statistical codes below county, 12 digits).

The ID-number and USCC parsers, whose input is typed by people, normalise first (spaces
removed, full-width characters folded to ASCII, lower case raised); region codes are taken
as they are. Errors are django ValidationErrors with one translated message and a stable
`code`.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from onewindow.core.choices import RegionLevel

# GB/T 2260 province-level codes.
REGION_PROVINCES = frozenset(
    [str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55))]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)
# ID numbers also use 83 (residence permits of Taiwan residents); 81 and 82 serve Hong Kong and Macau.
ID_PROVINCES = REGION_PROVINCES | {"83"}

_SPACES = re.compile(r"\s+")


def _normalise(value: object) -> str:
    if not isinstance(value, str):
        return ""
    # NFKC folds full-width digits and letters typed with a Chinese input method.
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


# --- resident ID numbers (GB 11643) -------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_18 = re.compile(r"[0-9]{17}[0-9X]")
_ID_15 = re.compile(r"[0-9]{15}")
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


@dataclass(frozen=True)
class IdNumber:
    number: str
    region_code: str
    birth_date: datetime.date
    sequence: int
    sex: str  # "M" or "F": an odd sequence is male, an even one female.


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if not (isinstance(first17, str) and re.fullmatch(r"[0-9]{17}", first17)):
        raise ValidationError(_("计算校验码需要17位数字。"), code="id_length")
    total = sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def _id_birth_date(digits: str) -> datetime.date:
    try:
        born = datetime.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValidationError(
            _("身份证号码中的出生日期 %(date)s 不存在。"), code="id_birth_date", params={"date": digits}
        ) from None
    if born < _EARLIEST_BIRTH:
        raise ValidationError(_("身份证号码中的出生日期早于1900年。"), code="id_birth_too_early")
    if born > timezone.localdate():
        raise ValidationError(_("身份证号码中的出生日期晚于今天。"), code="id_birth_future")
    return born


def _check_id_province(code: str) -> None:
    if code[:2] not in ID_PROVINCES:
        raise ValidationError(
            _("身份证号码的前两位 %(prefix)s 不是有效的省级代码。"), code="id_province", params={"prefix": code[:2]}
        )


def parse_id_number(value: str) -> IdNumber:
    """Validate an 18-character resident ID number and return its parts."""
    number = _normalise(value)
    if not _ID_18.fullmatch(number):
        if _ID_15.fullmatch(number):
            raise ValidationError(
                _("这是15位的第一代身份证号码，请使用18位号码。"), code="id_legacy_15"
            )
        raise ValidationError(
            _("身份证号码应为18位：前17位是数字，最后一位是数字或X。"), code="id_length"
        )
    _check_id_province(number)
    born = _id_birth_date(number[6:14])
    if id_number_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码的校验位不正确，请核对是否录入有误。"), code="id_check")
    sequence = int(number[14:17])
    return IdNumber(
        number=number,
        region_code=number[:6],
        birth_date=born,
        sequence=sequence,
        sex="M" if sequence % 2 else "F",
    )


def upgrade_id_number_15(value: str) -> str:
    """Convert a 15-digit first-generation ID number to 18 characters (insert "19", add the check)."""
    old = _normalise(value)
    if not _ID_15.fullmatch(old):
        raise ValidationError(_("15位身份证号码应由15位数字组成。"), code="id_length")
    _check_id_province(old)
    first17 = old[:6] + "19" + old[6:]
    _id_birth_date(first17[6:14])
    return first17 + id_number_check_char(first17)


def validate_id_number(value: str) -> None:
    """Field validator for resident ID numbers."""
    parse_id_number(value)


def make_id_number(region_code: str, birth_date: datetime.date, sequence: int) -> str:
    """Build a valid ID number (demo data and tests)."""
    if not (isinstance(region_code, str) and re.fullmatch(r"[0-9]{6}", region_code)):
        raise ValidationError(_("地址码应为6位数字。"), code="id_length")
    if not 0 <= sequence <= 999:
        raise ValidationError(_("顺序码应在000到999之间。"), code="id_sequence")
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    number = first17 + id_number_check_char(first17)
    parse_id_number(number)
    return number


# --- unified social credit codes (GB 32100) and organisation codes (GB 11714) ---------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_FORBIDDEN = "IOSVZ"


@dataclass(frozen=True)
class Uscc:
    number: str
    registration_authority: str  # [1] 登记管理部门代码
    institution_category: str  # [2] 机构类别代码
    region_code: str  # [3-8] 登记管理机关行政区划码
    organisation_code: str  # [9-17] 主体标识码 (GB 11714 organisation code)
    warnings: tuple[str, ...] = ()


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    if not (isinstance(first17, str) and len(first17) == 17 and all(ch in _USCC_VALUE for ch in first17)):
        raise ValidationError(_("计算校验码需要17位代码字符。"), code="uscc_length")
    c = 31 - sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS)) % 31
    return USCC_ALPHABET[0 if c == 31 else c]


def organisation_code_check_char(first8: str) -> str:
    """The GB 11714 check character for the first 8 characters of an organisation code."""
    if not (isinstance(first8, str) and re.fullmatch(r"[0-9A-Z]{8}", first8)):
        raise ValidationError(_("组织机构代码本体应为8位数字或大写字母。"), code="org_length")
    total = sum(int(ch, 36) * w for ch, w in zip(first8, ORG_WEIGHTS))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def parse_uscc(value: str) -> Uscc:
    """Validate an 18-character unified social credit code and return its parts.

    A failing embedded organisation-code check digit is reported in `warnings`, not
    raised: not every legitimately issued code is known to pass it.
    """
    number = _normalise(value)
    if len(number) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(length)d位。"), code="uscc_length", params={"length": len(number)}
        )
    bad = sorted({ch for ch in number if ch not in _USCC_VALUE})
    if bad:
        if all(ch in _USCC_FORBIDDEN for ch in bad):
            message = _("统一社会信用代码不使用字母 I、O、S、V、Z，请检查是否把数字 1、0、5 等误录为字母。")
        else:
            message = _("统一社会信用代码只能由数字和大写字母（不含 I、O、S、V、Z）组成。")
        raise ValidationError(message, code="uscc_chars")
    if not number[2:8].isdigit():
        raise ValidationError(_("统一社会信用代码第3至8位应为登记管理机关的行政区划代码（6位数字）。"), code="uscc_region")
    if uscc_check_char(number[:17]) != number[17]:
        raise ValidationError(_("统一社会信用代码的校验位不正确，请核对是否录入有误。"), code="uscc_check")
    organisation = number[8:17]
    warnings = ()
    if organisation_code_check_char(organisation[:8]) != organisation[8]:
        warnings = (_("内含的组织机构代码 %(code)s 校验位不符（GB 11714），请核实该代码。") % {"code": organisation},)
    return Uscc(
        number=number,
        registration_authority=number[0],
        institution_category=number[1],
        region_code=number[2:8],
        organisation_code=organisation,
        warnings=warnings,
    )


def validate_uscc_field(value: str) -> None:
    """Field validator for unified social credit codes (errors only; warnings are ignored)."""
    parse_uscc(value)


def make_uscc(registration_authority: str, category: str, region_code: str, organisation_base8: str) -> str:
    """Build a valid USCC whose embedded organisation code is valid too (demo data and tests)."""
    head = _normalise(registration_authority + category)
    base = _normalise(organisation_base8)
    if not (len(head) == 2 and all(ch in _USCC_VALUE for ch in head)):
        raise ValidationError(_("登记管理部门代码和机构类别代码各为1位代码字符。"), code="uscc_chars")
    if not (isinstance(region_code, str) and re.fullmatch(r"[0-9]{6}", region_code)):
        raise ValidationError(_("登记管理机关行政区划码应为6位数字。"), code="uscc_region")
    if not (len(base) == 8 and all(ch in _USCC_VALUE for ch in base)):
        raise ValidationError(_("组织机构代码本体应为8位代码字符（不含 I、O、S、V、Z）。"), code="uscc_chars")
    first17 = head + region_code + base + organisation_code_check_char(base)
    return first17 + uscc_check_char(first17)


# --- administrative region codes (GB/T 2260 and below) ------------------------------

_REGION_SHAPE = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")


def validate_region_code(value: str) -> None:
    """Field validator: 6 digits (GB/T 2260), 9 digits (township) or 12 digits (statistical)."""
    code = value if isinstance(value, str) else ""
    if not _REGION_SHAPE.fullmatch(code):
        raise ValidationError(
            _("行政区划代码应为6位（县级及以上）、9位（乡级）或12位（统计用区划代码）数字。"), code="region_shape"
        )
    if code[:2] not in REGION_PROVINCES:
        raise ValidationError(
            _("行政区划代码的前两位 %(prefix)s 不是有效的省级代码。"), code="region_province", params={"prefix": code[:2]}
        )
    city, county = code[2:4], code[4:6]
    town, village = code[6:9] or "000", code[9:12] or "000"
    # Each part below a zero part must be zero too, except that a township may sit
    # directly under a city that has no counties (e.g. 东莞市 441900).
    broken = (
        (city == "00" and county != "00")
        or (town != "000" and city == "00")
        or (village != "000" and town == "000")
    )
    if broken:
        raise ValidationError(
            _("行政区划代码 %(code)s 的层级结构无效：上一级部分为零而下一级部分不为零。"),
            code="region_structure",
            params={"code": code},
        )


def normalise_region_code(value: str) -> str:
    """The stored form of a region code: 6 digits down to county, 12 digits below.

    "520302000000" becomes "520302" and the township code "520302001" becomes "520302001000".
    Region codes are machine identifiers, so nothing is folded or stripped here.
    """
    validate_region_code(value)
    code = value
    if len(code) == 6 or code[6:] == "0" * (len(code) - 6):
        return code[:6]
    return code.ljust(12, "0")


def region_level_for_code(code: str) -> RegionLevel:
    """The level a region code denotes (accepts 6, 9 or 12 digits)."""
    code = normalise_region_code(code)
    if len(code) == 12:
        return RegionLevel.VILLAGE if code[9:] != "000" else RegionLevel.TOWN
    if code[2:] == "0000":
        return RegionLevel.PROVINCE
    if code[4:] == "00":
        return RegionLevel.CITY
    return RegionLevel.COUNTY


def parent_region_code(code: str) -> str | None:
    """The code of the region directly above, as GB/T 2260 implies; None for a province.

    A township's parent is the 6-digit code it starts with: a county, or a city that has
    no counties (东莞市 441900 → 441900003000 东城街道).
    """
    code = normalise_region_code(code)
    level = region_level_for_code(code)
    if level == RegionLevel.PROVINCE:
        return None
    if level == RegionLevel.CITY:
        return code[:2] + "0000"
    if level == RegionLevel.COUNTY:
        return code[:4] + "00"
    if level == RegionLevel.TOWN:
        return code[:6]
    return code[:9] + "000"

