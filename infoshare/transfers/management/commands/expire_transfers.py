"""Expire the secure transfers whose time is up: destroy their keys and delete their files.

Run from cron, hourly (DESIGN.md section 8). Each due transfer is expired in
a transaction of its own with its row locked, so running it twice, even at
the same time, expires each transfer once; a second run finds nothing to do.
It also deletes any file an ended transfer still left on disk.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from infoshare.transfers.services import expire_due_transfers


class Command(BaseCommand):
    help = (
        "Expire secure transfers past their expiry: destroy their keys and delete their "
        "files. For cron, hourly; safe to run again or twice at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        expired = expire_due_transfers()
        if expired == 0:
            self.stdout.write("Nothing to expire.")
        else:
            self.stdout.write(f"Expired {expired} transfer{'' if expired == 1 else 's'}.")
