"""The demo transfers: made through the services for each school, once, at every stage worth
showing (sent; opened and downloaded; revoked by the DPO)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command

from infoshare.audit.verify import verify_chains
from infoshare.core.models import Organisation
from infoshare.transfers import services
from infoshare.transfers.demo import seed_transfers
from infoshare.transfers.models import LIVE, AccessKind, Status, Transfer, TransferFile

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.django_db

SCHOOLS = ("alder-primary", "birch-academy")


def test_each_school_has_a_transfer_at_each_stage_once(settings, media: Path):
    settings.DEBUG = True
    settings.INFOSHARE_REQUIRE_MFA = False
    call_command("seed_demo", stdout=None)
    for slug in SCHOOLS:
        seed_transfers(Organisation.objects.get(slug=slug))
    for slug in SCHOOLS:
        transfers = Transfer.objects.filter(organisation__slug=slug).order_by("created_at", "pk")
        assert [transfer.status for transfer in transfers] == [
            Status.SENT,
            Status.DOWNLOADED,
            Status.REVOKED,
        ]
        sent, downloaded, revoked = transfers
        assert all(transfer.decision.organisation.slug == slug for transfer in transfers)
        assert [view.name for view in services.files_of(sent)] == [
            "attendance-autumn-term.csv",
            "support-plan.csv",
        ]
        assert services.message_of(downloaded)
        assert [view.downloads_left for view in services.files_of(downloaded)] == [2, 3]
        assert AccessKind.FILE_DOWNLOADED in {e.kind for e in services.access_log_of(downloaded)}
        assert revoked.wrapped_key is None
        assert revoked.ended_by is not None
        assert "dpo" in revoked.ended_by.email
    assert verify_chains().intact

    for slug in SCHOOLS:  # again: nothing more
        seed_transfers(Organisation.objects.get(slug=slug))
    assert Transfer.objects.count() == 6
    live_files = TransferFile.objects.filter(transfer__status__in=LIVE)
    assert live_files.count() == 8
    assert all((media / file.blob).is_file() for file in live_files)
