"""Organisations, the people who sign in, and the roles they hold in each.

A person (User) may belong to several organisations (a DPO serving twenty
schools); each Membership carries that person's roles in one organisation.
Memberships are never deleted: removing a member ends the membership, so the
audit trail keeps pointing at something real.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from infoshare.core.upn import validate_upn

if TYPE_CHECKING:
    from collections.abc import Iterable


class Role(models.TextChoices):
    """What a person may do in one organisation (DESIGN.md section 1)."""

    HEADTEACHER = "headteacher", "Headteacher"
    CHAIR = "chair", "Chair of governors"
    DPO = "dpo", "Data protection officer"
    DSL = "dsl", "Designated safeguarding lead"
    DEPUTY_DSL = "deputy_dsl", "Deputy designated safeguarding lead"
    INFORMATION_MANAGER = "information_manager", "Information manager"
    STAFF = "staff", "Staff"
    VOLUNTEER = "volunteer", "Volunteer"
    AUDITOR = "auditor", "Auditor"


# Roles whose holders approve, advise on or own sensitive information: they
# need a second factor, and only a headteacher may grant or take them away.
PRIVILEGED_ROLES = frozenset({Role.HEADTEACHER, Role.CHAIR, Role.DPO, Role.DSL, Role.DEPUTY_DSL})
# Roles a trust or local authority may hold over a school on its behalf.
ROLES_HELD_ON_BEHALF = frozenset({Role.DPO, Role.AUDITOR})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None leaves an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who signs in. Identified by email; `name` is how others see them."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May use the site administration (platform operators only)."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class OrganisationKind(models.TextChoices):
    SCHOOL = "school", "School"
    TRUST = "trust", "Trust"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    EXTERNAL = "external", "External party"


class ExternalKind(models.TextChoices):
    """What kind of outside body an external party is (policy sections 5 and 6)."""

    DFE = "dfe", "Department for Education"
    HEALTH = "health", "Health service"
    POLICE = "police", "Police"
    SUPPLIER = "supplier", "Supplier"
    OTHER_SCHOOL = "other_school", "Other school"
    OTHER = "other", "Other"


urn_validator = RegexValidator(r"^\d{6}$", "Enter the school's URN: six digits, like 123456.")


class Organisation(models.Model):
    """A school, a trust, a local authority, or an external party a school shares with."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    external_kind = models.CharField(
        max_length=20,
        choices=ExternalKind.choices,
        blank=True,
        help_text="Only for external parties.",
    )
    urn = models.CharField(
        "URN",
        max_length=6,
        blank=True,
        validators=[urn_validator],
        help_text="Unique reference number; schools only.",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The trust a school belongs to, or the local authority that maintains it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["urn"],
                condition=~Q(urn=""),
                name="organisation_urn_unique",
                violation_error_message="Another organisation already has this URN.",
            ),
            models.CheckConstraint(
                condition=Q(kind="school") | Q(urn=""), name="organisation_urn_only_for_schools"
            ),
            models.CheckConstraint(
                condition=Q(kind="external") | Q(external_kind=""),
                name="organisation_external_kind_only_for_external",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:dashboard", kwargs={"org": self.slug})

    @property
    def can_have_members(self) -> bool:
        return self.kind != OrganisationKind.EXTERNAL


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(ended_at__isnull=True)

    def with_roles(self) -> MembershipQuerySet:
        return self.prefetch_related("role_assignments")

    def holding(self, *roles: str) -> MembershipQuerySet:
        return self.filter(role_assignments__role__in=roles).distinct()


class Membership(models.Model):
    """A person's place in one organisation, with one or more roles.

    `acting_for` names the trust or local authority on whose behalf a DPO or
    auditor serves the school. Removal sets `ended_at`; the row stays.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    acting_for = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships_held_on_behalf",
    )
    job_title = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["user__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"],
                condition=Q(ended_at__isnull=True),
                name="one_active_membership_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    @property
    def roles(self) -> frozenset[str]:
        """The roles held; uses the prefetch cache when `with_roles()` filled it."""
        return frozenset(a.role for a in self.role_assignments.all())

    def role_labels(self) -> list[str]:
        return [Role(role).label for role in Role.values if role in self.roles]

    def set_roles(self, roles: Iterable[str]) -> None:
        """Replace the roles. Call only from a service, inside its transaction."""
        wanted = set(roles)
        self.role_assignments.exclude(role__in=wanted).delete()
        held = set(self.role_assignments.values_list("role", flat=True))
        RoleAssignment.objects.bulk_create(
            RoleAssignment(membership=self, role=role) for role in sorted(wanted - held)
        )
        # Drop the stale prefetch cache so `roles` reads the new set.
        getattr(self, "_prefetched_objects_cache", {}).pop("role_assignments", None)


class RoleAssignment(models.Model):
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=30, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="role_once_per_membership")
        ]

    def __str__(self) -> str:
        return self.get_role_display()


# --- People: the data subjects whose information is shared ----------------------


class PersonKind(models.TextChoices):
    PUPIL = "pupil", "Pupil"
    STAFF = "staff", "Member of staff"
    PARENT = "parent", "Parent or carer"
    OTHER = "other", "Other"


class PersonQuerySet(models.QuerySet["Person"]):
    def in_organisation(self, organisation: Organisation) -> PersonQuerySet:
        return self.filter(organisation=organisation)

    def search(self, text: str) -> PersonQuerySet:
        """People whose names or UPN contain each word of `text`."""
        queryset = self
        for word in text.split():
            queryset = queryset.filter(
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(upn__iexact=word.upper())
            )
        return queryset


class Person(models.Model):
    """Someone a school holds information about: a pupil, member of staff, parent or other.

    Not a user: people here never sign in. Pupils carry their UPN (checked,
    unique within the school) and the dates they were on roll.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="people")
    kind = models.CharField(max_length=10, choices=PersonKind.choices)
    given_name = models.CharField("First name", max_length=100)
    family_name = models.CharField("Last name", max_length=100)
    upn = models.CharField("UPN", max_length=13, blank=True, validators=[validate_upn])
    date_of_birth = models.DateField(null=True, blank=True)
    year_group = models.CharField(max_length=20, blank=True)
    on_roll_from = models.DateField("On roll from", null=True, blank=True)
    on_roll_until = models.DateField("On roll until", null=True, blank=True)
    details = models.CharField(
        max_length=200,
        blank=True,
        help_text="For example, their job, or whose parent or carer they are.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["organisation", "family_name", "given_name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "upn"],
                condition=~Q(upn=""),
                name="person_upn_unique_in_organisation",
                violation_error_message="Another pupil in this school already has this UPN.",
            ),
            models.CheckConstraint(
                condition=Q(kind="pupil") | Q(upn=""), name="person_upn_only_for_pupils"
            ),
            models.CheckConstraint(
                condition=Q(on_roll_until__isnull=True)
                | Q(on_roll_from__isnull=True)
                | Q(on_roll_until__gte=models.F("on_roll_from")),
                name="person_on_roll_dates_in_order",
                violation_error_message="The date they left the roll must be after they joined.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def sort_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


# --- Reference lists, loaded by data migrations (DESIGN.md rule 6) ------------------


class ReferenceItem(models.Model):
    """An entry of a fixed list: stable `code` for the program, `name` for people."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(
        default=True, help_text="Retired entries stay on old records but are not offered."
    )

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Purpose(ReferenceItem):
    """Why information is shared: policy sections 5.1 (statutory) and 6.1, and "other"."""

    clause = models.CharField(max_length=10, blank=True, help_text="The policy section.")
    is_statutory = models.BooleanField(default=False)
    needs_description = models.BooleanField(
        default=False, help_text='"Other": the record must describe the purpose.'
    )

    class Meta(ReferenceItem.Meta):
        pass


class FormOfSharing(ReferenceItem):
    """The shapes sharing takes (policy section 4.1)."""

    class Meta(ReferenceItem.Meta):
        verbose_name_plural = "forms of sharing"


class LawfulBasis(ReferenceItem):
    """UK GDPR Article 6(1)(a) to (f)."""

    article = models.CharField(max_length=20)

    class Meta(ReferenceItem.Meta):
        verbose_name_plural = "lawful bases"

    def __str__(self) -> str:
        return f"{self.article}: {self.name}"


class SpecialCategoryCondition(ReferenceItem):
    """UK GDPR Article 9(2)(a) to (j) and the conditions of DPA 2018 Schedule 1."""

    class Source(models.TextChoices):
        ARTICLE_9 = "article_9", "UK GDPR Article 9(2)"
        SCHEDULE_1 = "schedule_1", "Data Protection Act 2018, Schedule 1"

    source = models.CharField(max_length=12, choices=Source.choices)
    article = models.CharField(max_length=40)

    def __str__(self) -> str:
        return f"{self.article}: {self.name}"


class DataCategory(ReferenceItem):
    """A kind of personal data; special category data needs an Article 9 condition to share."""

    is_special = models.BooleanField("Special category", default=False)

    class Meta(ReferenceItem.Meta):
        verbose_name_plural = "data categories"


# --- Human references: DEC-2026-0042 -----------------------------------------------


class ReferenceCounter(models.Model):
    """The last number given to records of one prefix, year and organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "prefix", "year"], name="one_counter_per_prefix_and_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"
