"""``manage.py import_agreements FILE.csv [--dry-run] [--user NAME]``: a thin adapter."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from schools.services import agreements_import


class Command(BaseCommand):
    help = (
        "Import schools and agreements from a CSV file with the columns "
        "instellingsnummer,name,valid_from,valid_until (all or nothing)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Show what would change.")
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
                raise CommandError(f"No staff user named {user!r}.")
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        result = agreements_import(file=raw, actor=actor, dry_run=dry_run)
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"error: {error}")
            raise CommandError(f"{len(result.errors)} error(s): nothing was changed.")
        prefix = "dry run, nothing written: would have " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}created {result.created}, updated {result.updated}, "
                f"unchanged {result.unchanged} agreement row(s); "
                f"{result.schools_created} new school(s)."
            )
        )
