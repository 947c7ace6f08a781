"""Every change to a safeguarding record: allowed, refused, and audited (DESIGN.md section 9).

Each service is taken by the person allowed to take it; by people whose
place never allows it (PermissionDenied); at a status where it cannot be
taken (the out-of-order message); and with bad answers (errors keyed by the
form's field names). A refused call saves nothing, leaves no audit event and
queues no email.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core.models import (
    LawfulBasis,
    Membership,
    Person,
    PersonKind,
    ReferenceCounter,
    User,
)
from infoshare.core.rules import forget_roles
from infoshare.decisions.models import Decision, Outcome
from infoshare.safeguarding import services
from infoshare.safeguarding.models import (
    FileKind,
    Part,
    ReshareKind,
    ReshareRequest,
    ReshareStatus,
    Share,
    Signature,
    Status,
)
from infoshare.safeguarding.services import ReshareAnswers, Signing, out_of_order_message
from tests.conftest import PASSWORD, give_totp, make_user
from tests.core.support import changes_of, last_event
from tests.safeguarding.support import (
    DESCRIPTION,
    answers,
    ask_to_share_outside,
    ask_to_share_with,
    current_code,
    decision_draft_for,
    make_pupil,
    make_share,
    signing_for,
    wrong_code,
)

if TYPE_CHECKING:
    from infoshare.core.models import Organisation
    from tests.conftest import World

    Capture = Callable[..., AbstractContextManager[list[Callable[[], object]]]]

pytestmark = pytest.mark.django_db

WRONG_CODE_MESSAGE = (
    "That code is wrong or has been used already. Enter the code your authenticator app shows now"
)
TOO_MANY = "Too many wrong attempts. Wait five minutes, then try again"
OTHER_ROLES = [
    "headteacher",
    "chair",
    "dpo",
    "information_manager",
    "staff",
    "volunteer",
    "auditor",
]


# --- Helpers ---------------------------------------------------------------------------


def stored() -> dict[str, Any]:
    """Everything a refused call must leave as it was, read afresh from the database."""
    return {
        "shares": list(Share.objects.order_by("pk").values()),
        "signatures": list(Signature.objects.order_by("pk").values()),
        "requests": list(ReshareRequest.objects.order_by("pk").values()),
        "decisions": list(Decision.objects.order_by("pk").values_list("pk", flat=True)),
        # A refused share must not use up a reference number: references have no gaps.
        "counters": list(ReferenceCounter.objects.order_by("pk").values_list("prefix", "last")),
        "events": AuditEvent.objects.count(),
        "emails": len(mail.outbox),
    }


@dataclass
class Refused:
    """Assertions that a call is refused and leaves everything as it was."""

    capture: Capture

    @contextmanager
    def nothing_changes(self) -> Iterator[None]:
        before = stored()
        with self.capture(execute=True) as queued:
            yield
        assert queued == [], "a refused call queued an email"
        assert stored() == before

    def forbidden(self, call: Callable[[], object]) -> str:
        with self.nothing_changes(), pytest.raises(PermissionDenied) as refused:
            call()
        return str(refused.value)

    def invalid(self, call: Callable[[], object]) -> dict[str, list[str]]:
        with self.nothing_changes(), pytest.raises(ValidationError) as refused:
            call()
        if hasattr(refused.value, "error_dict"):
            return refused.value.message_dict
        return {NON_FIELD_ERRORS: refused.value.messages}

    def out_of_order(self, share: Share, call: Callable[[], object]) -> None:
        """Refused with the message naming the record's status."""
        message = out_of_order_message(fresh(share))
        assert self.invalid(call) == {NON_FIELD_ERRORS: [message]}


@pytest.fixture
def refused(django_capture_on_commit_callbacks: Capture) -> Refused:
    return Refused(django_capture_on_commit_callbacks)


def fresh(share: Share) -> Share:
    return Share.objects.get(pk=share.pk)


def fresh_request(request: ReshareRequest) -> ReshareRequest:
    return ReshareRequest.objects.get(pk=request.pk)


def reference(number: int) -> str:
    return f"SG-{timezone.localdate().year}-{number:04d}"


def share_as(actor: User, organisation: Organisation, share_answers: Any, signing: Any) -> Share:
    return services.share_information(
        organisation, actor=actor, answers=share_answers, signing=signing
    )


def assert_no_content_in(event: AuditEvent, share: Share) -> None:
    """An audit event names a record by reference: never the child or what was shared."""
    text = f"{event.object_label} {event.changes}"
    for secret in (
        share.pupil.given_name,
        share.pupil.family_name,
        share.description,
        share.file_reference,
    ):
        assert secret not in text


def ended(user: User, organisation: Organisation) -> User:
    """`user`, whose membership of `organisation` has ended (as a fresh object)."""
    Membership.objects.filter(user=user, organisation=organisation).update(ended_at=timezone.now())
    forget_roles(user)
    return User.objects.get(pk=user.pk)


# --- Sharing: allowed -------------------------------------------------------------------


@pytest.mark.parametrize("lead", ["dsl", "deputy_dsl"])
def test_a_dsl_or_deputy_shares_and_signs_the_dsls_declaration(world: World, lead: str):
    school = world.school
    actor, teacher = school[lead], school["staff"]
    pupil = make_pupil(school.organisation)
    share = share_as(
        actor,
        school.organisation,
        replace(answers(pupil, teacher), file_reference="  CP-0193 ", description=" Told. "),
        signing_for(actor, name="  Sam Lead  "),
    )
    share = fresh(share)
    assert share.reference == reference(1)
    assert share.status == Status.AWAITING_ACKNOWLEDGEMENT
    assert (share.pupil, share.recipient, share.shared_by) == (pupil, teacher, actor)
    assert (share.file_kind, share.file_reference) == (FileKind.CHILD_PROTECTION, "CP-0193")
    assert share.description == "Told."
    assert share.permitted_by_request is None
    assert not share.is_complete
    (signature,) = share.signatures.all()
    assert (signature.part, signature.signer, signature.name) == (Part.DSL, actor, "Sam Lead")
    assert signature.confirmed_with == "authenticator"
    assert signature.is_intact


def test_sharing_is_audited_by_reference_without_its_content(world: World):
    school = world.school
    share = make_share(school["dsl"], school["staff"])
    event = last_event("safeguarding.shared")
    assert event.organisation == school.organisation
    assert event.actor == school["dsl"]
    assert (event.object_type, event.object_id) == ("safeguarding.share", share.reference)
    assert event.object_label == share.reference
    assert changes_of(event) == {"status": "awaiting", "file_kind": "child_protection"}
    assert_no_content_in(event, share)


