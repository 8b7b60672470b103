"""Write the evidence bundle (registers, retention runs, log checks, roles, settings) to a zip."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dpo.bundle import BundleExists, evidence_bundle_write


class Command(BaseCommand):
    help = "Write the evidence bundle for a supervisory authority or DOV to FILE.zip."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, help="the zip file to write")
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")
        parser.add_argument("--user", help="the staff username to log as the author")

    def handle(self, *args, out: str, force: bool, user: str | None, **options) -> None:
        actor = _actor(user)
        try:
            bundle = evidence_bundle_write(out, actor=actor, force=force)
        except BundleExists as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}") from None
        self.stdout.write(
            f"{out}: {len(bundle.files)} files, {bundle.size} bytes, sha256 {bundle.sha256}"
        )


def _actor(username: str | None) -> str:
    if not username:
        return "system"
    user = get_user_model().objects.filter(username=username, is_staff=True).first()
    if user is None:
        raise CommandError(f"No staff user {username!r}.")
    return f"staff:{user.pk}"
