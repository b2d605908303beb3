"""Placeholder: filled in by the identifiers work (GB 11643, GB 32100, GB/T 2260)."""

from django.core.exceptions import ValidationError


def validate_region_code(value: str) -> None:
    if not (value.isdigit() and len(value) in (6, 9, 12)):
        raise ValidationError("bad region code")


def validate_uscc_field(value: str) -> None:
    if len(value) != 18:
        raise ValidationError("bad uscc")