def test_references_are_numbered_per_school_without_gaps(world: World, refused: Refused):
    school, other = world.school, world.other
    first = make_share(school["dsl"], school["staff"])
    # A refused share in between takes no number.
    refused.invalid(
        lambda: share_as(
            school["dsl"],
            school.organisation,
            answers(make_pupil(school.organisation), school["staff"], description=" "),
            signing_for(school["dsl"]),
        )
    )
    second = make_share(school["deputy_dsl"], school["volunteer"])
    elsewhere = make_share(other["dsl"], other["staff"])
    assert [first.reference, second.reference] == [reference(1), reference(2)]
    assert elsewhere.reference == reference(1)
    assert elsewhere.organisation == other.organisation


# --- Sharing: refused -------------------------------------------------------------------


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_only_a_dsl_or_deputy_shares(world: World, refused: Refused, role: str):
    school = world.school
    actor = school[role]
    recipient = school["staff"] if role != "staff" else school["volunteer"]
    share_answers = answers(make_pupil(school.organisation), recipient)
    message = refused.forbidden(
        lambda: share_as(actor, school.organisation, share_answers, signing_for(actor))
    )
    assert message == "Only a designated safeguarding lead shares safeguarding information."


@pytest.mark.parametrize("who", ["other school's dsl", "other school's deputy", "trust dpo"])
def test_nobody_from_elsewhere_shares_for_the_school(world: World, refused: Refused, who: str):
    actor = {
        "other school's dsl": world.other["dsl"],
        "other school's deputy": world.other["deputy_dsl"],
        "trust dpo": world.trust_dpo,
    }[who]
    school = world.school
    share_answers = answers(make_pupil(school.organisation), school["staff"])
    refused.forbidden(
        lambda: share_as(actor, school.organisation, share_answers, signing_for(actor))
    )


def _other_pupil(world: World) -> Person:
    return make_pupil(world.other.organisation, "Noor", "Birchfield")


def _parent(world: World) -> Person:
    return Person.objects.create(
        organisation=world.school.organisation,
        kind=PersonKind.PARENT,
        given_name="Morgan",
        family_name="Marsh",
    )


# Each: how the answers go wrong, the field it is reported against, and what it says.
BAD_ANSWERS: dict[str, tuple[Callable[[World, Any], Any], str, str]] = {
    "no pupil": (
        lambda w, a: replace(a, pupil=None),
        "pupil",
        "Choose the pupil the information is about",
    ),
    "a pupil of the other school": (
        lambda w, a: replace(a, pupil=_other_pupil(w)),
        "pupil",
        "Choose a pupil of this school",
    ),
    "a parent, not a pupil": (
        lambda w, a: replace(a, pupil=_parent(w)),
        "pupil",
        "Choose a pupil of this school",
    ),
    "no file kind": (
        lambda w, a: replace(a, file_kind=""),
        "file_kind",
        "Choose which of the child's files the form goes on",
    ),
    "an unknown file kind": (
        lambda w, a: replace(a, file_kind="medical"),
        "file_kind",
        "Choose which of the child's files the form goes on",
    ),
    "no file reference": (
        lambda w, a: replace(a, file_reference="   "),
        "file_reference",
        "Enter the reference of the child's file",
    ),
    "no description": (
        lambda w, a: replace(a, description=" \n "),
        "description",
        "Describe briefly the information being shared",
    ),
    "no recipient": (
        lambda w, a: replace(a, recipient=None),
        "recipient",
        "Choose the member of staff you are sharing with",
    ),
    "the dsl themselves": (
        lambda w, a: replace(a, recipient=w.school["dsl"]),
        "recipient",
        "Choose someone else: you already hold this information",
    ),
    "someone who is not a member": (
        lambda w, a: replace(a, recipient=make_user("stranger@example.org", "A Stranger")),
        "recipient",
        "Choose a member of staff of this school",
    ),
    "the school's dpo (only oversees)": (
        lambda w, a: replace(a, recipient=w.school["dpo"]),
        "recipient",
        "Choose a member of staff of this school",
    ),
    "the school's auditor (only oversees)": (
        lambda w, a: replace(a, recipient=w.school["auditor"]),
        "recipient",
        "Choose a member of staff of this school",
    ),
    "the trust's dpo": (
        lambda w, a: replace(a, recipient=w.trust_dpo),
        "recipient",
        "Choose a member of staff of this school",
    ),
    "a member of the other school": (
        lambda w, a: replace(a, recipient=w.other["staff"]),
        "recipient",
        "Choose a member of staff of this school",
    ),
    "a member who has left": (
        lambda w, a: replace(a, recipient=ended(w.school["staff"], w.school.organisation)),
        "recipient",
        "Choose a member of staff of this school",
    ),
}


@pytest.mark.parametrize("case", BAD_ANSWERS)
def test_bad_answers_are_refused_by_field(world: World, refused: Refused, case: str):
    spoil, field, message = BAD_ANSWERS[case]
    school = world.school
    dsl = school["dsl"]
    share_answers = spoil(world, answers(make_pupil(school.organisation), school["staff"]))
    errors = refused.invalid(
        lambda: share_as(dsl, school.organisation, share_answers, signing_for(dsl))
    )
    assert errors == {field: [message]}


def test_every_problem_is_reported_at_once(world: World, refused: Refused):
    school = world.school
    dsl = school["dsl"]
    share_answers = services.ShareAnswers(
        pupil=None, file_kind="", file_reference="", description="", recipient=None
    )
    errors = refused.invalid(
        lambda: share_as(
            dsl, school.organisation, share_answers, Signing(name="", confirmed=False, secret="")
        )
    )
    assert set(errors) == {
        "pupil",
        "file_kind",
        "file_reference",
        "description",
        "recipient",
        "signed_name",
        "confirmed",
        "secret",
    }


# --- Signing when sharing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("signing", "field", "message"),
    [
        (Signing(name="  ", confirmed=True, secret="x"), "signed_name", "Type your name to sign"),
        (
            Signing(name="Sam Lead", confirmed=False, secret="x"),
            "confirmed",
            "Confirm the declaration to sign it",
        ),
        (
            Signing(name="Sam Lead", confirmed=True, secret=" "),
            "secret",
            "Enter the code from your authenticator app, or your password",
        ),
    ],
    ids=["no name", "declaration not confirmed", "no code"],
)
def test_an_incomplete_signature_is_refused(
    world: World, refused: Refused, signing: Signing, field: str, message: str
):
    school = world.school
    share_answers = answers(make_pupil(school.organisation), school["staff"])
    errors = refused.invalid(
        lambda: share_as(school["dsl"], school.organisation, share_answers, signing)
    )
    assert errors == {field: [message]}


