"""End the protocol on a date: logins refused from then, then every pupil's data destroyed."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from dpo import protocol
from dpo.management.commands.evidence_bundle import _actor
from dpo.services import brussels_today


class Command(BaseCommand):
    help = (
        "Set the protocol's end (Brussels date, today or later): from that date every login is "
        "refused, then every pupil's data is destroyed, leaving the privacy log. Once only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--on", required=True, help="the end date, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="say what would go")
        parser.add_argument("--user", help="the staff username to log as the one who ran it")

    def handle(self, *args, on: str, dry_run: bool, user: str | None, **options) -> None:
        try:
            ends_on = date.fromisoformat(on)
        except ValueError:
            raise CommandError(f"--on must be a date (YYYY-MM-DD), not {on!r}.") from None
        today = brussels_today()
        if ends_on < today:
            raise CommandError(f"{ends_on} lies in the past: the end must be today or later.")
        if dry_run:
            existing = protocol.ProtocolEnd.objects.filter(pk=1).first()
            if existing:
                raise CommandError(f"The protocol's end is already set ({existing.ends_on}).")
            counts = protocol.inventory()
            self.stdout.write(
                f"Dry run: from {ends_on} every login would be refused; then would go: "
                f"{counts.pupils} pupils (with their accounts and sessions), "
                f"{counts.snapshots} snapshots, {counts.aliases} aliases. The privacy log stays."
            )
            return
        actor = _actor(user)
        try:
            protocol.protocol_end_set(ends_on=ends_on, actor=actor, today=today)
        except protocol.ProtocolEndError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Protocol ends on {ends_on}: logins are refused from that day.")
        if ends_on > today:
            self.stdout.write(
                "Pupils' data will be destroyed on that day by the hourly task dpo.protocol_end."
            )
            return
        end = protocol.protocol_end_destroy(actor=actor)
        report = end.report
        self.stdout.write(
            f"Destroyed {report['deleted_pupils']} pupils "
            f"({report['before']['snapshots']} snapshots, {report['before']['aliases']} aliases) "
            f"from {report['started_at']} to {report['finished_at']}; the report is in the "
            "privacy log and the evidence bundle."
        )
