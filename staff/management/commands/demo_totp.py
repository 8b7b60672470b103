"""Prints the current second-factor code of a demo staff account (demo mode only)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from staff.demo import demo_code


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff account (demo-dpo, demo-agreements, ...)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        try:
            self.stdout.write(demo_code(username))
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
