"""Forms of the returns calendar: adding and correcting a return, marking it submitted,
withdrawing it, adding a year's census days, and the calendar's filters.

Field names are those of `services.returns` (its ValidationErrors are keyed by
them), so what a service refuses shows beside the field concerned. The
services, not these forms, decide what is required: a form only reads what was
typed (a date that is not a date is the one error found here).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q

from infoshare.core.forms import DATE_HINT, date_field
from infoshare.statutory import calendar
from infoshare.statutory.models import (
    RETURN_NOTICE,
    ReturnState,
    ReturnStatus,
    StatutoryReturn,
)
from infoshare.statutory.services.returns import ReturnAnswers

if TYPE_CHECKING:
    from django.db.models import QuerySet

TEXT = {"rows": 4}
PAST_DATE_HINT = "For example, 27/3/2026. It must be today or earlier."
EVERY_YEAR = "all"


def _text(label: str, *, help_text: str = "", max_length: int = 200) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=help_text,
        error_messages={"max_length": f"{label} must be {max_length} characters or fewer"},
    )


def _long_text(label: str, *, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs=TEXT), help_text=help_text
    )


class ReturnForm(forms.Form):
    """A return other than a census, or the correction of any return (`census_day` for a census)."""

    title = _text(
        "Name of the return",
        help_text="For example, School workforce census 2026 or Attendance return to the "
        "local authority.",
    )
    due_on = date_field("Date it is due", what="the date it is due")
    recipient = _text(
        "Who it goes to",
        help_text="For example, Department for Education or Eastmoor Council.",
    )
    notes = _long_text(
        "Notes (optional)",
        help_text="For example, what it covers or where the guidance is. Do not name pupils.",
    )

    def __init__(self, *args: Any, census: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.census = census
        if census:
            self.fields["census_day"] = date_field(
                "Census day",
                what="the census day",
                help_text=f"The day whose data the census records. The DfE sets it; change it "
                f"only if the DfE has moved it. {DATE_HINT}",
            )
            self.order_fields(["title", "census_day", "due_on", "recipient", "notes"])

    @classmethod
    def initial_for(cls, statutory_return: StatutoryReturn) -> dict[str, Any]:
        return {
            "title": statutory_return.title,
            "due_on": statutory_return.due_on,
            "recipient": statutory_return.recipient,
            "notes": statutory_return.notes,
            "census_day": statutory_return.census_day,
        }

    def answers(self) -> ReturnAnswers:
        data = self.cleaned_data
        return ReturnAnswers(
            title=data["title"],
            due_on=data["due_on"],
            recipient=data["recipient"],
            notes=data["notes"],
            census_day=data.get("census_day"),
        )


class SubmittedForm(forms.Form):
    submitted_on = date_field(
        "Date it was submitted", what="the date it was submitted", help_text=PAST_DATE_HINT
    )
    submission_reference = _text(
        "Reference (optional)",
        max_length=100,
        help_text="For example, the reference the DfE's COLLECT system or the recipient gave.",
    )


class WithdrawReturnForm(forms.Form):
    reason = _long_text(
        "Why is this return not needed?",
        help_text="For example, added twice, or the local authority no longer asks for it. "
        "Kept with the return.",
    )


class CensusForm(forms.Form):
    """The year of the button pressed: "Add the census days for 2026/27"."""

    academic_year = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose the academic year",
            "invalid": "Choose the academic year",
        },
    )


# --- The calendar's filters -------------------------------------------------------------


def state_q(state: str, today: datetime.date) -> Q:
    """The returns standing in `state` on `today`, as `StatutoryReturn.state_on` says."""
    still_open = Q(status=ReturnStatus.OPEN)
    if state == ReturnState.SUBMITTED:
        return Q(status=ReturnStatus.SUBMITTED)
    if state == ReturnState.WITHDRAWN:
        return Q(status=ReturnStatus.WITHDRAWN)
    if state == ReturnState.OVERDUE:
        return still_open & Q(due_on__lt=today)
    if state == ReturnState.DUE:
        return still_open & Q(due_on__gte=today, due_on__lte=today + RETURN_NOTICE)
    if state == ReturnState.UPCOMING:
        return still_open & Q(due_on__gt=today + RETURN_NOTICE)
    raise ValueError(f"No state {state!r}.")


class ReturnFilterForm(forms.Form):
    """The calendar's academic year (the current one unless another is chosen) and state."""

    year = forms.ChoiceField(
        label="Academic year",
        required=False,
        error_messages={"invalid_choice": "Select an academic year from the list"},
    )
    state = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *ReturnState.choices],
        error_messages={"invalid_choice": "Select a status from the list"},
    )

    def __init__(self, *args: Any, today: datetime.date, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.current_year = calendar.academic_year_of(today)
        year_field = self.fields["year"]
        assert isinstance(year_field, forms.ChoiceField)  # for type checkers
        year_field.choices = [
            *((str(start), calendar.academic_year_label(start)) for start in years),
            (EVERY_YEAR, "Every year"),
        ]
        # The list shows the year the calendar shows: this one, unless another is chosen.
        year_field.initial = str(self.current_year)
        if self.is_bound and not self.data.get("year"):
            # One value a name (a QueryDict unpacked with ** would give lists).
            given = {name: self.data.get(name) for name in self.data}
            self.data = {**given, "year": str(self.current_year)}

    @property
    def chosen_year(self) -> int | None:
        """The academic year shown (its first year), or None for every year."""
        chosen = self.cleaned_data.get("year", "") if self.is_valid() else ""
        if chosen == EVERY_YEAR:
            return None
        return int(chosen) if chosen else self.current_year

    @property
    def chosen_state(self) -> str:
        return str(self.cleaned_data.get("state", "")) if self.is_valid() else ""

    @property
    def year_label(self) -> str:
        return (
            "every year"
            if self.chosen_year is None
            else calendar.academic_year_label(self.chosen_year)
        )

    @property
    def state_label(self) -> str:
        """ "overdue" for the overdue filter; "" for any status."""
        return ReturnState(self.chosen_state).label.lower() if self.chosen_state else ""

    @property
    def is_filtering(self) -> bool:
        """Whether anything but the default (this year, any status) is shown."""
        return self.chosen_year != self.current_year or bool(self.chosen_state)

    def filter(self, returns: QuerySet[StatutoryReturn]) -> QuerySet[StatutoryReturn]:
        """The returns of the chosen year and state, in date order. With a filter invalid,
        the default (this year, any status) rather than a partial, misleading calendar."""
        if self.chosen_year is not None:
            first, last = calendar.academic_year_bounds(self.chosen_year)
            returns = returns.filter(due_on__gte=first, due_on__lte=last)
        if self.chosen_state:
            returns = returns.filter(state_q(self.chosen_state, self.today))
        return returns.order_by("due_on", "title", "pk")

    def used(self) -> dict[str, str]:
        """The filters applied, for the audit trail of an export."""
        used = {"academic_year": self.year_label}
        if self.chosen_state:
            used["state"] = self.chosen_state
        return used


def years_to_offer(
    first_due: datetime.date | None, last_due: datetime.date | None, today: datetime.date
) -> list[int]:
    """Each academic year from the earliest return's to the latest's, this year and the next."""
    current = calendar.academic_year_of(today)
    starts = [current, current + 1]
    if first_due is not None and last_due is not None:
        starts += [calendar.academic_year_of(first_due), calendar.academic_year_of(last_due)]
    return list(range(min(starts), max(starts) + 1))
