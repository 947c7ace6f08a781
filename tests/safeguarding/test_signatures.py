"""The two signatures of the Appendix B form: what each one signs, and that a change shows.

A signature keeps a SHA-256 of the declaration's words and of the record as
it stood (the pupil, the file, the description, who shared it with whom),
with who signed, the name they typed and when. The hash is recomputed here
from those fields, independently of the model's own function.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from django.db.models import F

from infoshare.safeguarding import services
from infoshare.safeguarding.models import (
    DECLARATIONS,
    DSL_DECLARATION,
    RECIPIENT_DECLARATION,
    Part,
    Share,
    Signature,
)
from tests.conftest import give_totp
from tests.safeguarding.support import make_pupil, make_share

if TYPE_CHECKING:
    from tests.conftest import World

pytestmark = pytest.mark.django_db

# The declarations as policy Appendix B words them (../shared/policy, the recording form).
FORM_WORDS = {
    Part.DSL: (
        "I am sharing this information with the colleague specified below in order to "
        "effectively discharge our statutory responsibility to safeguard and promote the "
        "welfare of children and young people in our care."
    ),
    Part.RECIPIENT: (
        "I receive this information in the knowledge that I am unable to share this "
        "further, without the expressed permission of the Designated Safeguarding Lead. "
        "I acknowledge that this information is privileged and is shared with me with the "
        "intention of ensuring children are protected from harm and that their safety and "
        "welfare is promoted."
    ),
}


def recomputed(signature: Signature, *, words: str | None = None) -> str:
    """The hash of what `signature` declares, computed from its documented fields."""
    share = signature.share
    declared: dict[str, Any] = {
        "declaration": FORM_WORDS[Part(signature.part)] if words is None else words,
        "part": signature.part,
        "organisation": share.organisation.slug,
        "reference": share.reference,
        "pupil": str(share.pupil.uuid),
        "file_kind": share.file_kind,
        "file_reference": share.file_reference,
        "description": share.description,
        "shared_by": str(share.shared_by.uuid),
        "recipient": str(share.recipient.uuid),
        "signer": str(signature.signer.uuid),
        "name": signature.name,
        "signed_at": signature.signed_at.astimezone(datetime.UTC).isoformat(),
    }
    return hashlib.sha256(orjson.dumps(declared, option=orjson.OPT_SORT_KEYS)).hexdigest()


def signed(share: Share, part: str) -> Signature:
    """The signature as stored, read afresh (with a fresh record behind it)."""
    return Signature.objects.select_related("share").get(share_id=share.pk, part=part)


@pytest.fixture
def complete(world: World) -> Share:
    school = world.school
    return make_share(school["dsl"], school["staff"], acknowledged=True)


def test_the_declarations_are_the_forms_words():
    assert FORM_WORDS[Part.DSL] == DSL_DECLARATION
    assert FORM_WORDS[Part.RECIPIENT] == RECIPIENT_DECLARATION
    assert DECLARATIONS == FORM_WORDS


@pytest.mark.parametrize("part", [Part.DSL, Part.RECIPIENT])
def test_each_signature_hashes_the_declaration_and_the_record(
    world: World, complete: Share, part: str
):
    signature = signed(complete, part)
    assert len(signature.declaration_hash) == 64
    assert signature.declaration_hash == recomputed(signature)
    assert signature.is_intact
    signer = world.school["dsl"] if part == Part.DSL else world.school["staff"]
    assert signature.signer == signer
    assert signature.name == signer.name


def test_the_hash_covers_the_words_declared(complete: Share):
    dsl, recipient = signed(complete, Part.DSL), signed(complete, Part.RECIPIENT)
    assert dsl.declaration_hash != recipient.declaration_hash
    # The same signature with the other declaration's words would not match.
    assert dsl.declaration_hash != recomputed(dsl, words=RECIPIENT_DECLARATION)
    assert recipient.declaration_hash != recomputed(recipient, words=DSL_DECLARATION)
    assert dsl.declaration_hash != recomputed(dsl, words=DSL_DECLARATION + " ")


def _change_pupil(world: World, signature: Signature) -> None:
    signature.share.pupil = make_pupil(world.school.organisation, "Robin", "Marsh")


def _change_recipient(world: World, signature: Signature) -> None:
    signature.share.recipient = world.school["volunteer"]


def _change_time(world: World, signature: Signature) -> None:
    signature.signed_at += datetime.timedelta(seconds=1)


# Each: a change to the record or the signature, made to the objects in memory.
CHANGES = {
    "description": lambda w, s: setattr(s.share, "description", s.share.description + "."),
    "file reference": lambda w, s: setattr(s.share, "file_reference", "CP-0194"),
    "file kind": lambda w, s: setattr(s.share, "file_kind", "child_in_need"),
    "pupil": _change_pupil,
    "recipient": _change_recipient,
    "shared by": lambda w, s: setattr(s.share, "shared_by", w.school["deputy_dsl"]),
    "reference": lambda w, s: setattr(s.share, "reference", "SG-1999-0001"),
    "signed name": lambda w, s: setattr(s, "name", s.name + "e"),
    "signer": lambda w, s: setattr(s, "signer", w.school["headteacher"]),
    "time": _change_time,
}


@pytest.mark.parametrize("part", [Part.DSL, Part.RECIPIENT])
@pytest.mark.parametrize("change", CHANGES)
def test_any_change_breaks_the_signature(world: World, complete: Share, change: str, part: str):
    signature = signed(complete, part)
    assert signature.is_intact
    CHANGES[change](world, signature)
    assert not signature.is_intact


# Each: a change written to the database behind the application's back.
STORED_CHANGES = {
    "description": lambda w, share: Share.objects.filter(pk=share.pk).update(
        description="Nothing of concern"
    ),
    "pupil": lambda w, share: Share.objects.filter(pk=share.pk).update(
        pupil=make_pupil(w.school.organisation, "Robin", "Marsh")
    ),
    "recipient": lambda w, share: Share.objects.filter(pk=share.pk).update(
        recipient=w.school["volunteer"]
    ),
    "signed name": lambda w, share: Signature.objects.filter(share=share).update(
        name="Somebody Else"
    ),
    "time": lambda w, share: Signature.objects.filter(share=share).update(
        signed_at=F("signed_at") - datetime.timedelta(days=1)
    ),
}


@pytest.mark.parametrize("change", STORED_CHANGES)
def test_a_stored_change_shows_on_both_signatures(world: World, complete: Share, change: str):
    STORED_CHANGES[change](world, complete)
    assert not signed(complete, Part.DSL).is_intact
    assert not signed(complete, Part.RECIPIENT).is_intact


def test_withdrawing_and_filing_keep_the_signatures_intact(world: World, complete: Share):
    dsl = world.school["dsl"]
    services.record_attached_to_file(complete, actor=dsl)
    services.withdraw_share(complete, actor=dsl, reason="The disclosure was retracted")
    assert signed(complete, Part.DSL).is_intact
    assert signed(complete, Part.RECIPIENT).is_intact


def test_a_signature_records_how_the_signer_proved_it_was_them(world: World):
    school = world.school
    by_password = make_share(school["dsl"], school["staff"], acknowledged=True)
    give_totp(school["volunteer"])
    by_code = make_share(school["deputy_dsl"], school["volunteer"], acknowledged=True)
    assert signed(by_password, Part.DSL).confirmed_with == "authenticator"
    assert signed(by_password, Part.RECIPIENT).confirmed_with == "password"
    assert signed(by_code, Part.DSL).confirmed_with == "authenticator"
    assert signed(by_code, Part.RECIPIENT).confirmed_with == "authenticator"


def test_one_signature_per_part(complete: Share):
    assert sorted(complete.signatures.values_list("part", flat=True)) == ["dsl", "recipient"]
    assert complete.signature_of(Part.DSL).signer == complete.shared_by  # type: ignore[union-attr]
    assert complete.signature_of(Part.RECIPIENT).signer == complete.recipient  # type: ignore[union-attr]
