"""The audit page's filters: a GET form, so filtered views can be bookmarked and shared.

The GOV.UK markup (label, hint, error beside the field) comes from the
project's form renderer (settings.FORM_RENDERER), as for every form.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from infoshare.audit.labels import verb_label
from infoshare.audit.models import AuditEvent, AuditEventQuerySet
from infoshare.core.models import Membership, Organisation, User


def _date_input() -> forms.DateInput:
    # The browser's date picker sends (and shows) ISO dates; typed dates in
    # the en-GB formats (22/11/2026) are accepted too.
    return forms.DateInput(
        attrs={"type": "date", "class": "govuk-input--width-10"}, format="%Y-%m-%d"
    )


class EventFilterForm(forms.Form):
    person = forms.ModelChoiceField(
        label="Person", queryset=User.objects.none(), required=False,
        to_field_name="uuid",  # never a sequential id in a URL (DESIGN.md rule 2)
        empty_label="Anyone",
        error_messages={"invalid_choice": "Select a person from the list"},
    )
    action = forms.ChoiceField(
        label="Action", required=False,
        error_messages={"invalid_choice": "Select an action from the list"},
    )
    record = forms.CharField(
        label="Record", required=False, max_length=200,
        help_text="Part of its reference or name",
        error_messages={"max_length": "Record must be 200 characters or fewer"},
    )
    date_from = forms.DateField(
        label="From", required=False, widget=_date_input(),
        error_messages={"invalid": "The date from must be a real date, like 22/11/2026"},
    )
    date_to = forms.DateField(
        label="To", required=False, widget=_date_input(),
        error_messages={"invalid": "The date to must be a real date, like 22/11/2026"},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person = self.fields["person"]
        assert isinstance(person, forms.ModelChoiceField)
        person.queryset = actors_of(organisation)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [("", "Any action"), *action_choices(organisation)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The date to must be the same as or after the date from")
        return cleaned

    @property
    def is_filtering(self) -> bool:
        """Whether any filter is applied (for the empty state and the clear link)."""
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    def filter(self, events: AuditEventQuerySet) -> AuditEventQuerySet:
        """The events matching the filters; with any filter invalid, none is applied
        (the errors show beside the fields) rather than a partial, misleading list."""
        if not self.is_valid():
            return events
        data = self.cleaned_data
        if data["person"]:
            events = events.filter(actor=data["person"])
        if data["action"]:
            events = events.filter(verb=data["action"])
        if data["record"]:
            text = data["record"].strip()
            events = events.filter(Q(object_label__icontains=text) | Q(object_id__icontains=text))
        if data["date_from"]:
            events = events.filter(created_at__gte=start_of_day(data["date_from"]))
        if data["date_to"]:
            events = events.filter(created_at__lt=start_of_day(data["date_to"] + timedelta(days=1)))
        return events


def actors_of(organisation: Organisation) -> QuerySet[User]:
    """People who belong (or belonged) to the organisation and appear in its trail as actors."""
    return User.objects.filter(
        Exists(AuditEvent.objects.filter(organisation=organisation, actor=OuterRef("pk"))),
        Exists(Membership.objects.filter(organisation=organisation, user=OuterRef("pk"))),
    ).order_by("name", "email")


def action_choices(organisation: Organisation) -> list[tuple[str, str]]:
    """The verbs present in the organisation's trail, by their readable names."""
    verbs = (
        AuditEvent.objects.filter(organisation=organisation)
        .order_by().values_list("verb", flat=True).distinct()
    )
    return sorted(((verb, verb_label(verb)) for verb in verbs), key=lambda choice: choice[1])


def start_of_day(day: date) -> datetime:
    """Midnight in Europe/London: the dates people type are local days (DESIGN.md rule 9)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())
