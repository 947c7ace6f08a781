"""The decision log: search, filter, sort and page through decisions, and export them.

HTTP glue only. What a viewer may see is `Decision.objects.for_user`; the
filters (decisions/filters.py) only narrow it. Exports hold every matching
decision, not one page, and leave an audit event naming the filters used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import cached_property

from infoshare.core.exports import (
    EXPORT_FORMATS,
    Column,
    export_response,
)
from infoshare.core.models import Person
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.decisions import services
from infoshare.decisions.filters import SORT_OPTIONS, DecisionFilterForm, recipient_names
from infoshare.decisions.models import Decision
from infoshare.decisions.rules import can_record_decision, can_view_decisions

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.core.paginator import Page
    from django.db.models import QuerySet

    from infoshare.decisions.models import DecisionQuerySet

PAGE_SIZE = 25
# A decision about a whole class names thirty people: the list shows the first few.
PEOPLE_SHOWN = 3


@organisation_view(can_view_decisions)
def decision_list(request: OrganisationRequest) -> HttpResponseBase:
    visible = Decision.objects.for_user(request.user, request.organisation)
    form = DecisionFilterForm(request.GET or None, organisation=request.organisation)
    export_format = request.GET.get("format")
    # A list narrowed by filters that did not apply would export the wrong rows.
    if export_format in EXPORTERS and (not form.is_bound or form.is_valid()):
        return export_decisions(request, form, visible, export_format)
    matching = form.matching(visible)
    page = CountedPaginator(
        form.listed(matching)
        .select_related("purpose", "recipient_organisation", "review")
        .prefetch_related(Prefetch("people", queryset=_people_names()), corrections()),
        PAGE_SIZE,
        count=form.count(matching),
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "decisions/decision_list.html",
        {
            "form": form,
            "page": page,
            "numbers": shown_numbers(page),
            "rows": [list_row(decision) for decision in page.object_list],
            "filtering": form.is_filtering,
            "person": form.chosen_person,
            "recipient_names": recipient_names(visible),
            "sorting": sort_headers(form.sort),
            "may_record": can_record_decision(request.user, request.organisation),
        },
    )


class CountedPaginator(Paginator):
    """A paginator told how many items there are, counted in a cheaper way than
    COUNT(*) of the list itself (see DecisionFilterForm.count)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _people_names() -> QuerySet[Person]:
    return Person.objects.only("uuid", "given_name", "family_name")


def corrections() -> Prefetch[Any]:
    """The correction of each decision, if any, by its reference, in one query per page.

    A prefetch rather than a join: joined, SQLite builds a throwaway index of
    the whole log on every request to find the few corrections.
    """
    return Prefetch("superseded_by", queryset=Decision.objects.only("reference", "supersedes"))


def shown_numbers(page: Page[Decision]) -> dict[str, str]:
    """The page's first and last positions and the total, as 1,250 rather than 1250."""
    return {
        "first": f"{page.start_index():,}",
        "last": f"{page.end_index():,}",
        "count": f"{page.paginator.count:,}",
    }


def list_row(decision: Decision) -> dict[str, Any]:
    people = list(decision.people.all())
    corrected_by = corrected_by_of(decision)
    return {
        "decision": decision,
        "people": people[:PEOPLE_SHOWN],
        "more_people": max(len(people) - PEOPLE_SHOWN, 0),
        "corrected_by": corrected_by,
        "awaiting_review": corrected_by is None and awaiting_review(decision),
    }


def corrected_by_of(decision: Decision) -> Decision | None:
    """The correction that superseded `decision`, from the prefetch cache."""
    return getattr(decision, "superseded_by", None)


def awaiting_review(decision: Decision) -> bool:
    """A one-off or emergency share the DPO has not reviewed yet."""
    return decision.needs_review and getattr(decision, "review", None) is None


