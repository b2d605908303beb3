"""What may be public: personal identifiers taken out of text, names masked.

    anonymise("张三（13800138000）反映……", names=["张三"])  →  "张*（138****8000）反映……"

Masks citizen ID numbers (GB 11643, 15 or 18 characters), mobile and landline numbers, e-mail
addresses, and every name given (all but the first character). The published pages and feeds
pass their free text through it; structured fields that name a person are masked with
`mask_name`.
"""

import re
from collections.abc import Iterable

ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{5})(?:[0-9]{8}|[0-9]{6})[0-9]{3}[0-9Xx]?(?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
LANDLINE = re.compile(r"(?<![0-9])(0[0-9]{2,3})-?[0-9]{7,8}(?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def mask_name(name: str) -> str:
    """ "张三" → "张*", "欧阳娜娜" → "欧***"; empty stays empty."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def anonymise(text: str, *, names: Iterable[str] = ()) -> str:
    text = ID_NUMBER.sub(lambda m: f"{m[1]}{'*' * (len(m[0]) - 6)}", text or "")
    text = MOBILE.sub(r"\1****\2", text)
    text = LANDLINE.sub(r"\1-********", text)
    text = EMAIL.sub("***@***", text)
    for name in sorted(
        {n.strip() for n in names if n and n.strip()}, key=len, reverse=True
    ):
        text = text.replace(name, mask_name(name))
    return text
