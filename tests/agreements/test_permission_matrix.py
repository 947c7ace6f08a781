"""The permission matrix of the agreements and asset registers: every role x every page.

Reading is for every member of the school; each step is for the roles that
take it (`services.actions_for`), anyone else gets 403; another school's
agreement at one's own address is 404, as if it did not exist (DESIGN.md
rules 2 and 3). tests/core/test_tenancy.py checks that every URL under
/o/<org>/ appears here or in its own matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from infoshare.agreements import lifecycle, services
from infoshare.agreements.models import Agreement, Kind
from infoshare.core.models import Organisation, OrganisationKind, Role
from infoshare.governance.models import InformationAsset
from tests.agreements import drafts

ALL_ROLES = [role.value for role in Role]
DRAFTER = "staff"  # the role of whoever drafts the matrix agreements
APPROVERS = {"headteacher", "chair"}
KEEPERS = {"dpo", "information_manager", "headteacher", "chair"}
ASSET_KEEPERS = {"dpo", "information_manager"}


def _other_party() -> Organisation:
    party, _ = Organisation.objects.get_or_create(
        slug="matrix-council",
        defaults={"name": "Matrix Council", "kind": OrganisationKind.LOCAL_AUTHORITY},
    )
    return party


def _approved(school) -> Agreement:
    return drafts.approved(
        school.organisation, school[DRAFTER], school["dpo"], school["headteacher"], _other_party()
    )


def _amended(school) -> Agreement:
    """Approved and signed, reviewed, amended and approved again: version 1 has its copy."""
    agreement = drafts.signed(_approved(school), school["dpo"])
    agreement = drafts.under_review(agreement, school["dpo"])
    lifecycle.complete_review(
        agreement,
        actor=school["dpo"],
        answers=drafts.review(outcome="amend", outcome_reasons="The portal changed."),
    )
    agreement.refresh_from_db()
    services.update_content(
        agreement, actor=school["dpo"], content=drafts.content(frequency="Monthly")
    )
    services.request_advice(agreement, actor=school["dpo"])
    services.advise_on_agreement(agreement, actor=school["dpo"], advice="Fine.")
    return services.approve_agreement(agreement, actor=school["chair"])


STAGES: dict[str, Callable[..., Agreement]] = {
    "draft": lambda s: drafts.drafted(s.organisation, s[DRAFTER], _other_party()),
    "dpa_draft": lambda s: drafts.drafted(
        s.organisation, s[DRAFTER], _other_party(), kind=Kind.DPA
    ),
    "advice_requested": lambda s: drafts.advice_requested(
        s.organisation, s[DRAFTER], _other_party()
    ),
    "advised": lambda s: drafts.advised(s.organisation, s[DRAFTER], s["dpo"], _other_party()),
    "approved": _approved,
    "signed": lambda s: drafts.signed(_approved(s), s["dpo"]),
    "under_review": lambda s: drafts.under_review(_approved(s), s["dpo"]),
    "terminated": lambda s: drafts.terminated(_approved(s), s["headteacher"]),
    "expired": lambda s: drafts.expired(
        drafts.terminated(_approved(s), s["headteacher"]), s["dpo"]
    ),
    "amended": _amended,
}

# Name -> (URL name, the stage of the agreement it opens or None, what else it names).
AGREEMENT_PAGES = {
    "register": ("register", None, ""),
    "register_csv": ("register", None, "?format=csv"),
    "register_xlsx": ("register", None, "?format=xlsx"),
    "start": ("start", None, ""),
    "detail": ("detail", "approved", ""),
    "edit": ("edit", "draft", ""),
    "add_party": ("add_party", "draft", ""),
    "remove_party": ("remove_party", "draft", "party"),
    "checklist": ("checklist", "dpa_draft", ""),
    "request_advice": ("request_advice", "draft", ""),
    "advise": ("advise", "advice_requested", ""),
    "revise": ("revise", "advised", ""),
    "approve": ("approve", "advised", ""),
    "withdraw": ("withdraw", "draft", ""),
    "signature": ("signature", "approved", "party"),
    "upload_signed_copy": ("upload_signed_copy", "approved", ""),
    "start_review": ("start_review", "approved", ""),
    "complete_review": ("complete_review", "under_review", ""),
    "terminate": ("terminate", "approved", ""),
    "data_fate": ("data_fate", "terminated", ""),
    "version": ("version", "approved", "number"),
    "document": ("document", "approved", ""),
    "signed_copy": ("signed_copy", "signed", ""),
    "version_signed_copy": ("version_signed_copy", "amended", "number"),
    "evidence": ("evidence", "expired", ""),
}
FOR_EVERY_MEMBER = {
    "register",
    "register_csv",
    "register_xlsx",
    "detail",
    "version",
    "document",
    "signed_copy",
    "version_signed_copy",
    "evidence",
}
STEP_TAKERS = {
    "start": set(ALL_ROLES) - {"auditor"},
    "edit": {DRAFTER},
    "add_party": {DRAFTER},
    "remove_party": {DRAFTER},
    "checklist": {DRAFTER},
    "request_advice": {DRAFTER},
    "advise": {"dpo"},
    "revise": {DRAFTER},
    "approve": APPROVERS,
    "withdraw": {DRAFTER} | APPROVERS,
    "signature": KEEPERS | {DRAFTER},
    "upload_signed_copy": KEEPERS | {DRAFTER},
    "start_review": KEEPERS,
    "complete_review": KEEPERS,
    "terminate": APPROVERS,
    "data_fate": KEEPERS,
}


def matrix_agreement(school, stage: str) -> Agreement:
    """The school's agreement at `stage`, made the first time a test asks for it."""
    made: dict[str, Agreement] = school.__dict__.setdefault("_matrix_agreements", {})
    if stage not in made:
        made[stage] = STAGES[stage](school)
    return made[stage]


