"""Every string of the pupil's pages has an English translation, and the catalogue is compiled."""

from __future__ import annotations

import shutil

import pytest

from tests.pages.catalogue import ROOT, compiled_catalogue_differs, untranslated_entries

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msgattrib", "msgfmt")),
    reason="GNU gettext is not installed (CI installs it: apt-get install gettext)",
)

# The pupil's pages: the project's own templates and modules, and the demo pupils they list.
PUPIL_SOURCES = ("ilearn_auth/", "demo/")
STAFF_ONLY = ("ilearn_auth/templates/admin/",)


def _on_pupil_pages(locations: tuple[str, ...]) -> bool:
    return any(
        location.startswith(PUPIL_SOURCES) and not location.startswith(STAFF_ONLY)
        for location in locations
    )


def test_it_translates_every_pupil_page_string(tmp_path):
    """makemessages finds no string of the pupil's pages that English leaves empty or fuzzy."""
    missing = [
        entry for entry in untranslated_entries(tmp_path) if _on_pupil_pages(entry.locations)
    ]
    assert missing == [], "untranslated (add to locale/en/LC_MESSAGES/django.po): " + "; ".join(
        f"{entry.msgid!r} ({', '.join(entry.locations)})" for entry in missing
    )


def test_it_has_compiled_the_catalogue(tmp_path):
    """The committed django.mo says what a fresh msgfmt of django.po says."""
    differences = compiled_catalogue_differs(tmp_path)
    assert differences == {}, (
        "locale/en/LC_MESSAGES/django.mo is stale: run "
        "`msgfmt -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po`; "
        f"differs for {sorted(differences)[:5]}"
    )


def test_it_notices_a_new_string_without_translation(tmp_path):
    """A new template string nobody translated is reported, with where it is."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "node_modules", "bench"))
    template = source / "ilearn_auth" / "templates" / "ilearn_auth" / "nieuw.html"
    template.write_text('{% load i18n %}{% translate "Een zin die niemand vertaalde" %}\n')
    (tmp_path / "scratch").mkdir()
    missing = untranslated_entries(tmp_path / "scratch", root=source)
    assert [
        (entry.msgid, entry.locations) for entry in missing if _on_pupil_pages(entry.locations)
    ] == [("Een zin die niemand vertaalde", ("ilearn_auth/templates/ilearn_auth/nieuw.html",))]
