"""The forms of drafting an agreement: starting it, its content, parties, the DPA checklist,
the DPO's advice, approval and withdrawal.

The forms only turn what was posted into the services' answers and check each
answer on its own (a real date, a whole number, one of the choices). The rules
that join answers together (procedures need the agreement they belong to, a
review interval over 12 months needs a justification, a clause present needs
its reference) live in `agreements.services`, whose messages come back beside
the field of the same name: so the fields are named as the services name them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q

from infoshare.agreements.models import (
    DEFAULT_REVIEW_MONTHS,
    Agreement,
    Article28,
    Kind,
    PartyRole,
    Status,
)
from infoshare.agreements.services import ClauseAnswers, Content, PartyAnswers
from infoshare.core.forms import date_field
from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Organisation,
    SpecialCategoryCondition,
)
from infoshare.governance.models import InformationAsset

if TYPE_CHECKING:
    from collections.abc import Mapping

    from django.db.models import Model, QuerySet
    from django.forms.boundfield import BoundField

TEXT_LIMIT = 10_000
TOO_LONG = "This answer must be 10,000 characters or fewer."

# What each kind is for, in the words of Appendix A step four and policy 7.
KIND_HINTS: dict[str, str] = {
    Kind.PROTOCOL: "The top tier. The principles, standards and purposes agreed with "
    "organisations the school shares with regularly and routinely. Having agreed them "
    "makes further sharing easier.",
    Kind.AGREEMENT: "The middle tier, and the most common. The clear objective, the legal "
    "basis, what information is shared, how and when, for one purpose or project. It may "
    "sit under a protocol.",
    Kind.PROCEDURES: "The third tier, where needed. The day-to-day tools and methods for "
    "sharing under an agreement, for larger projects, high volumes or sensitive data. They "
    "belong to an agreement.",
    Kind.DPA: "When another organisation processes personal data on the school's behalf "
    "and only on its instructions, such as a software supplier (a processor). It records "
    "the contract's Article 28 clauses.",
}

ROLE_HINTS: dict[str, str] = {
    PartyRole.CONTROLLER: "Decides, in its own right, why and how it uses the data it receives.",
    PartyRole.JOINT_CONTROLLER: "Decides together with the school why and how the data is used.",
    PartyRole.PROCESSOR: "Uses the data only on the school's instructions and on its behalf. "
    "A processor needs a data processing agreement.",
}

PRESENT, NOT_PRESENT = "yes", "no"


# --- Radios with a hint per option and a field revealed under some ------------------------


@dataclass(frozen=True)
class RadioOption:
    """One radio button as `includes/drafting_radios.html` draws it."""

    id: str
    value: str
    label: str
    hint: str = ""
    checked: bool = False
    # A field shown under the option, for the answer it asks for (GOV.UK conditional reveal).
    reveals: BoundField | None = None


def radio_options(
    field: BoundField,
    *,
    hints: Mapping[Any, str] | None = None,
    reveals: Mapping[Any, BoundField] | None = None,
) -> list[RadioOption]:
    """The options of a radio field with their hints, the posted or stored one checked.

    `hints` and `reveals` are keyed by the choices' values (plain strings or TextChoices).
    """
    hints, reveals = hints or {}, reveals or {}
    current = field.value()
    current = "" if current is None else str(current)
    choices: Any = field.field.choices  # type: ignore[attr-defined]
    return [
        RadioOption(
            id=f"{field.auto_id}_{index}",
            value=str(value),
            label=str(label),
            hint=hints.get(str(value), ""),
            checked=current == str(value),
            reveals=reveals.get(str(value)),
        )
        for index, (value, label) in enumerate(choices)
    ]


# --- Fields -----------------------------------------------------------------------------


def _text(label: str, *, rows: int = 3, hint: str = "") -> forms.CharField:
    """An optional textarea: what must be filled in before advice is `services.content_gaps`."""
    return forms.CharField(
        label=label,
        required=False,
        help_text=hint,
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=TEXT_LIMIT,
        error_messages={"max_length": TOO_LONG},
    )


class NamedChoices(forms.ModelMultipleChoiceField):
    """Reference list entries by their article and name, like '6(1)(e): Public task'."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class CategoryChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} (special category)" if obj.is_special else str(obj.name)


class AssetChoices(forms.ModelMultipleChoiceField):
    """The school's information assets, posted by UUID (never a sequential id)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, to_field_name="uuid", **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.system_or_location})"


class DocumentChoice(forms.ModelChoiceField):
    """An agreement by its reference and title, posted as its UUID (never a sequential id)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, to_field_name="uuid", **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.reference}: {obj.title}"