def agreement_path(school, name: str, stage: str | None = None) -> str:
    url_name, own_stage, extra = AGREEMENT_PAGES[name]
    stage = stage or own_stage
    kwargs: dict[str, object] = {"org": school.slug}
    suffix = extra if extra.startswith("?") else ""
    if stage is not None:
        agreement = matrix_agreement(school, stage)
        kwargs["reference"] = agreement.reference
        if extra == "party":
            kwargs["party"] = agreement.parties.exclude(organisation=school.organisation).get().uuid
        if extra == "number":
            kwargs["number"] = 1
    return reverse(f"agreements:{url_name}", kwargs=kwargs) + suffix


def agreement_status(name: str, role: str) -> int:
    if name in FOR_EVERY_MEMBER:
        return 200
    return 200 if role in STEP_TAKERS[name] else 403


def test_every_agreement_page_has_an_expected_status():
    assert set(AGREEMENT_PAGES) == FOR_EVERY_MEMBER | set(STEP_TAKERS)


@pytest.fixture
def _no_pdf_rendering(monkeypatch):
    """The matrix asks who may download the document, not what it says
    (tests/agreements/test_documents.py reads it)."""
    monkeypatch.setattr(
        "infoshare.agreements.views.documents.render_pdf", lambda *args, **kwargs: b"%PDF-1.7"
    )


@pytest.mark.usefixtures("_no_pdf_rendering")
@pytest.mark.parametrize("name", list(AGREEMENT_PAGES))
def test_agreement_permission_matrix(world, client_for, name):
    path = agreement_path(world.school, name)
    for role in ALL_ROLES:
        response = client_for(world.school[role]).get(path)
        assert response.status_code == agreement_status(name, role), (role, name, path)


@pytest.mark.usefixtures("_no_pdf_rendering")
@pytest.mark.parametrize("name", list(AGREEMENT_PAGES))
def test_another_schools_agreement_at_ones_own_address_is_404(world, client_for, name):
    if AGREEMENT_PAGES[name][1] is None:
        return  # a page of the school, not of one agreement: nothing foreign to name
    foreign = agreement_path(world.other, name)
    own_address = foreign.replace(f"/o/{world.other.slug}/", f"/o/{world.school.slug}/", 1)
    for role in ALL_ROLES:
        if agreement_status(name, role) != 200:
            continue  # the page's 403 comes first, and tells nothing about what exists
        response = client_for(world.school[role]).get(own_address)
        assert response.status_code == 404, (role, own_address)


