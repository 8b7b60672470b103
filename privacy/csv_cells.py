"""CSV cells a spreadsheet shows as text and never runs as a formula (CSV injection).

Every export of ours (the privacy log, the evidence bundle, the agreements, the staff access
review) writes its cells through ``guard``; the agreements import takes the mark off again with
``unguard``, so an export reads back unchanged. Here because every app may import ``privacy``.
"""

from __future__ import annotations

FORMULA_GUARD = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return FORMULA_GUARD + text if text[:1] in FORMULA_STARTS else text


def unguard(text: str) -> str:
    """The cell as it was before ``guard`` (a name that really starts with ' and then one of
    the formula characters is not a name we write)."""
    guarded = text[:1] == FORMULA_GUARD and text[1:2] in FORMULA_STARTS
    return text[1:] if guarded else text
