"""The shared fixture set: two schools, one named person per role in each.

Every test can ask "and can the other school see it?" by using `world.other`.
Privileged people have a TOTP authenticator, as they must in production.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from infoshare.core.models import (
    PRIVILEGED_ROLES,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)

PASSWORD = "correct horse battery staple"


@dataclass
class School:
    organisation: Organisation
    people: dict[str, User] = field(default_factory=dict)

    def __getitem__(self, role: str) -> User:
        return self.people[role]

    @property
    def slug(self) -> str:
        return self.organisation.slug


@dataclass
class World:
    trust: Organisation
    local_authority: Organisation
    dfe: Organisation
    school: School
    other: School
    trust_dpo: User  # DPO of both schools, on behalf of the trust


def make_user(email: str, name: str, *, password: str = PASSWORD) -> User:
    return User.objects.create_user(email=email, name=name, password=password)


def give_totp(user: User) -> str:
    """Activate a TOTP authenticator for `user`; returns the secret to compute codes."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def add_membership(
    user: User, organisation: Organisation, *roles: str, acting_for: Organisation | None = None
) -> Membership:
    membership = Membership.objects.create(
        user=user, organisation=organisation, acting_for=acting_for
    )
    membership.set_roles(roles)
    if PRIVILEGED_ROLES.intersection(roles) and not user.authenticator_set.exists():
        give_totp(user)
    return membership


def make_school(name: str, slug: str, urn: str, trust: Organisation) -> School:
    organisation = Organisation.objects.create(
        name=name, slug=slug, kind=OrganisationKind.SCHOOL, urn=urn, parent=trust
    )
    school = School(organisation)
    for role in Role:
        user = make_user(f"{role.value}@{slug}.test", f"{role.label} of {name}")
        add_membership(user, organisation, role.value)
        school.people[role.value] = user
    return school


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path_factory):
    """No test writes to the developer's var/media (seed_demo's transfers encrypt files).
    Tests that look at the files set a folder of their own over this one."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


_audit_triggers = importlib.import_module("infoshare.audit.migrations.0002_append_only_triggers")
_reference_lists = importlib.import_module("infoshare.core.migrations.0003_load_reference_lists")
_removal_grounds = importlib.import_module(
    "infoshare.statutory.migrations.0002_load_removal_grounds"
)


@pytest.fixture(autouse=True)
def _audit_guard_around_transactional_tests(request):
    """Let Django empty the tables after a transactional test, triggers kept.

    Such tests commit for real, and Django then flushes every table, which the
    audit trail's append-only triggers rightly refuse. So the events are
    removed here first, with the triggers lifted for that one statement and
    put straight back: the flush then meets an empty audit table, which the
    triggers allow, and every later test runs with them in force.

    The flush also empties the reference lists a data migration loaded, so
    they are loaded again before each such test (the removal grounds too).
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    _reference_lists.load(django_apps, None)
    _removal_grounds.load(django_apps, None)
    yield
    _audit_triggers.remove_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    _audit_triggers.install_triggers(connection)


@pytest.fixture
def world(db) -> World:
    trust = Organisation.objects.create(
        name="Northbridge Learning Trust", slug="northbridge", kind=OrganisationKind.TRUST
    )
    local_authority = Organisation.objects.create(
        name="Eastmoor Council", slug="eastmoor", kind=OrganisationKind.LOCAL_AUTHORITY
    )
    dfe = Organisation.objects.create(
        name="Department for Education",
        slug="dfe",
        kind=OrganisationKind.EXTERNAL,
        external_kind="dfe",
    )
    school = make_school("Alder Primary School", "alder", "100001", trust)
    other = make_school("Birch Academy", "birch", "100002", trust)
    trust_dpo = make_user("dpo@northbridge.test", "Dana Trust-DPO")
    for s in (school, other):
        add_membership(trust_dpo, s.organisation, Role.DPO, acting_for=trust)
    return World(trust, local_authority, dfe, school, other, trust_dpo)


@pytest.fixture
def client_for(db):
    """`client_for(user)`: a test client signed in as that person."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
        return client

    return make
