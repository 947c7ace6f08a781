"""The information asset register (Appendix A step 6, policy 9.9).

An information asset is a body of personal data the school holds: the pupil
records in the MIS, the safeguarding files, the catering system. The register
says who owns each, where it is, what it holds, on what lawful basis and for
how long; the agreements and processors that touch it come from the
agreements register (`Agreement.assets`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.urls import reverse
from django.utils import timezone

from infoshare.core.models import DataCategory, LawfulBasis, Organisation, User
from infoshare.core.rules import roles_in


class InformationAssetQuerySet(models.QuerySet["InformationAsset"]):
    def for_user(self, user: User, organisation: Organisation) -> InformationAssetQuerySet:
        """Every asset of `organisation`, to any of its members; nothing to anyone else."""
        if not roles_in(user, organisation):
            return self.none()
        return self.filter(organisation=organisation)

    def current(self) -> InformationAssetQuerySet:
        return self.filter(retired_at__isnull=True)


class InformationAsset(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="information_assets"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.CharField(
        "Information asset owner",
        max_length=200,
        help_text="The person or role responsible for the asset, like 'Business manager'.",
    )
    system_or_location = models.CharField(
        "System or location",
        max_length=200,
        help_text="Where the information is kept, like 'MIS' or 'Locked cabinet, main office'.",
    )
    categories = models.ManyToManyField(DataCategory, blank=True, related_name="+")
    special_category = models.BooleanField("Holds special category data", default=False)
    lawful_basis = models.ForeignKey(
        LawfulBasis, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retention_period = models.CharField(
        max_length=200,
        help_text="How long it is kept, and from when, like 'Date of birth + 25 years'.",
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Assets are retired, never deleted: old agreements still name them (rule 7).
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reasons = models.TextField(blank=True)

    objects = InformationAssetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "governance:asset", kwargs={"org": self.organisation.slug, "asset": self.uuid}
        )

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None
