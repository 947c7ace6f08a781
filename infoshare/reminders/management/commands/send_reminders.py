"""`manage.py send_reminders [--dry-run]`: email each person one digest of what is due today.

Run daily from cron (README). Idempotent within a day, one run at a time
(see `infoshare.reminders.digest`). Prints one line a person and a summary;
exits 1 if any message could not be sent, so cron can alert on it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from infoshare.reminders.digest import send_digests


class Command(BaseCommand):
    help = "Email each person one digest of what is due or overdue for them, once a day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print who would be sent what, without sending or recording anything.",
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        today = timezone.localdate()  # Europe/London
        run = send_digests(today, dry_run=dry_run, report=self.stdout.write)
        if run.locked_out:
            self.stdout.write("Another send_reminders is running; nothing sent.")
            return
        self.stdout.write(run.summary)
        if run.failed:
            raise CommandError(
                f"{len(run.failed)} digest(s) could not be sent; a later run today retries them.",
                returncode=1,
            )