@pytest.mark.parametrize("secret", ["wrong code", "password"])
def test_a_dsl_signs_with_the_code_not_a_wrong_one_or_the_password(
    world: World, refused: Refused, secret: str
):
    school = world.school
    dsl = school["dsl"]
    typed = wrong_code(dsl) if secret == "wrong code" else PASSWORD
    share_answers = answers(make_pupil(school.organisation), school["staff"])
    errors = refused.invalid(
        lambda: share_as(dsl, school.organisation, share_answers, Signing("Sam Lead", True, typed))
    )
    assert errors == {"secret": [WRONG_CODE_MESSAGE]}


def test_a_code_signs_once_only(world: World, refused: Refused):
    school = world.school
    dsl = school["dsl"]
    signing = Signing(name="Sam Lead", confirmed=True, secret=current_code(dsl))
    first = share_as(
        dsl, school.organisation, answers(make_pupil(school.organisation), school["staff"]), signing
    )
    assert first.signatures.get().confirmed_with == "authenticator"
    errors = refused.invalid(
        lambda: share_as(
            dsl,
            school.organisation,
            answers(make_pupil(school.organisation, "Kit"), school["volunteer"]),
            signing,
        )
    )
    assert errors == {"secret": [WRONG_CODE_MESSAGE]}


def test_a_dsl_without_an_authenticator_cannot_sign_where_a_second_factor_is_required(
    world: World, refused: Refused, settings
):
    assert settings.INFOSHARE_REQUIRE_MFA is True
    school = world.school
    dsl = school["dsl"]
    Authenticator.objects.filter(user=dsl).delete()
    share_answers = answers(make_pupil(school.organisation), school["staff"])
    errors = refused.invalid(
        lambda: share_as(dsl, school.organisation, share_answers, signing_for(dsl))
    )
    assert errors == {
        "secret": ["Set up an authenticator app for your account before you sign as a DSL"]
    }


def test_without_the_second_factor_setting_a_dsl_signs_with_their_password(
    world: World, refused: Refused, settings
):
    settings.INFOSHARE_REQUIRE_MFA = False
    school = world.school
    dsl = school["dsl"]
    Authenticator.objects.filter(user=dsl).delete()
    wrong = Signing(name="Sam Lead", confirmed=True, secret="not my password")
    share_answers = answers(make_pupil(school.organisation), school["staff"])
    errors = refused.invalid(lambda: share_as(dsl, school.organisation, share_answers, wrong))
    assert errors == {"secret": ["That password is wrong"]}
    share = share_as(dsl, school.organisation, share_answers, signing_for(dsl))
    signature = share.signatures.get()
    assert signature.confirmed_with == "password"
    assert signature.is_intact


def test_five_wrong_codes_pause_signing_even_with_the_right_one(world: World, refused: Refused):
    school = world.school
    dsl = school["dsl"]
    share_answers = answers(make_pupil(school.organisation), school["staff"])

    def sign_with(secret: str) -> Share:
        return share_as(dsl, school.organisation, share_answers, Signing("Sam Lead", True, secret))

    for _ in range(5):
        errors = refused.invalid(lambda: sign_with(wrong_code(dsl)))
        assert errors == {"secret": [WRONG_CODE_MESSAGE]}
    errors = refused.invalid(lambda: sign_with(current_code(dsl)))
    assert errors == {"secret": [TOO_MANY]}


def test_four_wrong_codes_do_not_pause_signing(world: World, refused: Refused):
    school = world.school
    dsl = school["dsl"]
    share_answers = answers(make_pupil(school.organisation), school["staff"])
    for _ in range(4):
        refused.invalid(
            lambda: share_as(
                dsl, school.organisation, share_answers, Signing("Sam", True, wrong_code(dsl))
            )
        )
    share = share_as(
        dsl, school.organisation, share_answers, Signing("Sam", True, current_code(dsl))
    )
    assert share.signatures.get().is_intact


# --- Acknowledging ----------------------------------------------------------------------------


def test_the_recipient_acknowledges_with_their_password_when_they_have_no_authenticator(
    world: World, settings
):
    assert settings.INFOSHARE_REQUIRE_MFA is True  # a recipient needs no second factor to sign
    school = world.school
    teacher = school["staff"]
    share = make_share(school["dsl"], teacher)
    services.acknowledge_share(
        share,
        actor=teacher,
        signing=Signing(name=" Tess Teacher ", confirmed=True, secret=PASSWORD),
    )
    share = fresh(share)
    assert share.status == Status.ACKNOWLEDGED
    assert share.is_complete
    signature = share.signature_of(Part.RECIPIENT)
    assert signature is not None
    assert (signature.signer, signature.name) == (teacher, "Tess Teacher")
    assert signature.confirmed_with == "password"
    assert signature.is_intact
    assert share.signature_of(Part.DSL).is_intact  # type: ignore[union-attr]
    event = last_event("safeguarding.acknowledged")
    assert (event.actor, event.object_id, event.object_label) == (
        teacher,
        share.reference,
        share.reference,
    )
    assert changes_of(event) == {"status": "acknowledged"}
    assert_no_content_in(event, share)


def test_a_recipient_with_an_authenticator_acknowledges_with_its_code(
    world: World, refused: Refused
):
    school = world.school
    teacher = school["staff"]
    give_totp(teacher)
    share = make_share(school["dsl"], teacher)
    errors = refused.invalid(
        lambda: services.acknowledge_share(
            share, actor=teacher, signing=Signing("Tess", True, PASSWORD)
        )
    )
    assert errors == {"secret": [WRONG_CODE_MESSAGE]}
    services.acknowledge_share(share, actor=teacher, signing=signing_for(teacher))
    signature = fresh(share).signature_of(Part.RECIPIENT)
    assert signature is not None
    assert signature.confirmed_with == "authenticator"


@pytest.mark.parametrize(
    "who", ["dsl", "deputy_dsl", "headteacher", "volunteer", "other staff", "trust dpo"]
)
def test_only_the_recipient_acknowledges(world: World, refused: Refused, who: str):
    school = world.school
    share = make_share(school["dsl"], school["staff"])
    actor = {"other staff": world.other["staff"], "trust dpo": world.trust_dpo}.get(who) or (
        school[who]
    )
    message = refused.forbidden(
        lambda: services.acknowledge_share(share, actor=actor, signing=signing_for(actor))
    )
    assert message == "Only the person it was shared with acknowledges it."


