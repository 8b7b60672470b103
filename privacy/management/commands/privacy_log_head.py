from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy.services import privacy_log_head


class Command(BaseCommand):
    help = (
        "Print the privacy log's head hash, to store outside this system "
        "(verify_privacy_log --expect-head)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--with-sequence", action="store_true", help="print '<sequence> <hash>' instead"
        )

    def handle(self, *args, with_sequence: bool = False, **options) -> None:
        head = privacy_log_head()
        self.stdout.write(f"{head.sequence} {head.hash}" if with_sequence else head.hash)
