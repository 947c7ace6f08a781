"""The information asset register's pages: the list with its filters and exports, an
asset's page with the agreements and processors that touch it, and adding, changing
and retiring an asset (DPO or information manager only)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import fastexcel
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.agreements import services as agreement_services
from infoshare.agreements.models import Kind
from infoshare.audit.models import AuditEvent
from infoshare.core.models import DataCategory, LawfulBasis, Organisation, OrganisationKind, Role
from infoshare.governance import services
from infoshare.governance.models import InformationAsset
from infoshare.governance.services import AssetAnswers
from tests.agreements import drafts
from tests.core.support import changes_of, last_event

pytestmark = pytest.mark.django_db

KEEPERS = {Role.DPO, Role.INFORMATION_MANAGER}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url(name: str, slug: str = "alder", asset: InformationAsset | None = None, **query: str) -> str:
    kwargs: dict[str, Any] = {"org": slug}
    if asset is not None:
        kwargs["asset"] = asset.uuid
    address = reverse(f"governance:{name}", kwargs=kwargs)
    if query:
        address += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return address


def text(response: Any) -> str:
    return response.content.decode()


def table_rows(response: Any) -> list[str]:
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', text(response), re.S)
    if body is None:
        return []
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', body.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def names(response: Any) -> set[str]:
    html = text(response)
    return set(re.findall(r'<a class="govuk-link" href="/o/[^/]+/assets/[^"]+/">([^<]+)</a>', html))


def add(school, name: str, *, categories: tuple[str, ...] = (), **changes: Any):
    chosen = list(DataCategory.objects.filter(code__in=categories))
    answers = AssetAnswers(
        name=name,
        owner=changes.pop("owner", "Business manager"),
        system_or_location=changes.pop("system_or_location", "MIS"),
        retention_period=changes.pop("retention_period", "Date of birth + 25 years"),
        categories=chosen,
        special_category=changes.pop("special_category", any(c.is_special for c in chosen)),
        lawful_basis=changes.pop("lawful_basis", LawfulBasis.objects.get(code="public-task")),
        **changes,
    )
    return services.create_asset(school.organisation, actor=school["dpo"], answers=answers)


@pytest.fixture
def assets(world) -> dict[str, InformationAsset]:
    school = world.school
    made = {
        "mis": add(
            school, "Pupil records in the MIS", categories=("identity-contact", "education")
        ),
        "safeguarding": add(
            school,
            "Safeguarding records",
            categories=("safeguarding",),
            lawful_basis=LawfulBasis.objects.get(code="legal-obligation"),
            owner="Designated safeguarding lead",
        ),
        "hr": add(
            school,
            "Staff HR files",
            lawful_basis=LawfulBasis.objects.get(code="contract"),
            system_or_location="Locked cabinet, main office",
        ),
        "birch": add(world.other, "Birch pupil records"),
    }
    made["old"] = services.retire_asset(
        add(school, "Old paper registers"), actor=school["dpo"], reasons="Shredded in 2024."
    )
    return made


# --- The list ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_reads_the_register(world, client_for, assets, role):
    response = client_for(world.school[role]).get(url("assets"))
    assert response.status_code == 200
    assert names(response) == {
        "Pupil records in the MIS",
        "Safeguarding records",
        "Staff HR files",
    }
    html = text(response)
    add_link = url("add_asset")
    assert (f'href="{add_link}"' in html) == (role in KEEPERS)


@pytest.mark.parametrize("role", list(Role))
def test_another_schools_members_get_not_found(world, client_for, role):
    for query in ({}, {"format": "csv"}):
        assert client_for(world.other[role]).get(url("assets", **query)).status_code == 404


def test_a_row_shows_owner_place_categories_basis_retention_and_agreements(
    world, client_for, assets
):
    school = world.school
    drafts.drafted(
        school.organisation,
        school["staff"],
        world.local_authority,
        title="Safeguarding referrals",
        assets=[assets["safeguarding"]],
    )
    drafts.approved(
        school.organisation,
        school["staff"],
        school["dpo"],
        school["headteacher"],
        world.local_authority,
        title="Child protection conferences",
        assets=[assets["safeguarding"]],
    )
    processor = Organisation.objects.create(
        name="Kestrel School Software Ltd", slug="kestrel", kind=OrganisationKind.EXTERNAL
    )
    drafts.drafted(
        school.organisation, school["staff"], processor, kind=Kind.DPA, assets=[assets["mis"]]
    )
    response = client_for(school["staff"]).get(url("assets"))
    row = next(row for row in table_rows(response) if row.startswith("Safeguarding records"))
    assert "Designated safeguarding lead" in row
    assert "MIS" in row
    assert "Safeguarding and social care" in row
    assert "Special category" in row
    assert "6(1)(c): Legal obligation" in row
    assert "Date of birth + 25 years" in row
    assert "2 agreements concerning Safeguarding records , 1 in force" in row
    # The count links to the agreements register, filtered to the asset.
    register = reverse("agreements:register", kwargs={"org": "alder"})
    assert f'href="{register}?asset={assets["safeguarding"].uuid}"' in text(response)
    assert "Processors" not in row
    mis = next(row for row in table_rows(response) if row.startswith("Pupil records"))
    assert "Special category" not in mis
    assert "1 agreement concerning" in mis
    assert "Processors: Kestrel School Software Ltd" in mis
    hr = next(row for row in table_rows(response) if row.startswith("Staff HR files"))
    assert "No agreements" in hr


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"special": "yes"}, {"Safeguarding records"}),
        ({"special": "no"}, {"Pupil records in the MIS", "Staff HR files"}),
        ({"lawful_basis": "contract"}, {"Staff HR files"}),
        ({"retired": "retired"}, {"Old paper registers"}),
        (
            {"retired": "all"},
            {
                "Pupil records in the MIS",
                "Safeguarding records",
                "Staff HR files",
                "Old paper registers",
            },
        ),
        ({"q": "CABINET"}, {"Staff HR files"}),
        ({"q": "safeguarding+lead"}, {"Safeguarding records"}),
        ({"q": "paper"}, set()),  # retired assets are found only when asked for
        ({"q": "paper", "retired": "all"}, {"Old paper registers"}),
    ],
)
def test_the_filters_and_search(world, client_for, assets, query, expected):
    assert names(client_for(world.school["staff"]).get(url("assets", **query))) == expected


def test_a_retired_asset_is_tagged_in_the_list(world, client_for, assets):
    response = client_for(world.school["staff"]).get(url("assets", retired="all"))
    row = next(row for row in table_rows(response) if row.startswith("Old paper registers"))
    assert "Retired" in row


def test_nothing_found_says_so(world, client_for, assets):
    html = text(client_for(world.school["staff"]).get(url("assets", q="nothing-like-this")))
    assert "No information assets match these filters" in html
    assert "Clear filters" in html


def test_an_empty_register_says_who_adds_to_it(world, client_for):
    html = text(client_for(world.school["dpo"]).get(url("assets")))
    assert "No information assets yet" in html
    assert "add an information asset" in html


def test_a_bad_filter_is_shown_beside_it_and_the_current_register_stays(world, client_for, assets):
    response = client_for(world.school["staff"]).get(url("assets", lawful_basis="whim"))
    html = text(response)
    assert re.search(r'id="id_lawful_basis_error"[^>]*>.*?Select a lawful basis', html, re.S)
    assert len(names(response)) == 3


def test_the_number_of_queries_does_not_grow_with_the_rows(
    world, client_for, django_assert_max_num_queries
):
    school = world.school
    client = client_for(school["dpo"])
    processor = Organisation.objects.create(
        name="Larkspur Catering Ltd", slug="larkspur", kind=OrganisationKind.EXTERNAL
    )

    def make(count: int, start: int) -> None:
        for number in range(start, start + count):
            asset = add(school, f"Asset {number}", categories=("identity-contact", "health"))
            kind = Kind.DPA if number % 2 else Kind.AGREEMENT
            party = processor if kind == Kind.DPA else world.local_authority
            drafts.drafted(
                school.organisation, school["staff"], party, kind=kind, assets=[asset], title="x"
            )

    def queries(address: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(address).status_code == 200
        return len(captured)

    make(2, 0)
    addresses = [url("assets"), url("assets", special="yes", lawful_basis="public-task", q="asset")]
    few = {address: queries(address) for address in addresses}
    make(30, 2)
    assert queries(addresses[0]) == few[addresses[0]]
    for address in addresses:
        with django_assert_max_num_queries(few[address]):
            assert client.get(address).status_code == 200


# --- Exports ----------------------------------------------------------------------------


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_holds_the_filtered_assets_with_their_agreements_and_processors(
    world, client_for, assets
):
    school = world.school
    processor = Organisation.objects.create(
        name="Larkspur Catering Ltd", slug="larkspur", kind=OrganisationKind.EXTERNAL
    )
    dpa = drafts.drafted(
        school.organisation, school["staff"], processor, kind=Kind.DPA, assets=[assets["hr"]]
    )
    response = client_for(school["auditor"]).get(url("assets", format="csv", special="no"))
    assert response["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="information-assets-alder-\d{4}-\d{2}-\d{2}\.csv"',
        response["Content-Disposition"],
    )
    rows = {row["Name"]: row for row in csv_rows(response)}
    assert set(rows) == {"Pupil records in the MIS", "Staff HR files"}
    hr = rows["Staff HR files"]
    assert hr["System or location"] == "Locked cabinet, main office"
    assert hr["Lawful basis"] == "6(1)(b): Contract"
    assert hr["Special category"] == "No"
    assert hr["Agreements"] == dpa.reference
    assert hr["Processors"] == "Larkspur Catering Ltd"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", hr["Added on"])
    assert hr["Retired on"] == ""
    event = last_event("information_assets.exported")
    assert event.actor == school["auditor"]
    assert event.object_label == "Information asset register"
    assert changes_of(event) == {
        "format": "csv",
        "rows": 2,
        "filters": {"retired": "current", "special": "no"},
    }


def test_the_exports_defuse_formulas_in_the_csv_and_keep_text_in_the_xlsx(world, client_for):
    add(world.school, '=HYPERLINK("http://evil.example")', owner="@SUM(A1)")
    client = client_for(world.school["staff"])
    (row,) = csv_rows(client.get(url("assets", format="csv")))
    assert row["Name"] == '\'=HYPERLINK("http://evil.example")'
    assert row["Owner"] == "'@SUM(A1)"
    # Unfiltered, the export is the current register, and says so.
    assert changes_of(last_event("information_assets.exported"))["filters"] == {
        "retired": "current"
    }
    response = client.get(url("assets", format="xlsx", q="hyperlink"))
    assert response["Content-Type"] == XLSX_TYPE
    content = b"".join(response.streaming_content)
    (sheet_row,) = fastexcel.read_excel(content).load_sheet(0).to_polars().to_dicts()
    assert sheet_row["Name"] == '=HYPERLINK("http://evil.example")'
    assert sheet_row["Owner"] == "@SUM(A1)"
    assert fastexcel.read_excel(content).sheet_names == ["Information assets"]
    event = last_event("information_assets.exported")
    assert changes_of(event)["filters"] == {"retired": "current", "search": "words withheld"}
    assert "hyperlink" not in event.changes.lower()


def test_an_export_with_a_bad_filter_is_the_page_with_the_error(world, client_for, assets):
    response = client_for(world.school["staff"]).get(url("assets", special="maybe", format="csv"))
    assert not response.streaming
    assert "Select an answer from the list" in text(response)
    assert not AuditEvent.objects.filter(verb="information_assets.exported").exists()


# --- One asset --------------------------------------------------------------------------


def test_an_asset_page_shows_every_field_its_agreements_and_processors(world, client_for, assets):
    school = world.school
    asset = assets["safeguarding"]
    processor = Organisation.objects.create(
        name="Kestrel School Software Ltd", slug="kestrel", kind=OrganisationKind.EXTERNAL
    )
    isa = drafts.approved(
        school.organisation,
        school["staff"],
        school["dpo"],
        school["headteacher"],
        world.local_authority,
        title="Referrals to children's social care",
        assets=[asset],
    )
    dpa = drafts.drafted(
        school.organisation,
        school["staff"],
        processor,
        kind=Kind.DPA,
        title="Safeguarding software",
        assets=[asset],
    )
    response = client_for(school["volunteer"]).get(url("asset", asset=asset))
    assert response.status_code == 200
    html = text(response)
    assert re.search(r"<h1[^>]*>Safeguarding records</h1>", html)
    for shown in (
        "Designated safeguarding lead",
        "Safeguarding and social care",
        "6(1)(c): Legal obligation",
        "Date of birth + 25 years",
        "Referrals to children&#x27;s social care",
        "Safeguarding software",
        "Kestrel School Software Ltd",
    ):
        assert shown in html
    assert 'class="govuk-tag govuk-tag--green">Active' in html
    assert 'class="govuk-tag govuk-tag--grey">Draft' in html
    assert f'href="{isa.get_absolute_url()}"' in html
    assert f'href="{dpa.get_absolute_url()}"' in html
    # The school and the council are controllers, not processors.
    processors = html[html.index('id="processors"') :]
    assert "Eastmoor Council" not in processors
    assert "Change the details" not in html  # a volunteer reads only


def test_a_withdrawn_dpas_processor_no_longer_touches_the_asset(world, client_for, assets):
    school = world.school
    processor = Organisation.objects.create(
        name="Kestrel School Software Ltd", slug="kestrel", kind=OrganisationKind.EXTERNAL
    )
    dpa = drafts.drafted(
        school.organisation, school["staff"], processor, kind=Kind.DPA, assets=[assets["mis"]]
    )
    agreement_services.withdraw_agreement(dpa, actor=school["staff"], reasons="Not needed.")
    html = text(client_for(school["staff"]).get(url("asset", asset=assets["mis"])))
    assert dpa.reference in html  # still an agreement that named it
    assert "No processor handles this asset" in html


@pytest.mark.parametrize("role", sorted(KEEPERS))
def test_keepers_are_offered_to_change_and_retire(world, client_for, assets, role):
    html = text(client_for(world.school[role]).get(url("asset", asset=assets["mis"])))
    assert f'href="{url("edit_asset", asset=assets["mis"])}"' in html
    assert f'href="{url("retire_asset", asset=assets["mis"])}"' in html


def test_a_retired_asset_shows_when_and_why_and_offers_no_change(world, client_for, assets):
    html = text(client_for(world.school["dpo"]).get(url("asset", asset=assets["old"])))
    assert "Retired on" in html
    assert "Shredded in 2024." in html
    assert "Change the details" not in html
    assert "Retire this asset" not in html


def test_another_schools_asset_is_not_found(world, client_for, assets):
    foreign = assets["birch"]
    for name in ("asset", "edit_asset", "retire_asset"):
        response = client_for(world.school["dpo"]).get(url(name, asset=foreign))
        assert response.status_code == 404, name


# --- Adding, changing, retiring ----------------------------------------------------------


def form_data(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Catering and cashless payments",
        "description": "Meal choices and fingerprint templates.",
        "owner": "Business manager",
        "system_or_location": "Cashless catering system",
        "categories": [str(c.pk) for c in DataCategory.objects.filter(code="biometric")],
        "special_category": "yes",
        "lawful_basis": str(LawfulBasis.objects.get(code="public-task").pk),
        "retention_period": "While on roll",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", list(Role))
def test_only_keepers_open_the_add_page(world, client_for, role):
    response = client_for(world.school[role]).get(url("add_asset"))
    assert response.status_code == (200 if role in KEEPERS else 403)


def test_adding_an_asset(world, client_for):
    client = client_for(world.school["information_manager"])
    response = client.post(url("add_asset"), form_data())
    asset = InformationAsset.objects.get()
    assert response.status_code == 302
    assert response["Location"] == asset.get_absolute_url()
    assert asset.special_category
    assert [c.code for c in asset.categories.all()] == ["biometric"]
    page = client.get(response["Location"])
    assert "Catering and cashless payments is on the information asset register." in text(page)
    assert last_event("information_asset.created").actor == world.school["information_manager"]


def test_a_staff_member_cannot_post_an_asset(world, client_for):
    response = client_for(world.school["staff"]).post(url("add_asset"), form_data())
    assert response.status_code == 403
    assert not InformationAsset.objects.exists()


def test_bad_input_is_shown_beside_the_field_and_nothing_typed_is_lost(world, client_for):
    response = client_for(world.school["dpo"]).post(
        url("add_asset"), form_data(special_category="no", owner="")
    )
    html = text(response)
    assert response.status_code == 200
    assert re.search(r'id="id_owner_error"[^>]*>.*?Enter who owns the asset', html, re.S)
    assert not InformationAsset.objects.exists()
    # The typed answers are still there to correct.
    assert 'value="Catering and cashless payments"' in html
    assert 'value="Cashless catering system"' in html
    assert "Meal choices and fingerprint templates." in html


def test_a_service_refusal_is_shown_beside_its_field(world, client_for):
    response = client_for(world.school["dpo"]).post(
        url("add_asset"), form_data(special_category="no")
    )
    html = text(response)
    assert re.search(
        r'id="id_special_category_error"[^>]*>.*?Biometric .*? is special category data',
        html,
        re.S,
    )
    assert 'href="#id_special_category_0"' in html  # the error summary links to the radios
    assert not InformationAsset.objects.exists()


def test_changing_an_asset(world, client_for, assets):
    asset = assets["hr"]
    client = client_for(world.school["dpo"])
    page = text(client.get(url("edit_asset", asset=asset)))
    assert 'value="Staff HR files"' in page  # the form starts from what is recorded
    response = client.post(
        url("edit_asset", asset=asset),
        form_data(name="Staff HR files", categories=[], special_category="no", owner="Head"),
    )
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.owner == "Head"
    assert "owner" in changes_of(last_event("information_asset.changed"))["fields"]


@pytest.mark.parametrize("role", sorted(set(Role) - KEEPERS))
def test_other_roles_cannot_change_or_retire(world, client_for, assets, role):
    client = client_for(world.school[role])
    asset = assets["mis"]
    assert client.post(url("edit_asset", asset=asset), form_data()).status_code == 403
    assert client.post(url("retire_asset", asset=asset), {"reasons": "x"}).status_code == 403
    asset.refresh_from_db()
    assert asset.name == "Pupil records in the MIS"
    assert not asset.is_retired


def test_retiring_an_asset_keeps_it(world, client_for, assets):
    asset = assets["mis"]
    client = client_for(world.school["information_manager"])
    assert "Retire this information asset" in text(client.get(url("retire_asset", asset=asset)))
    response = client.post(url("retire_asset", asset=asset), {"reasons": "Moved to a new MIS."})
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.is_retired
    assert asset.retired_reasons == "Moved to a new MIS."
    page = text(client.get(response["Location"]))
    assert "is retired. It is kept on the register, with your reason." in page
    assert "Moved to a new MIS." in page


def test_retiring_without_a_reason_is_refused_beside_the_field(world, client_for, assets):
    response = client_for(world.school["dpo"]).post(
        url("retire_asset", asset=assets["mis"]), {"reasons": ""}
    )
    assert re.search(r'id="id_reasons_error"[^>]*>.*?Explain why', text(response), re.S)
    assets["mis"].refresh_from_db()
    assert not assets["mis"].is_retired


@pytest.mark.parametrize("name", ["edit_asset", "retire_asset"])
def test_a_retired_asset_sends_back_to_its_page_with_a_message(world, client_for, assets, name):
    client = client_for(world.school["dpo"])
    response = client.get(url(name, asset=assets["old"]))
    assert response.status_code == 302
    assert response["Location"] == assets["old"].get_absolute_url()
    assert "retired" in text(client.get(response["Location"]))
