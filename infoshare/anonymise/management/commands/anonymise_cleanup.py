"""Delete the files of anonymisation runs once their time is up, and any stray files.

The uploaded dataset and the file made from it are personal data (or may
be): they are deleted after the download and in any case within 24 hours
(issue 8, item 6). Run hourly from cron; it deletes the files of runs older
than `FILES_KEPT_FOR` (23 hours), so none outlives 24 hours, marks those runs
expired with an audit event, and removes files no run refers to. Running it
twice does nothing the second time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from infoshare.anonymise.services import delete_expired_files


class Command(BaseCommand):
    help = "Delete anonymisation files older than 23 hours and mark their runs expired."

    def handle(self, *args: Any, **options: Any) -> None:
        done = delete_expired_files()
        self.stdout.write(
            f"Runs expired: {done.runs_expired}; files deleted: {done.files_deleted}; "
            f"stray files deleted: {done.orphans_deleted}."
        )
