"""Every string of the staff sign-in has its English translation (Dutch first)."""

from __future__ import annotations

from tests.pages.catalogue import untranslated_entries


def test_it_translates_every_staff_string(tmp_path):
    """makemessages finds no string in staff/ (or a privacy-log label) that English leaves out."""
    missing = [
        entry
        for entry in untranslated_entries(tmp_path)
        if any(loc.startswith("staff/") or loc == "privacy/actions.py" for loc in entry.locations)
    ]
    assert missing == [], "; ".join(f"{e.msgid!r} ({', '.join(e.locations)})" for e in missing)
