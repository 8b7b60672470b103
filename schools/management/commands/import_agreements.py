"""``manage.py import_agreements FILE.csv [--dry-run] [--user NAME]``: a thin adapter."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from schools.agreement_import import agreements_import


def terminal_safe(text: str) -> str:
    """The text with every non-printable character (terminal escapes, bidi controls) shown as
    a Python escape: a CSV cell must not clear the screen or set the window title. The admin
    page escapes the same messages for HTML."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


class Command(BaseCommand):
    help = (
        "Import schools and agreements from a CSV file with the columns "
        "instellingsnummer,name,valid_from,valid_until (all or nothing)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; write nothing."
        )
        parser.add_argument(
            "--user",
            help="Username of the staff member on whose behalf the import runs "
            "(default: none, recorded as 'system').",
        )

    def handle(self, *args, file: Path, dry_run: bool, user: str | None, **options) -> None:
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user, is_staff=True).first()
            if actor is None:
                raise CommandError(
                    _("Geen medewerker met gebruikersnaam %(user)r.") % {"user": user}
                )
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Kan %(file)s niet lezen: %(reason)s") % {"file": file, "reason": exc.strerror}
            ) from exc
        result = agreements_import(file=raw, actor=actor, dry_run=dry_run)
        for warning in result.warnings:
            self.stdout.write(
                self.style.WARNING(_("waarschuwing: %s") % terminal_safe(str(warning)))
            )
        if not result.ok:
            for error in result.errors:
                self.stderr.write(_("fout: %s") % terminal_safe(str(error)))
            raise CommandError(
                _("%(count)s fout(en): er is niets veranderd.") % {"count": len(result.errors)}
            )
        counts = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "schools": result.schools_created,
        }
        if dry_run:
            message = _(
                "Proefdraai, niets geschreven. Zou aanmaken: %(created)s, wijzigen: %(updated)s, "
                "ongewijzigd: %(unchanged)s rij(en); nieuwe scholen: %(schools)s."
            )
        else:
            message = _(
                "Aangemaakt: %(created)s, gewijzigd: %(updated)s, ongewijzigd: %(unchanged)s "
                "rij(en); nieuwe scholen: %(schools)s."
            )
        self.stdout.write(self.style.SUCCESS(message % counts))
