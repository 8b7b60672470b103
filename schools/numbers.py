"""Instellingsnummers: six digits given to each school by AgODi, always handled as text."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INSTELLINGSNUMMER_PATTERN = r"^[0-9]{6}$"
_INSTELLINGSNUMMER = re.compile(INSTELLINGSNUMMER_PATTERN)
_DIGITS = re.compile(r"^[0-9]{1,5}$")

INVALID_MESSAGE = _("Een instellingsnummer heeft precies 6 cijfers; “%(value)s” voldoet niet.")
SUGGEST_MESSAGE = _(
    "Een instellingsnummer heeft precies 6 cijfers; “%(value)s” voldoet niet. "
    "Bedoelt u %(suggestion)s?"
)


def is_instellingsnummer(value: str) -> bool:
    # ASCII digits only: str.isdigit() would also accept "٣" and "²".
    return bool(_INSTELLINGSNUMMER.match(value))


def restore_leading_zeros(value: str) -> str | None:
    """``12345`` -> ``012345``: spreadsheets read numbers as numbers and drop the zeros.

    Returns None when the value is not one to five ASCII digits.
    """
    return value.zfill(6) if _DIGITS.match(value) else None


def validate_instellingsnummer(value: str) -> None:
    if is_instellingsnummer(value):
        return
    suggestion = restore_leading_zeros(value)
    if suggestion:
        raise ValidationError(
            SUGGEST_MESSAGE,
            code="invalid_instellingsnummer",
            params={"value": value, "suggestion": suggestion},
        )
    raise ValidationError(
        INVALID_MESSAGE, code="invalid_instellingsnummer", params={"value": value}
    )