# A step whose taker comes at the wrong moment: (page, role, the stage it is opened at).
OUT_OF_ORDER = [
    ("edit", DRAFTER, "advised"),
    ("request_advice", DRAFTER, "approved"),
    ("advise", "dpo", "draft"),
    ("revise", DRAFTER, "draft"),
    ("approve", "headteacher", "advice_requested"),
    ("withdraw", "chair", "approved"),
    ("signature", "dpo", "draft"),
    ("start_review", "information_manager", "under_review"),
    ("complete_review", "dpo", "approved"),
    ("terminate", "chair", "draft"),
    ("data_fate", "dpo", "approved"),
]


@pytest.mark.parametrize(("name", "role", "stage"), OUT_OF_ORDER)
def test_a_step_out_of_order_goes_back_to_the_agreement(world, client_for, name, role, stage):
    path = agreement_path(world.school, name, stage)
    response = client_for(world.school[role]).get(path)
    assert response.status_code == 302, (name, role, stage)
    assert response["Location"].startswith(f"/o/{world.school.slug}/agreements/")
    assert response["Location"].endswith("/")


def test_the_drafter_may_not_approve_what_they_drafted(world, client_for):
    """A headteacher who drafted an agreement is refused its approval; the chair is not."""
    school = world.school
    agreement = drafts.advised(
        school.organisation, school["headteacher"], school["dpo"], _other_party()
    )
    path = reverse(
        "agreements:approve", kwargs={"org": school.slug, "reference": agreement.reference}
    )
    assert client_for(school["headteacher"]).get(path).status_code == 403
    assert client_for(school["chair"]).get(path).status_code == 200


# --- The information asset register --------------------------------------------------


def matrix_asset(school) -> InformationAsset:
    existing = InformationAsset.objects.filter(organisation=school.organisation).first()
    return existing or InformationAsset.objects.create(
        organisation=school.organisation,
        name="Pupil records in the MIS",
        owner="Business manager",
        system_or_location="MIS",
        retention_period="Date of birth + 25 years",
        created_by=school["dpo"],
    )


ASSET_PAGES = {
    "assets": ("assets", False, ""),
    "assets_csv": ("assets", False, "?format=csv"),
    "assets_xlsx": ("assets", False, "?format=xlsx"),
    "add_asset": ("add_asset", False, ""),
    "asset": ("asset", True, ""),
    "edit_asset": ("edit_asset", True, ""),
    "retire_asset": ("retire_asset", True, ""),
}
ASSETS_FOR_EVERY_MEMBER = {"assets", "assets_csv", "assets_xlsx", "asset"}


def asset_path(school, name: str) -> str:
    url_name, names_asset, suffix = ASSET_PAGES[name]
    kwargs: dict[str, object] = {"org": school.slug}
    if names_asset:
        kwargs["asset"] = matrix_asset(school).uuid
    return reverse(f"governance:{url_name}", kwargs=kwargs) + suffix


def asset_status(name: str, role: str) -> int:
    if name in ASSETS_FOR_EVERY_MEMBER or role in ASSET_KEEPERS:
        return 200
    return 403


@pytest.mark.parametrize("name", list(ASSET_PAGES))
def test_asset_permission_matrix(world, client_for, name):
    path = asset_path(world.school, name)
    for role in ALL_ROLES:
        response = client_for(world.school[role]).get(path)
        assert response.status_code == asset_status(name, role), (role, name, path)


@pytest.mark.parametrize("name", [name for name, page in ASSET_PAGES.items() if page[1]])
def test_another_schools_asset_at_ones_own_address_is_404(world, client_for, name):
    foreign = asset_path(world.other, name)
    own_address = foreign.replace(f"/o/{world.other.slug}/", f"/o/{world.school.slug}/", 1)
    for role in ALL_ROLES:
        if asset_status(name, role) == 200:
            assert client_for(world.school[role]).get(own_address).status_code == 404, role


def register_urls(school) -> list[tuple[str, str, str]]:
    """(name, method, path) of every agreement and asset page, for tests/core/test_tenancy.py."""
    agreement_pages = [(name, "get", agreement_path(school, name)) for name in AGREEMENT_PAGES]
    asset_pages = [(name, "get", asset_path(school, name)) for name in ASSET_PAGES]
    return agreement_pages + asset_pages
