"""`seed_demo` gives each school safeguarding records at every stage, signed through the
services, once; where privileged roles must use a second factor it makes none."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from infoshare.audit.verify import verify_chains
from infoshare.safeguarding.models import ReshareRequest, ReshareStatus, Share, Signature, Status

pytestmark = pytest.mark.django_db

SCHOOLS = ("alder-primary", "birch-academy")


def test_each_school_has_a_record_at_every_stage(settings):
    settings.DEBUG = True
    settings.INFOSHARE_REQUIRE_MFA = False
    call_command("seed_demo", stdout=None)
    for slug in SCHOOLS:
        shares = Share.objects.filter(organisation__slug=slug)
        assert sorted(shares.values_list("status", flat=True)) == sorted(
            [
                Status.ACKNOWLEDGED,
                Status.ACKNOWLEDGED,
                Status.AWAITING_ACKNOWLEDGEMENT,
                Status.WITHDRAWN,
            ]
        )
        assert shares.filter(attached_at__isnull=False).count() == 1
        pending = ReshareRequest.objects.filter(
            organisation__slug=slug, status=ReshareStatus.REQUESTED
        )
        assert pending.count() == 1
        assert all(signature.is_intact for signature in Signature.objects.filter(share__in=shares))
    assert verify_chains().intact

    call_command("seed_demo", stdout=None)  # a second run adds nothing
    assert Share.objects.count() == 8


def test_no_records_where_a_second_factor_is_required(settings):
    settings.DEBUG = True
    settings.INFOSHARE_REQUIRE_MFA = True
    call_command("seed_demo", stdout=None)
    assert not Share.objects.exists()
