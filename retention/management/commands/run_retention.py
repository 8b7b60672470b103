"""``manage.py run_retention [--dry-run] [--rule NAME]``: the retention run, by hand.

It only adapts the interface, as ``clearsessions`` does: arguments in, one call to
``retention.services.retention_run``, its outcome and progress bars out.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from retention import policy
from retention.services import retention_run

if TYPE_CHECKING:
    from retention.models import RetentionRun


class Command(BaseCommand):
    help = "Apply the retention rules now (the same run Celery beat schedules daily)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
        )
        parser.add_argument(
            "--rule",
            action="append",
            choices=policy.RULE_ORDER,
            help="apply only this rule (repeatable; default: all)",
        )

    def handle(self, *args, dry_run: bool, rule: list[str] | None, **options) -> None:
        names = rule or list(policy.RULE_ORDER)
        # The raw stream: tqdm redraws with carriage returns, which OutputWrapper would break.
        stream = options.get("stdout") or sys.stdout
        bars = _Bars(stream, enabled=not dry_run and stream.isatty())
        try:
            run = retention_run(
                rules=names,
                dry_run=dry_run,
                trigger="command",
                progress=bars.advance,
                expected=bars.start if bars.enabled else None,
            )
        except Exception as exc:
            raise CommandError(f"retention run failed ({type(exc).__name__}); see the log") from exc
        finally:
            bars.close()
        self._summary(run)

    def _summary(self, run: RetentionRun) -> None:
        if run.status == run.Status.SKIPPED:
            self.stdout.write(self.style.WARNING("Skipped: another retention run is in progress."))
            return
        verb = "would delete" if run.dry_run else "deleted"
        for name, count in run.counts.items():
            self.stdout.write(f"{name}: {verb} {count}")
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(self.style.SUCCESS(f"Run {run.pk} {run.status} in {seconds:.1f} s."))


class _Bars:
    """One tqdm bar per rule, sized by the run's count of what is expired; off when disabled."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.bars: dict[str, tqdm] = {}

    def start(self, rule: str, expired: int) -> None:
        self.bars[rule] = tqdm(total=expired, desc=rule, unit="rows", file=self.stream)

    def advance(self, rule: str, rows: int, seconds: float) -> None:
        if rule in self.bars:
            self.bars[rule].update(rows)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