class OrganisationChoice(forms.ModelChoiceField):
    """Organisations named with their kind, so two of a name can be told apart."""

    def label_from_instance(self, obj: Any) -> str:
        kind = obj.get_external_kind_display() if obj.external_kind else obj.get_kind_display()
        if kind.lower() == obj.name.lower():
            return str(obj.name)
        return f"{obj.name} ({kind.lower()})"


def _multiple(
    field_class: type[forms.ModelMultipleChoiceField],
    queryset: QuerySet[Any],
    label: str,
    hint: str,
) -> Any:
    """Optional checkboxes of a list; what is offered is narrowed per agreement."""
    return field_class(
        queryset=queryset,
        label=label,
        help_text=hint,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Choose from the list.",
            "invalid_pk_value": "Choose from the list.",
        },
    )


def documents_of(organisation: Organisation, kind: str) -> QuerySet[Agreement]:
    """The school's documents of `kind` another may sit under: any not withdrawn."""
    return (
        Agreement.objects.filter(organisation=organisation, kind=kind)
        .exclude(status=Status.WITHDRAWN)
        .order_by("reference")
    )


def _offered(queryset: QuerySet[Any], chosen: list[Model]) -> QuerySet[Any]:
    """What a checkbox list offers: what may be chosen now, and what was chosen before
    (a retired entry stays on the agreement until someone takes it off)."""
    return queryset.filter(Q(is_active=True) | Q(pk__in=[item.pk for item in chosen]))


# --- Starting an agreement ------------------------------------------------------------