def sort_headers(current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the `?sort=` its header link asks for, and its aria-sort."""
    headers = {}
    for key, option in SORT_OPTIONS.items():
        if current.lstrip("-") == key:
            direction = "descending" if current.startswith("-") else "ascending"
            wanted = key if direction == "descending" else f"-{key}"
        else:
            direction = "none"
            wanted = f"-{key}" if option.first_direction == "descending" else key
        headers[key] = {"label": option.label, "sort": wanted, "aria_sort": direction}
    return headers


# --- Exports ----------------------------------------------------------------------------


def _names(decision: Decision) -> str:
    return "; ".join(person.full_name for person in decision.people.all())


def _joined(items: Iterable[object]) -> str:
    return "; ".join(str(item) for item in items)


def _review_state(decision: Decision) -> str:
    if not decision.needs_review:
        return "Not needed"
    review = getattr(decision, "review", None)
    if review is None:
        # The correction that replaced it is the record the DPO reviews.
        return "Awaiting review" if corrected_by_of(decision) is None else "Not needed: corrected"
    return "Justified" if review.justified else "Not justified"


def _reference_of(decision: Decision | None) -> str:
    return decision.reference if decision is not None else ""


# Without the people's names: a person's own history leaves out everyone else.
HISTORY_COLUMNS: list[Column[Decision]] = [
    Column("Reference", lambda d: d.reference),
    Column("Decided on", lambda d: d.decided_on),
    Column("Recorded on", lambda d: timezone.localdate(d.recorded_at)),
    Column("What information", lambda d: d.information),
    Column("Categories", lambda d: _joined(d.categories.all())),
    Column("Special category", lambda d: "Yes" if d.has_special_category else "No"),
    Column("Recipient person or role", lambda d: d.recipient_person),
    Column("Recipient organisation", lambda d: d.recipient_organisation_label),
    Column("Purpose", lambda d: d.purpose_label),
    Column("Outcome", lambda d: d.get_outcome_display()),
    Column("Kind of sharing", lambda d: d.get_arrangement_display()),
    Column("Agreement reference", lambda d: d.agreement_reference),
    Column("Lawful basis", lambda d: str(d.lawful_basis or "")),
    Column("Special category conditions", lambda d: _joined(d.conditions.all())),
    Column("Consent", lambda d: d.get_consent_display()),
    Column("About consent", lambda d: d.consent_explanation),
    Column("Checks made", lambda d: _joined(d.check_labels())),
    Column("Method", lambda d: d.get_method_display()),
    Column("Reasons", lambda d: d.reasons),
    Column("Decided by", lambda d: str(d.decided_by)),
    Column("Recorded by", lambda d: str(d.recorded_by)),
    Column("DPO review", _review_state),
    Column("Corrects", lambda d: _reference_of(d.supersedes)),
    Column("Corrected by", lambda d: _reference_of(corrected_by_of(d))),
    Column("Reason for the correction", lambda d: d.correction_reason),
]
LIST_COLUMNS: list[Column[Decision]] = [
    *HISTORY_COLUMNS[:3],
    Column("People", _names),
    Column("People not on the list", lambda d: d.people_described),
    *HISTORY_COLUMNS[3:],
]


def for_export(decisions: DecisionQuerySet) -> DecisionQuerySet:
    """Everything the export columns read, in a fixed number of queries per chunk."""
    return decisions.select_related(
        "purpose",
        "lawful_basis",
        "recipient_organisation",
        "decided_by",
        "recorded_by",
        "supersedes",
        "review",
    ).prefetch_related(
        Prefetch("people", queryset=_people_names()), "categories", "conditions", corrections()
    )


def export_decisions(
    request: OrganisationRequest,
    form: DecisionFilterForm,
    visible: DecisionQuerySet,
    export_format: str,
) -> HttpResponseBase:
    matching = form.matching(visible)
    services.note_export(
        request.organisation,
        actor=request.user,
        changes={"format": export_format, "rows": form.count(matching), "filters": form.used()},
    )
    filename = f"decisions-{request.organisation.slug}-{timezone.localdate():%Y-%m-%d}"
    rows = for_export(form.listed(matching))
    return export_response(export_format, rows, LIST_COLUMNS, filename, sheet="Decisions")


# The `?format=` values the list answers with a file (core/exports.py writes it).
EXPORTERS = EXPORT_FORMATS
