"""`manage.py verify_audit [--organisation SLUG]`: recompute the audit chains.

Exits 0 when every chain is intact, 1 when one is broken (so cron and CI can
alert on it), naming the first broken event of each broken chain on stderr.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from infoshare.audit.verify import VerificationResult, verify_chains
from infoshare.core.models import Organisation


class Command(BaseCommand):
    help = "Recompute every audit chain (or one organisation's) and name the first broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organisation", metavar="SLUG",
            help="Verify only this organisation's chain (its address, like 'alder').",
        )

    def handle(self, *args: Any, organisation: str | None = None, **options: Any) -> None:
        result = verify_chains(_organisation(organisation) if organisation else None)
        if result.intact:
            self.stdout.write(summary(result) + ": intact.")
            return
        for problem in result.problems:
            self.stderr.write(str(problem))
        raise CommandError(summary(result, verb="Checked") + ": broken.", returncode=1)


def summary(result: VerificationResult, *, verb: str = "Verified") -> str:
    events = "event" if result.events_checked == 1 else "events"
    chains = "chain" if result.chains_checked == 1 else "chains"
    return f"{verb} {result.events_checked:,} {events} in {result.chains_checked:,} {chains}"


def _organisation(slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise CommandError(f"No organisation has the address {slug!r}.", returncode=2)
    return organisation
