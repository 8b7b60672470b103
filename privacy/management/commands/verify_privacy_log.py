from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.verification import privacy_log_verify, privacy_log_verify_incremental


class Command(BaseCommand):
    help = (
        "Walk the privacy-log hash chain; exit 1 at the first changed, missing, reordered "
        "or inserted entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help="a head printed earlier by privacy_log_head: also detects a truncated tail",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="walk the chain in this many processes at once (PostgreSQL)",
        )
        parser.add_argument(
            "--since-last",
            action="store_true",
            help="only what was added since the last verified head (the daily check)",
        )

    def handle(
        self,
        *args,
        expect_head: str | None = None,
        workers: int = 1,
        since_last: bool = False,
        **options,
    ) -> None:
        if expect_head is not None and not re.fullmatch(r"[0-9a-f]{64}", expect_head):
            raise CommandError("--expect-head takes a head hash: 64 lower-case hex characters.")
        if since_last:
            result = privacy_log_verify_incremental()
        else:
            result = privacy_log_verify(expect_head=expect_head, workers=workers, record=True)
        if result.problem is not None:
            problem = result.problem
            self.stderr.write(
                f"privacy log broken at sequence {problem.sequence}: {problem.kind} "
                f"({problem.detail}); {result.count} entries verified before it"
            )
            raise SystemExit(1)
        self.stdout.write(f"{result.count} entries verified, head {result.head.hash}")
