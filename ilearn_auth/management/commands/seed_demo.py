"""Seeds the demo data for `make run`. Idempotent: a second run changes nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dpo.demo import seed_demo_dpo, seed_demo_selfcheck
from schools.demo import seed_demo_schools
from staff.demo import demo_mode, seed_demo_staff


class Command(BaseCommand):
    help = (
        "Create the demo schools and agreements, and the DPO's demo registers, breach and "
        "dashboard counts (and, with the stand-in LeerID, demo pupils)."
    )

    def handle(self, *args, **options) -> None:
        seed_demo_schools()
        seed_demo_dpo()
        seed_demo_selfcheck()
        if demo_mode():
            seed_demo_staff()
            self.stdout.write("Demo staff: demo-dpo, demo-agreements, demo-support.")
        else:
            self.stdout.write("No demo staff: they exist only with DEBUG and LEERID_DEMO on.")
        self.stdout.write("Demo data ready.")