@pytest.mark.parametrize(
    ("signing", "field", "message"),
    [
        (Signing("Tess", True, "not my password"), "secret", "That password is wrong"),
        (Signing("", True, PASSWORD), "signed_name", "Type your name to sign"),
        (Signing("Tess", False, PASSWORD), "confirmed", "Confirm the declaration to sign it"),
    ],
    ids=["wrong password", "no name", "not confirmed"],
)
def test_a_bad_acknowledgement_changes_nothing(
    world: World, refused: Refused, signing: Signing, field: str, message: str
):
    school = world.school
    share = make_share(school["dsl"], school["staff"])
    errors = refused.invalid(
        lambda: services.acknowledge_share(share, actor=school["staff"], signing=signing)
    )
    assert errors == {field: [message]}
    assert fresh(share).status == Status.AWAITING_ACKNOWLEDGEMENT


def test_a_record_is_acknowledged_once(world: World, refused: Refused):
    school = world.school
    teacher = school["staff"]
    share = make_share(school["dsl"], teacher, acknowledged=True)
    refused.out_of_order(
        share,
        lambda: services.acknowledge_share(share, actor=teacher, signing=signing_for(teacher)),
    )
    assert "acknowledged" in out_of_order_message(fresh(share))


def test_a_withdrawn_record_cannot_be_acknowledged(world: World, refused: Refused):
    school = world.school
    teacher = school["staff"]
    share = make_share(school["dsl"], teacher)
    services.withdraw_share(share, actor=school["dsl"], reason="Shared with the wrong person")
    refused.out_of_order(
        share,
        lambda: services.acknowledge_share(share, actor=teacher, signing=signing_for(teacher)),
    )


# --- Withdrawing ------------------------------------------------------------------------------


@pytest.mark.parametrize("acknowledged", [False, True], ids=["awaiting", "acknowledged"])
@pytest.mark.parametrize("lead", ["dsl", "deputy_dsl"])
def test_a_dsl_withdraws_a_record_which_stays_with_the_reason(
    world: World, lead: str, acknowledged: bool
):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=acknowledged)
    before = timezone.now()
    services.withdraw_share(share, actor=school[lead], reason="  Shared with the wrong person ")
    share = fresh(share)
    assert share.status == Status.WITHDRAWN
    assert share.withdrawn_by == school[lead]
    assert share.withdrawn_at is not None
    assert share.withdrawn_at >= before
    assert share.withdrawal_reason == "Shared with the wrong person"
    # Nothing of the record is lost: its content and its signatures stay, intact.
    assert (share.description, share.file_reference) == (DESCRIPTION, "CP-0193")
    assert share.signatures.count() == (2 if acknowledged else 1)
    assert all(signature.is_intact for signature in share.signatures.all())
    event = last_event("safeguarding.withdrawn")
    assert (event.actor, event.object_id) == (school[lead], share.reference)
    assert changes_of(event) == {"status": "withdrawn"}
    assert_no_content_in(event, share)


def test_a_withdrawal_needs_a_reason(world: World, refused: Refused):
    school = world.school
    share = make_share(school["dsl"], school["staff"])
    errors = refused.invalid(
        lambda: services.withdraw_share(share, actor=school["dsl"], reason="  ")
    )
    assert errors == {"reason": ["Say why the record is withdrawn"]}


@pytest.mark.parametrize("who", ["staff", "headteacher", "dpo", "other dsl"])
def test_only_a_dsl_withdraws(world: World, refused: Refused, who: str):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    actor = world.other["dsl"] if who == "other dsl" else school[who]
    message = refused.forbidden(
        lambda: services.withdraw_share(share, actor=actor, reason="I was told to")
    )
    assert message == "Only a designated safeguarding lead withdraws a record."


def test_a_record_is_withdrawn_once(world: World, refused: Refused):
    school = world.school
    share = make_share(school["dsl"], school["staff"])
    services.withdraw_share(share, actor=school["dsl"], reason="Wrong person")
    refused.out_of_order(
        share, lambda: services.withdraw_share(share, actor=school["deputy_dsl"], reason="Again")
    )
    assert fresh(share).withdrawn_by == school["dsl"]


def test_withdrawal_refuses_the_pending_requests_and_audits_each(world: World):
    school = world.school
    dsl, deputy = school["dsl"], school["deputy_dsl"]
    share = make_share(dsl, school["staff"], acknowledged=True)
    answered = ask_to_share_with(share, school["volunteer"])
    services.refuse_reshare(answered, actor=deputy, reasons="Not needed")
    internal = ask_to_share_with(share, school["information_manager"])
    external = ask_to_share_outside(share)
    events_before = AuditEvent.objects.filter(verb="safeguarding.reshare_refused").count()

    services.withdraw_share(share, actor=dsl, reason="The disclosure was retracted")

    for asked in (internal, external):
        pending = fresh_request(asked)
        assert pending.status == ReshareStatus.REFUSED
        assert pending.answered_by == dsl
        assert pending.answered_at is not None
        assert pending.answer_reasons == "The record was withdrawn."
    untouched = fresh_request(answered)
    assert (untouched.answered_by, untouched.answer_reasons) == (deputy, "Not needed")
    events = AuditEvent.objects.filter(verb="safeguarding.reshare_refused").order_by("sequence")
    new_events = list(events)[events_before:]
    assert sorted(changes_of(e)["request"] for e in new_events) == sorted(
        [str(internal.uuid), str(external.uuid)]
    )
    assert all(e.object_id == share.reference and e.actor == dsl for e in new_events)


# --- Marking the form as attached to the child's file ----------------------------------------


def test_a_dsl_notes_the_form_is_on_the_childs_file(world: World):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    services.record_attached_to_file(share, actor=school["deputy_dsl"])
    share = fresh(share)
    assert share.attached_by == school["deputy_dsl"]
    assert share.attached_at is not None
    event = last_event("safeguarding.attached_to_file")
    assert (event.actor, event.object_id) == (school["deputy_dsl"], share.reference)
    assert changes_of(event) == {"file_kind": "child_protection"}


def test_an_incomplete_record_is_not_filed(world: World, refused: Refused):
    school = world.school
    share = make_share(school["dsl"], school["staff"])
    refused.out_of_order(
        share, lambda: services.record_attached_to_file(share, actor=school["dsl"])
    )
    services.withdraw_share(share, actor=school["dsl"], reason="Wrong person")
    refused.out_of_order(
        share, lambda: services.record_attached_to_file(share, actor=school["dsl"])
    )