class StartForm(forms.Form):
    kind = forms.ChoiceField(
        label="What kind of agreement is it?",
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the kind of agreement.",
            "invalid_choice": "Choose the kind of agreement.",
        },
    )
    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="A short name everyone will recognise, like 'Attendance data for the "
        "local authority's inclusion team'.",
        error_messages={
            "required": "Give the agreement a title.",
            "max_length": "The title must be 200 characters or fewer.",
        },
    )
    protocol = DocumentChoice(
        label="The protocol it sits under (optional)",
        queryset=Agreement.objects.none(),
        required=False,
        empty_label="None",
        help_text="Only if the organisations have agreed a protocol of principles first.",
        error_messages={"invalid_choice": "Choose a protocol from the list."},
    )
    parent_agreement = DocumentChoice(
        label="The agreement these procedures belong to",
        queryset=Agreement.objects.none(),
        required=False,
        empty_label="Choose the agreement",
        error_messages={"invalid_choice": "Choose an agreement from the list."},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_queryset("protocol", documents_of(organisation, Kind.PROTOCOL))
        self._set_queryset("parent_agreement", documents_of(organisation, Kind.AGREEMENT))

    def _set_queryset(self, name: str, queryset: QuerySet[Agreement]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = queryset

    @property
    def parent_field(self) -> str:
        """The field that names the document the new one sits under, for the chosen kind."""
        kind = self.cleaned_data.get("kind") if hasattr(self, "cleaned_data") else None
        return "parent_agreement" if kind == Kind.PROCEDURES else "protocol"

    def kind_options(self) -> list[RadioOption]:
        return radio_options(
            self["kind"],
            hints=KIND_HINTS,
            reveals={Kind.AGREEMENT: self["protocol"], Kind.PROCEDURES: self["parent_agreement"]},
        )

    def content(self, prefill: Content | None = None) -> Content:
        """What the new agreement says: the title and parent, on top of any prefill."""
        kind = self.cleaned_data["kind"]
        parent = {
            Kind.AGREEMENT: self.cleaned_data["protocol"],
            Kind.PROCEDURES: self.cleaned_data["parent_agreement"],
        }.get(kind)
        return replace(
            prefill or Content(title=""), title=self.cleaned_data["title"], parent=parent
        )


def start_initial(prefill: Content | None) -> dict[str, Any]:
    """An agreement started from a proposal takes its name; the kind is the drafter's choice."""
    return {"title": prefill.title} if prefill is not None else {}


# --- The content ----------------------------------------------------------------------


class ContentForm(forms.Form):
    """The content (services.Content), in the order the agreement's document sets it out."""

    title = forms.CharField(
        label="Title",
        max_length=200,
        error_messages={
            "required": "Give the agreement a title.",
            "max_length": "The title must be 200 characters or fewer.",
        },
    )
    parent = DocumentChoice(
        label="The document it sits under",
        queryset=Agreement.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose from the list."},
    )
    purpose = _text(
        "What is the sharing for?",
        rows=4,
        hint="The clear objective: what the sharing achieves, and for whom.",
    )
    lawful_bases = _multiple(
        NamedChoices,
        LawfulBasis.objects.all(),
        "Lawful basis (UK GDPR Article 6)",
        "Select all that apply. Schools usually rely on public task or legal obligation.",
    )
    legal_basis_details = _text(
        "The law or power that allows it (optional)",
        rows=2,
        hint="For example, 'Education Act 1996, section 537A'.",
    )
    data_shared = _text(
        "What data is shared?",
        rows=4,
        hint="Describe the data, not the data itself: for example, 'names, dates of birth "
        "and weekly attendance figures'.",
    )
    categories = _multiple(
        CategoryChoices,
        DataCategory.objects.all(),
        "Categories of data",
        "Select all that apply.",
    )
    special_category_conditions = _multiple(
        NamedChoices,
        SpecialCategoryCondition.objects.all(),
        "Special category conditions",
        "Needed if special category data is shared: an Article 9 condition and, for 9(2)(b), "
        "(g), (h), (i) or (j), a Schedule 1 condition.",
    )
    assets = _multiple(
        AssetChoices,
        InformationAsset.objects.none(),
        "Information assets it concerns",
        "The school's records the data comes from, as the information asset register names them.",
    )
    method = _text(
        "How is the data shared?",
        hint="For example, 'uploaded to the council's secure portal' or 'by secure transfer'.",
    )
    frequency = forms.CharField(
        label="How often? (optional)",
        required=False,
        max_length=200,
        help_text="For example, 'weekly' or 'when a pupil joins'.",
        error_messages={"max_length": "This answer must be 200 characters or fewer."},
    )
    security_measures = _text(
        "Security measures",
        rows=4,
        hint="How each party keeps the data safe: encryption, who can see it, where it is kept.",
    )
    retention = _text(
        "How long is the data kept?",
        hint="For example, 'until the pupil leaves the school, then one year'.",
    )
    return_or_disposal = _text(
        "How is the data returned or disposed of at the end?",
        hint="What each party does with the data when the agreement ends.",
    )
    start_date = date_field(
        "Start date",
        what="the start date",
        help_text="The agreement is in force from this date once approved. "
        "Type it as day/month/year, for example 1/9/2026.",
    )
    review_interval_months = forms.IntegerField(
        label="Months between reviews",
        initial=DEFAULT_REVIEW_MONTHS,
        help_text="The policy asks for a review at least every 12 months.",
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "required": "Enter the number of months between reviews, like 12.",
            "invalid": "Enter the number of months between reviews as a whole number, like 12.",
        },
    )
    review_interval_justification = _text(
        "Why review it less often than every 12 months?",
        hint="Needed only for more than 12 months.",
    )
    subprocessors = _text(
        "Sub-processors",
        hint="The other organisations the processor uses to process the data, or 'none'.",
    )
    international_transfers = _text(
        "International transfers",
        hint="Any country outside the UK the data goes to, and the safeguard for it, or 'none'.",
    )

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agreement = agreement
        self._offer_chosen_and_active(agreement)
        self._fit_to_kind(agreement)

    def _offer_chosen_and_active(self, agreement: Agreement) -> None:
        for name, model in (
            ("lawful_bases", LawfulBasis),
            ("categories", DataCategory),
            ("special_category_conditions", SpecialCategoryCondition),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = _offered(model.objects.all(), list(getattr(agreement, name).all()))
        assets = self.fields["assets"]
        assert isinstance(assets, forms.ModelMultipleChoiceField)
        chosen = [asset.pk for asset in agreement.assets.all()]
        assets.queryset = InformationAsset.objects.filter(
            organisation=agreement.organisation
        ).filter(Q(retired_at__isnull=True) | Q(pk__in=chosen))

    def _fit_to_kind(self, agreement: Agreement) -> None:
        """Only a DPA has processor questions; only agreements and procedures sit under one."""
        if not agreement.is_dpa:
            del self.fields["subprocessors"], self.fields["international_transfers"]
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        if agreement.kind == Kind.AGREEMENT:
            parent.label = "The protocol it sits under (optional)"
            parent.empty_label = "None"
            parent.queryset = documents_of(agreement.organisation, Kind.PROTOCOL)
        elif agreement.kind == Kind.PROCEDURES:
            parent.label = "The agreement these procedures belong to"
            parent.empty_label = "Choose the agreement"
            parent.queryset = documents_of(agreement.organisation, Kind.AGREEMENT)
        else:
            del self.fields["parent"]

    def content(self) -> Content:
        data = self.cleaned_data
        return Content(
            title=data["title"],
            purpose=data["purpose"],
            lawful_bases=list(data["lawful_bases"]),
            legal_basis_details=data["legal_basis_details"],
            data_shared=data["data_shared"],
            categories=list(data["categories"]),
            special_category_conditions=list(data["special_category_conditions"]),
            method=data["method"],
            frequency=data["frequency"],
            security_measures=data["security_measures"],
            retention=data["retention"],
            return_or_disposal=data["return_or_disposal"],
            start_date=data["start_date"],
            review_interval_months=data["review_interval_months"],
            review_interval_justification=data["review_interval_justification"],
            assets=list(data["assets"]),
            parent=data.get("parent"),
            subprocessors=data.get("subprocessors", ""),
            international_transfers=data.get("international_transfers", ""),
        )


def content_initial(agreement: Agreement) -> dict[str, Any]:
    plain = (
        "title",
        "purpose",
        "legal_basis_details",
        "data_shared",
        "method",
        "frequency",
        "security_measures",
        "retention",
        "return_or_disposal",
        "start_date",
        "review_interval_months",
        "review_interval_justification",
        "subprocessors",
        "international_transfers",
    )
    initial: dict[str, Any] = {name: getattr(agreement, name) for name in plain}
    for name in ("lawful_bases", "categories", "special_category_conditions", "assets"):
        initial[name] = list(getattr(agreement, name).all())
    initial["parent"] = agreement.parent
    return initial


# --- Parties ----------------------------------------------------------------------------


class PartyForm(forms.Form):
    organisation = OrganisationChoice(
        label="Organisation",
        queryset=Organisation.objects.none(),
        empty_label="Choose the organisation",
        help_text="Another school, the local authority, the trust or an outside organisation.",
        error_messages={
            "required": "Choose the organisation.",
            "invalid_choice": "Choose an organisation from the list.",
        },
    )
    role = forms.ChoiceField(
        label="What is its role?",
        choices=PartyRole.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the party's role.",
            "invalid_choice": "Choose the party's role.",
        },
    )

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        assert isinstance(organisation, forms.ModelChoiceField)
        # The school is a party already; alike organisations sit together.
        organisation.queryset = Organisation.objects.exclude(pk=agreement.organisation_id).order_by(
            "kind", "external_kind", "name"
        )

    def role_options(self) -> list[RadioOption]:
        return radio_options(self["role"], hints=ROLE_HINTS)

    def answers(self) -> PartyAnswers:
        return PartyAnswers(self.cleaned_data["organisation"], self.cleaned_data["role"])


# --- The Article 28(3) checklist of a DPA ------------------------------------------------


@dataclass(frozen=True)
class ChecklistPoint:
    point: str
    label: str
    field: BoundField
    options: list[RadioOption]


class ChecklistForm(forms.Form):
    """For each point (a) to (h): present at a clause, or not present and why.

    Every point may be left for later; approval waits until all eight are settled.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for point, label in Article28.choices:
            self.fields[f"present_{point}"] = forms.ChoiceField(
                label=label,
                choices=[(PRESENT, "Present in the contract"), (NOT_PRESENT, "Not present")],
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": "Choose present or not present."},
            )
            self.fields[f"clause_{point}"] = forms.CharField(
                label="Where in the contract?",
                required=False,
                max_length=100,
                help_text="The clause or schedule, like 'Schedule 2, clause 4'.",
                widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}),
                error_messages={"max_length": "The reference must be 100 characters or fewer."},
            )
            self.fields[f"justification_{point}"] = _text(
                "Why does the contract do without it?", rows=2
            )

    def points(self) -> list[ChecklistPoint]:
        return [
            ChecklistPoint(
                point,
                str(label),
                self[f"present_{point}"],
                radio_options(
                    self[f"present_{point}"],
                    reveals={
                        PRESENT: self[f"clause_{point}"],
                        NOT_PRESENT: self[f"justification_{point}"],
                    },
                ),
            )
            for point, label in Article28.choices
        ]

    def answers(self) -> list[ClauseAnswers]:
        data = self.cleaned_data
        present = {PRESENT: True, NOT_PRESENT: False}
        return [
            ClauseAnswers(
                point,
                present.get(data[f"present_{point}"]),
                clause_reference=data[f"clause_{point}"],
                justification=data[f"justification_{point}"],
            )
            for point in Article28.values
        ]


def checklist_initial(agreement: Agreement) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for clause in agreement.clauses.all():
        if clause.present is not None:
            initial[f"present_{clause.point}"] = PRESENT if clause.present else NOT_PRESENT
        initial[f"clause_{clause.point}"] = clause.clause_reference
        initial[f"justification_{clause.point}"] = clause.justification
    return initial


# --- Advice, approval, withdrawal ------------------------------------------------------


class ConfirmForm(forms.Form):
    """No questions: it carries what the service refuses to the error summary."""


class AdviceForm(forms.Form):
    advice = _text(
        "Your advice",
        rows=8,
        hint="What is clear, what is missing, and what should change. The person who drafted "
        "it, the headteacher and the chair will read it. You advise; you do not approve.",
    )


class ApprovalForm(forms.Form):
    notes = _text(
        "Notes (optional)",
        rows=4,
        hint="Anything the parties should know about your approval.",
    )


class WithdrawForm(forms.Form):
    reasons = _text(
        "Why are you withdrawing this agreement?",
        rows=4,
        hint="The agreement is kept, with your reason, so anyone can see why it stopped.",
    )
