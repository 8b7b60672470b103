"""The English catalogue as `makemessages` would make it from today's source, in a scratch copy.

``makemessages`` merges the strings it finds in the source into a copy of the committed
``locale/en/LC_MESSAGES/django.po``; an entry that comes out empty or fuzzy is a string nobody
translated (or changed since). GNU gettext's ``msgattrib`` picks those out. Nothing is written
in the work tree.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
_IGNORE = shutil.ignore_patterns(
    ".*", "node_modules", "__pycache__", "staticfiles", "*.sqlite3", "*.log", "bench", "docs"
)


@dataclass(frozen=True)
class Entry:
    msgid: str
    locations: tuple[str, ...]


def _entries(po_text: str) -> list[Entry]:
    entries = []
    for block in po_text.split("\n\n"):
        lines = block.strip().splitlines()
        locations = tuple(
            location.rsplit(":", 1)[0]
            for line in lines
            if line.startswith("#: ")
            for location in line[3:].split()
        )
        msgid_lines = []
        for line in lines:
            if line.startswith("msgid "):
                msgid_lines.append(line[6:])
            elif msgid_lines and line.startswith('"'):
                msgid_lines.append(line)
            elif msgid_lines:
                break
        msgid = "".join(part.strip().strip('"') for part in msgid_lines)
        if msgid:
            entries.append(Entry(msgid, locations))
    return entries


def untranslated_entries(scratch: Path, *, root: Path = ROOT) -> list[Entry]:
    """Entries of today's source that the committed English catalogue does not translate."""
    copy = scratch / "src"
    shutil.copytree(root, copy, ignore=_IGNORE)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "-v", "0"],
        cwd=copy,
        env=env,
        check=True,
    )
    po = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    missing = []
    for selection in ("--untranslated", "--only-fuzzy"):
        out = subprocess.run(
            ["msgattrib", selection, "--no-wrap", str(po)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        missing += _entries(out)
    return missing


def compiled_catalogue_differs(scratch: Path) -> dict[str, tuple]:
    """Messages the committed .mo translates otherwise than a fresh ``msgfmt`` of the .po."""
    fresh = scratch / "fresh.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(PO)], check=True)
    with fresh.open("rb") as new, MO.open("rb") as committed:
        want = gettext.GNUTranslations(new)._catalog
        have = gettext.GNUTranslations(committed)._catalog
    return {
        str(key): (have.get(key), want.get(key))
        for key in set(want) | set(have)
        if key and have.get(key) != want.get(key)
    }