def test_the_form_is_noted_as_filed_once(world: World, refused: Refused):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    services.record_attached_to_file(share, actor=school["dsl"])
    filed_at = fresh(share).attached_at
    errors = refused.invalid(
        lambda: services.record_attached_to_file(share, actor=school["deputy_dsl"])
    )
    filed_on = f"{timezone.localtime(filed_at):%-d %B %Y}"
    assert errors == {
        NON_FIELD_ERRORS: [
            f"{share.reference} was marked as attached to the child's file on {filed_on}."
        ]
    }
    assert fresh(share).attached_at == filed_at
    assert fresh(share).attached_by == school["dsl"]


@pytest.mark.parametrize("who", ["staff", "headteacher", "other dsl"])
def test_only_a_dsl_files_the_form(world: World, refused: Refused, who: str):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    actor = world.other["dsl"] if who == "other dsl" else school[who]
    message = refused.forbidden(lambda: services.record_attached_to_file(share, actor=actor))
    assert message == "Only a designated safeguarding lead files the form."


# --- Asking to share further ------------------------------------------------------------------


def test_the_recipient_asks_to_share_with_a_colleague(world: World):
    school = world.school
    teacher, nurse = school["staff"], school["volunteer"]
    share = make_share(school["dsl"], teacher, acknowledged=True)
    request = services.request_reshare(
        share,
        actor=teacher,
        answers=ReshareAnswers(
            kind=ReshareKind.INTERNAL, colleague=nurse, reason="  She sees the pupil daily "
        ),
    )
    request = fresh_request(request)
    assert request.status == ReshareStatus.REQUESTED
    assert (request.share, request.organisation) == (share, school.organisation)
    assert (request.kind, request.colleague, request.requested_by) == ("internal", nurse, teacher)
    assert request.reason == "She sees the pupil daily"
    assert request.answered_by is None
    event = last_event("safeguarding.reshare_requested")
    assert (event.actor, event.object_id) == (teacher, share.reference)
    assert changes_of(event) == {
        "request": str(request.uuid),
        "kind": "internal",
        "status": "requested",
    }
    assert_no_content_in(event, share)


def test_the_recipient_asks_to_share_with_an_organisation_named_or_chosen(world: World):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    typed = ask_to_share_outside(share, " Eastmoor CAMHS ")
    assert (typed.kind, typed.outside_organisation_name, typed.outside_person) == (
        "external",
        "Eastmoor CAMHS",
        "Duty clinician",
    )
    assert typed.colleague is None
    chosen = services.request_reshare(
        share,
        actor=school["staff"],
        answers=ReshareAnswers(
            kind=ReshareKind.EXTERNAL,
            outside_organisation=world.local_authority,
            reason="The council's early help team is involved",
        ),
    )
    assert chosen.outside_organisation == world.local_authority
    assert chosen.whom == "Eastmoor Council"


@pytest.mark.parametrize("status", ["awaiting", "withdrawn"])
def test_only_an_acknowledged_record_is_asked_about(world: World, refused: Refused, status: str):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=False)
    if status == "withdrawn":
        services.withdraw_share(share, actor=school["dsl"], reason="Wrong person")
    refused.out_of_order(share, lambda: ask_to_share_with(share, school["volunteer"]))


@pytest.mark.parametrize("who", ["dsl", "deputy_dsl", "headteacher", "volunteer"])
def test_only_the_recipient_asks_to_share_further(world: World, refused: Refused, who: str):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    message = refused.forbidden(
        lambda: services.request_reshare(
            share,
            actor=school[who],
            answers=ReshareAnswers(
                kind=ReshareKind.INTERNAL, colleague=school["chair"], reason="Needed"
            ),
        )
    )
    assert message == "Only the person it was shared with asks to share it further."


def test_a_recipient_who_has_left_the_school_no_longer_acknowledges(world: World, refused: Refused):
    """They see nothing of the school's records now (`for_user`), so they sign nothing either."""
    school = world.school
    share = make_share(school["dsl"], school["staff"])
    left = ended(school["staff"], school.organisation)
    assert not Share.objects.for_user(left, school.organisation).exists()
    refused.forbidden(
        lambda: services.acknowledge_share(share, actor=left, signing=signing_for(left))
    )


def test_a_recipient_who_has_left_the_school_no_longer_asks_to_share_further(
    world: World, refused: Refused
):
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    left = ended(school["staff"], school.organisation)
    refused.forbidden(
        lambda: services.request_reshare(
            share,
            actor=left,
            answers=ReshareAnswers(
                kind=ReshareKind.INTERNAL, colleague=school["volunteer"], reason="Needed"
            ),
        )
    )


def _internal(colleague: Callable[[World], User | None]) -> Callable[[World], ReshareAnswers]:
    return lambda w: ReshareAnswers(kind="internal", colleague=colleague(w), reason="Needed")


def _external(name: str, reason: str = "Needed") -> Callable[[World], ReshareAnswers]:
    return lambda w: ReshareAnswers(kind="external", outside_organisation_name=name, reason=reason)


