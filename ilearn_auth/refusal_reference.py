"""The short reference a refused pupil reads out to Support: the privacy-log entry's number.

The failure page shows it (``K7M2-Q``); Support types it into the refusal view, which finds
that entry and, through its pseudonym, the pupil's other recent refusals. It is the entry's
sequence number in Crockford's base 32 (no I, L, O, U: nothing to misread), at least four
characters, then a check character after a hyphen, so a misheard character is caught rather
than leading to someone else's refusal. It holds nothing personal: not the request id, not a
key; anyone who sees it learns only how many log entries there were.
"""

from __future__ import annotations

import re

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TYPED = re.compile(r"^([0-9A-Z]{4,13})-([0-9A-Z])$")
_VALUE = {char: value for value, char in enumerate(_ALPHABET)}
# Crockford's decoding: letters that look like digits read as those digits.
_VALUE.update({"O": 0, "I": 1, "L": 1})


def reference_for(sequence: int) -> str:
    digits = ""
    while sequence:
        sequence, digit = divmod(sequence, 32)
        digits = _ALPHABET[digit] + digits
    body = digits.rjust(4, "0")
    return f"{body}-{_ALPHABET[_check(body)]}"


def sequence_from(reference: str) -> int | None:
    """The sequence a typed reference names, or None when it is not one (or mistyped).

    The hyphen before the check character is required: so a pseudonym prefix or a key is
    never read as a reference."""
    match = _TYPED.match("".join(reference.upper().split()))
    if match is None:
        return None
    body, check = match.groups()
    if any(char not in _VALUE for char in body + check):
        return None
    normalised = "".join(_ALPHABET[_VALUE[char]] for char in body)
    if _VALUE[check] != _check(normalised):
        return None
    sequence = 0
    for char in normalised:
        sequence = sequence * 32 + _VALUE[char]
    return sequence or None


def _check(body: str) -> int:
    # Odd weights: any single wrong character changes the sum modulo 32.
    return sum((2 * i + 1) * _VALUE[char] for i, char in enumerate(body)) % 32