NOT_STAFF = "Choose a member of staff of this school"
ALREADY_HOLDS = "Choose someone who does not already hold this information"
BAD_REQUESTS: dict[str, tuple[Callable[[World], ReshareAnswers], str, str]] = {
    "no kind": (
        lambda w: ReshareAnswers(kind="", reason="Needed"),
        "kind",
        "Choose whether you want to share with a colleague or an organisation",
    ),
    "no colleague": (_internal(lambda w: None), "colleague", "Choose the member of staff"),
    "the requester": (_internal(lambda w: w.school["staff"]), "colleague", ALREADY_HOLDS),
    "the sharing dsl": (_internal(lambda w: w.school["dsl"]), "colleague", ALREADY_HOLDS),
    "the school's dpo": (_internal(lambda w: w.school["dpo"]), "colleague", NOT_STAFF),
    "the school's auditor": (_internal(lambda w: w.school["auditor"]), "colleague", NOT_STAFF),
    "the trust's dpo": (_internal(lambda w: w.trust_dpo), "colleague", NOT_STAFF),
    "other school's staff": (_internal(lambda w: w.other["staff"]), "colleague", NOT_STAFF),
    "not a member": (
        _internal(lambda w: make_user("stranger@example.org", "A Stranger")),
        "colleague",
        NOT_STAFF,
    ),
    "no organisation": (
        _external("  "),
        "outside_organisation",
        "Choose the organisation, or type its name",
    ),
    "no reason": (
        _external("Eastmoor CAMHS", reason=" "),
        "reason",
        "Say why the information needs to be shared further",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_request_with_bad_answers_is_refused_by_field(world: World, refused: Refused, case: str):
    make_answers, field, message = BAD_REQUESTS[case]
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    request_answers = make_answers(world)
    errors = refused.invalid(
        lambda: services.request_reshare(share, actor=school["staff"], answers=request_answers)
    )
    assert errors == {field: [message]}


# --- Answering a request -----------------------------------------------------------------------


@pytest.fixture
def asked(world: World) -> ReshareRequest:
    """The teacher, having acknowledged a record, asks to share it with the volunteer."""
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    return ask_to_share_with(share, school["volunteer"])


@pytest.fixture
def asked_outside(world: World) -> ReshareRequest:
    school = world.school
    share = make_share(school["dsl"], school["staff"], acknowledged=True)
    return ask_to_share_outside(share)


@pytest.mark.parametrize("lead", ["dsl", "deputy_dsl"])
def test_a_dsl_refuses_with_reasons(world: World, asked: ReshareRequest, lead: str):
    actor = world.school[lead]
    assert services.may_answer(asked, actor)
    services.refuse_reshare(asked, actor=actor, reasons="  The nurse does not need it ")
    request = fresh_request(asked)
    assert request.status == ReshareStatus.REFUSED
    assert (request.answered_by, request.answer_reasons) == (actor, "The nurse does not need it")
    assert request.answered_at is not None
    assert not hasattr(request, "resulting_share") or request.resulting_share is None
    event = last_event("safeguarding.reshare_refused")
    assert (event.actor, event.object_id) == (actor, asked.share.reference)
    assert changes_of(event) == {
        "request": str(asked.uuid),
        "kind": "internal",
        "status": "refused",
    }


def test_a_refusal_needs_reasons(world: World, refused: Refused, asked: ReshareRequest):
    errors = refused.invalid(
        lambda: services.refuse_reshare(asked, actor=world.school["dsl"], reasons=" ")
    )
    assert errors == {"reasons": ["Say why the information may not be shared further"]}


@pytest.mark.parametrize("who", ["staff", "headteacher", "dpo", "volunteer", "other dsl"])
def test_only_a_dsl_answers(world: World, refused: Refused, asked: ReshareRequest, who: str):
    school = world.school
    actor = world.other["dsl"] if who == "other dsl" else school[who]
    assert not services.may_answer(asked, actor)
    for answer in (
        lambda: services.refuse_reshare(asked, actor=actor, reasons="No"),
        lambda: services.permit_internal_reshare(
            asked, actor=actor, reasons="Yes", description="Less", signing=signing_for(actor)
        ),
    ):
        message = refused.forbidden(answer)
        assert message == "Only a designated safeguarding lead answers these requests."


def test_a_deputy_who_asked_cannot_answer_their_own_request(world: World, refused: Refused):
    school = world.school
    dsl, deputy = school["dsl"], school["deputy_dsl"]
    share = make_share(dsl, deputy, acknowledged=True)
    inside = ask_to_share_with(share, school["staff"])
    outside = ask_to_share_outside(share)
    assert not services.may_answer(inside, deputy)
    own = "You asked for this, so another designated safeguarding lead must answer it."
    assert (
        refused.forbidden(lambda: services.refuse_reshare(inside, actor=deputy, reasons="No"))
        == own
    )
    assert (
        refused.forbidden(
            lambda: services.permit_internal_reshare(
                inside, actor=deputy, reasons="Yes", description="Less", signing=signing_for(deputy)
            )
        )
        == own
    )
    assert (
        refused.forbidden(
            lambda: services.permit_external_reshare(
                outside, actor=deputy, draft=decision_draft_for(outside, deputy)
            )
        )
        == own
    )
    # Another lead may.
    assert services.may_answer(inside, dsl)
    services.refuse_reshare(inside, actor=dsl, reasons="Not needed")
    assert fresh_request(inside).answered_by == dsl


def test_a_request_is_answered_once(world: World, refused: Refused, asked: ReshareRequest):
    school = world.school
    services.refuse_reshare(asked, actor=school["dsl"], reasons="Not needed")
    assert not services.may_answer(fresh_request(asked), school["deputy_dsl"])
    answered = "This request has been answered already: \u201crefused\u201d."
    deputy = school["deputy_dsl"]
    errors = refused.invalid(lambda: services.refuse_reshare(asked, actor=deputy, reasons="No"))
    assert errors == {NON_FIELD_ERRORS: [answered]}
    errors = refused.invalid(
        lambda: services.permit_internal_reshare(
            asked, actor=deputy, reasons="Yes", description="Less", signing=signing_for(deputy)
        )
    )
    assert errors == {NON_FIELD_ERRORS: [answered]}


def test_a_permitted_request_is_not_answered_again(
    world: World, refused: Refused, asked: ReshareRequest
):
    school = world.school
    dsl, deputy = school["dsl"], school["deputy_dsl"]
    services.permit_internal_reshare(
        asked, actor=dsl, reasons="Needed", description="Less", signing=signing_for(dsl)
    )
    answered = "This request has been answered already: \u201cpermitted\u201d."
    errors = refused.invalid(lambda: services.refuse_reshare(asked, actor=deputy, reasons="No"))
    assert errors == {NON_FIELD_ERRORS: [answered]}
    errors = refused.invalid(
        lambda: services.permit_internal_reshare(
            asked, actor=deputy, reasons="Again", description="Less", signing=signing_for(deputy)
        )
    )
    assert errors == {NON_FIELD_ERRORS: [answered]}
    assert Share.objects.filter(permitted_by_request=asked).count() == 1


def test_a_request_on_a_withdrawn_record_is_not_answered(
    world: World, refused: Refused, asked: ReshareRequest, asked_outside: ReshareRequest
):
    school = world.school
    dsl, deputy = school["dsl"], school["deputy_dsl"]
    services.withdraw_share(asked.share, actor=dsl, reason="Retracted")
    services.withdraw_share(asked_outside.share, actor=dsl, reason="Retracted")
    assert not services.may_answer(fresh_request(asked), deputy)
    refused.invalid(lambda: services.refuse_reshare(asked, actor=deputy, reasons="No"))
    refused.invalid(
        lambda: services.permit_internal_reshare(
            asked, actor=deputy, reasons="Yes", description="Less", signing=signing_for(deputy)
        )
    )
    refused.invalid(
        lambda: services.permit_external_reshare(
            asked_outside, actor=deputy, draft=decision_draft_for(asked_outside, deputy)
        )
    )
    assert fresh_request(asked).answer_reasons == "The record was withdrawn."


# --- Permitting a colleague: a new record ---------------------------------------------------


def test_permitting_a_colleague_makes_a_new_signed_record(world: World, asked: ReshareRequest):
    school = world.school
    deputy, nurse = school["deputy_dsl"], school["volunteer"]
    original = asked.share
    new = services.permit_internal_reshare(
        asked,
        actor=deputy,
        reasons="  The nurse gives the pupil medication ",
        description="  Only that the pupil may be upset at lunchtimes ",
        signing=signing_for(deputy, name="Dee Deputy"),
    )
    new = fresh(new)
    assert new.reference == reference(2)
    assert new.status == Status.AWAITING_ACKNOWLEDGEMENT
    assert (new.recipient, new.shared_by) == (nurse, deputy)
    assert new.permitted_by_request == asked
    assert (new.pupil, new.file_kind, new.file_reference) == (
        original.pupil,
        original.file_kind,
        original.file_reference,
    )
    assert new.description == "Only that the pupil may be upset at lunchtimes"
    (signature,) = new.signatures.all()
    assert (signature.part, signature.signer, signature.name) == (Part.DSL, deputy, "Dee Deputy")
    assert signature.confirmed_with == "authenticator"
    assert signature.is_intact
    # The original is unchanged; the request is answered.
    assert fresh(original).description == DESCRIPTION
    assert fresh(original).recipient == school["staff"]
    request = fresh_request(asked)
    assert request.status == ReshareStatus.PERMITTED
    assert (request.answered_by, request.answer_reasons) == (
        deputy,
        "The nurse gives the pupil medication",
    )
    assert Share.objects.for_user(nurse, school.organisation).get() == new


def test_permitting_a_colleague_is_audited_on_both_records(world: World, asked: ReshareRequest):
    school = world.school
    dsl = school["dsl"]
    new = services.permit_internal_reshare(
        asked, actor=dsl, reasons="Needed", description="Less", signing=signing_for(dsl)
    )
    permitted = last_event("safeguarding.reshare_permitted")
    assert (permitted.actor, permitted.object_id) == (dsl, asked.share.reference)
    assert changes_of(permitted) == {
        "request": str(asked.uuid),
        "kind": "internal",
        "status": "permitted",
    }
    shared = last_event("safeguarding.shared")
    assert (shared.actor, shared.object_id) == (dsl, new.reference)
    assert changes_of(shared) == {
        "status": "awaiting",
        "file_kind": "child_protection",
        "request": str(asked.uuid),
    }
    assert_no_content_in(shared, new)
    assert_no_content_in(permitted, asked.share)


# Each: what the permitting DSL gets wrong, the field it is reported against, and the message.
BAD_PERMISSIONS: dict[str, tuple[dict[str, str], str, str]] = {
    "no reasons": ({"reasons": " "}, "reasons", "Say why sharing further is permitted"),
    "no description": (
        {"description": " "},
        "description",
        "Describe briefly the information being shared",
    ),
    "wrong code": ({"signing": "wrong code"}, "secret", WRONG_CODE_MESSAGE),
    "no name": ({"signing": "unnamed"}, "signed_name", "Type your name to sign"),
}


@pytest.mark.parametrize("case", BAD_PERMISSIONS)
def test_a_bad_permission_leaves_the_request_pending(
    world: World, refused: Refused, asked: ReshareRequest, case: str
):
    change, field, message = BAD_PERMISSIONS[case]
    dsl = world.school["dsl"]
    signing = {
        "wrong code": Signing("Sam Lead", True, wrong_code(dsl)),
        "unnamed": signing_for(dsl, name=""),
    }.get(change.get("signing", ""), signing_for(dsl))
    arguments: dict[str, Any] = {
        "reasons": "Needed",
        "description": "Less",
        **change,
        "signing": signing,
    }
    errors = refused.invalid(
        lambda: services.permit_internal_reshare(asked, actor=dsl, **arguments)
    )
    assert errors == {field: [message]}
    assert fresh_request(asked).status == ReshareStatus.REQUESTED


def test_a_colleague_who_has_left_since_the_request_is_not_shared_with(
    world: World, refused: Refused, asked: ReshareRequest
):
    school = world.school
    dsl = school["dsl"]
    ended(school["volunteer"], school.organisation)
    errors = refused.invalid(
        lambda: services.permit_internal_reshare(
            asked, actor=dsl, reasons="Needed", description="Less", signing=signing_for(dsl)
        )
    )
    assert errors == {"recipient": ["Choose a member of staff of this school"]}
    assert fresh_request(asked).status == ReshareStatus.REQUESTED


def test_an_outside_request_is_not_permitted_as_a_colleague(
    world: World, refused: Refused, asked_outside: ReshareRequest
):
    dsl = world.school["dsl"]
    errors = refused.invalid(
        lambda: services.permit_internal_reshare(
            asked_outside, actor=dsl, reasons="Needed", description="Less", signing=signing_for(dsl)
        )
    )
    assert errors == {NON_FIELD_ERRORS: ["This request is to share outside the school."]}


# --- Permitting an organisation: a decision in the log -------------------------------------


@pytest.mark.parametrize("lead", ["dsl", "deputy_dsl"])
def test_permitting_an_organisation_records_a_linked_decision(
    world: World, asked_outside: ReshareRequest, lead: str
):
    school = world.school
    actor = school[lead]
    draft = decision_draft_for(asked_outside, actor)
    decision = services.permit_external_reshare(asked_outside, actor=actor, draft=draft)
    decision = Decision.objects.get(pk=decision.pk)
    assert decision.organisation == school.organisation
    assert decision.reasons == draft.reasons
    assert decision.purpose.code == "safety-and-protection"
    assert decision.lawful_basis.code == "public-task"  # type: ignore[union-attr]
    assert decision.recipient_organisation_name == "Eastmoor CAMHS"
    assert decision.recipient_person == "Duty clinician"
    assert list(decision.people.all()) == [asked_outside.share.pupil]
    request = fresh_request(asked_outside)
    assert request.status == ReshareStatus.PERMITTED
    assert request.decision == decision
    assert (request.answered_by, request.answer_reasons) == (actor, draft.reasons)
    assert not Share.objects.filter(permitted_by_request=request).exists()
    recorded = last_event("decision.recorded")
    assert recorded.object_id == decision.reference
    permitted = last_event("safeguarding.reshare_permitted")
    assert (permitted.actor, permitted.object_id) == (actor, request.share.reference)
    assert changes_of(permitted) == {
        "request": str(request.uuid),
        "kind": "external",
        "status": "permitted",
        "decision": decision.reference,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lawful_basis": None}, "lawful_basis"),
        ({"conditions": []}, "conditions"),
        ({"checks": []}, "checks"),
        ({"method": ""}, "method"),
    ],
    ids=["no lawful basis", "no special category condition", "no checks", "no method"],
)
def test_a_draft_the_decision_log_refuses_leaves_the_request_pending(
    world: World,
    refused: Refused,
    asked_outside: ReshareRequest,
    change: dict[str, Any],
    field: str,
):
    dsl = world.school["dsl"]
    draft = decision_draft_for(asked_outside, dsl, **change)
    errors = refused.invalid(
        lambda: services.permit_external_reshare(asked_outside, actor=dsl, draft=draft)
    )
    assert field in errors
    assert fresh_request(asked_outside).status == ReshareStatus.REQUESTED
    assert fresh_request(asked_outside).decision is None


def test_a_decision_not_to_share_does_not_permit_sharing(
    world: World, refused: Refused, asked_outside: ReshareRequest
):
    dsl = world.school["dsl"]
    draft = decision_draft_for(asked_outside, dsl, outcome=Outcome.NOT_SHARED)
    errors = refused.invalid(
        lambda: services.permit_external_reshare(asked_outside, actor=dsl, draft=draft)
    )
    assert errors == {
        "outcome": [
            "Permitting is a decision to share or share in part. "
            "To say no, refuse the request instead"
        ]
    }
    assert fresh_request(asked_outside).status == ReshareStatus.REQUESTED


def test_consent_cannot_be_the_basis_when_it_was_not_asked(
    world: World, refused: Refused, asked_outside: ReshareRequest
):
    dsl = world.school["dsl"]
    draft = decision_draft_for(
        asked_outside, dsl, lawful_basis=LawfulBasis.objects.get(code="consent")
    )
    errors = refused.invalid(
        lambda: services.permit_external_reshare(asked_outside, actor=dsl, draft=draft)
    )
    assert "lawful_basis" in errors


def test_a_colleague_request_is_not_permitted_through_the_decision_log(
    world: World, refused: Refused, asked: ReshareRequest
):
    dsl = world.school["dsl"]
    errors = refused.invalid(
        lambda: services.permit_external_reshare(
            asked, actor=dsl, draft=decision_draft_for(asked, dsl, recipient_person="Nurse")
        )
    )
    assert errors == {NON_FIELD_ERRORS: ["This request is to share with a colleague."]}


def test_an_outside_request_is_permitted_once(
    world: World, refused: Refused, asked_outside: ReshareRequest
):
    school = world.school
    dsl, deputy = school["dsl"], school["deputy_dsl"]
    services.permit_external_reshare(
        asked_outside, actor=dsl, draft=decision_draft_for(asked_outside, dsl)
    )
    refused.invalid(
        lambda: services.permit_external_reshare(
            asked_outside, actor=deputy, draft=decision_draft_for(asked_outside, deputy)
        )
    )
    assert Decision.objects.count() == 1


@pytest.mark.parametrize("who", ["staff", "headteacher", "dpo", "other dsl"])
def test_only_a_dsl_permits_an_organisation(
    world: World, refused: Refused, asked_outside: ReshareRequest, who: str
):
    actor = world.other["dsl"] if who == "other dsl" else world.school[who]
    draft = decision_draft_for(asked_outside, world.school["dsl"])
    refused.forbidden(
        lambda: services.permit_external_reshare(asked_outside, actor=actor, draft=draft)
    )


# --- What a person may do, and whom a DSL may share with ---------------------------------


def test_actions_follow_the_place_and_the_status(world: World):
    school = world.school
    dsl, teacher, head = school["dsl"], school["staff"], school["headteacher"]
    share = make_share(dsl, teacher)
    assert services.actions_for(share, teacher) == services.Actions(
        acknowledge=True, read_description=True
    )
    assert services.actions_for(share, dsl) == services.Actions(
        withdraw=True, see_access=True, read_description=True
    )
    assert services.actions_for(share, head) == services.Actions()
    services.acknowledge_share(share, actor=teacher, signing=signing_for(teacher))
    share = fresh(share)
    assert services.actions_for(share, teacher) == services.Actions(
        request_reshare=True, read_description=True
    )
    assert services.actions_for(share, school["deputy_dsl"]) == services.Actions(
        withdraw=True,
        record_attached=True,
        print_form=True,
        see_access=True,
        read_description=True,
    )
    services.withdraw_share(share, actor=dsl, reason="Retracted")
    # Withdrawn: the recipient may no longer read what was shared.
    assert services.actions_for(fresh(share), teacher) == services.Actions()
    assert services.actions_for(fresh(share), world.other["dsl"]) == services.Actions()


def test_a_dsl_shares_only_with_people_who_work_in_the_school(world: World):
    school = world.school
    chosen = services.recipients_for(school.organisation, excluding=school["dsl"])
    assert {user.email for user in chosen} == {
        f"{role}@alder.test"
        for role in (
            "headteacher",
            "chair",
            "deputy_dsl",
            "information_manager",
            "staff",
            "volunteer",
        )
    }
    ended(school["volunteer"], school.organisation)
    assert school["volunteer"] not in services.recipients_for(school.organisation)
    assert school["dsl"] in services.recipients_for(school.organisation)


def test_audit_events_never_carry_the_childs_name_or_what_was_shared(
    world: World, asked: ReshareRequest, asked_outside: ReshareRequest
):
    school = world.school
    dsl = school["dsl"]
    new = services.permit_internal_reshare(
        asked,
        actor=dsl,
        reasons="Needed",
        description="Upset at lunchtimes",
        signing=signing_for(dsl),
    )
    services.permit_external_reshare(
        asked_outside, actor=dsl, draft=decision_draft_for(asked_outside, dsl)
    )
    services.note_view(new, actor=school["volunteer"])
    services.note_listed(school.organisation, actor=dsl, shares=[new, asked.share])
    services.record_attached_to_file(asked.share, actor=dsl)
    services.withdraw_share(new, actor=dsl, reason="No longer needed")
    events = AuditEvent.objects.filter(organisation=school.organisation, verb__startswith="safeg")
    assert events.count() >= 12
    for event in events:
        for share in (asked.share, asked_outside.share, new):
            assert_no_content_in(event, share)
        assert "Marsh" not in event.changes
        assert "lunchtimes" not in event.changes
