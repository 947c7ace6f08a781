"""The forms of the DPO's assessment, the full PIA and its risks, the advice and the decision.

The forms only turn what was posted into the services' answers. Which answers
are needed, and how they hang together (reasons when declining a recommended
PIA, the residual risk of a reduced risk, override reasons), is checked by
`proposals.services`, whose messages come back beside the fields: fields the
services check themselves are optional here, so every problem shows at once.
"""

from __future__ import annotations

from typing import Any

from django import forms

from infoshare.proposals import services
from infoshare.proposals.models import Advice, Effect, Likelihood, Outcome, PiaRequirement, Severity

TEXT = {"rows": 5}
SHORT_TEXT = {"rows": 3}


def _text(label: str, *, help_text: str = "", rows: dict[str, int] = TEXT) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs=rows),
    )


def _radios(label: str, choices: Any, *, help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        help_text=help_text,
        widget=forms.RadioSelect,
    )


def _scale(label: str, choices: Any, *, required: bool, message: str = "") -> forms.Field:
    """A likelihood or severity: a number, 1 to 3, chosen by its name."""
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        required=required,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"required": message},
    )


class AssessmentForm(forms.Form):
    """The DPO's assessment of the screening: keys as services.assess_proposal takes them."""

    requirement = _radios("Is a full privacy impact assessment needed?", PiaRequirement.choices)
    reasons = _text(
        "Reasons for your assessment",
        help_text="The author, the headteacher and the chair will read these.",
    )


class PiaChoiceForm(forms.Form):
    """Whether a recommended full PIA is carried out."""

    CARRY_OUT = "yes"
    GO_WITHOUT = "no"

    take_up = forms.TypedChoiceField(
        label="Will you carry out the full PIA?",
        choices=[
            (CARRY_OUT, "Carry out the full PIA"),
            (GO_WITHOUT, "Go to the decision without a full PIA"),
        ],
        coerce=lambda value: value == PiaChoiceForm.CARRY_OUT,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to carry out the full PIA."},
    )
    reasons = _text(
        "Reasons for going without a full PIA",
        help_text="Needed if you go to the decision without a full PIA. "
        "The headteacher or chair will read them when deciding.",
    )


class PiaForm(forms.Form):
    """The three texts of the full PIA: field names as in services.PiaAnswers."""

    processing_description = _text(
        "Description of the processing",
        help_text="What will be shared, with whom, how it is sent and kept, and for how long.",
    )
    necessity = _text(
        "Necessity and proportionality",
        help_text="Why the sharing is needed for the purpose, and why no less is enough.",
    )
    consultation = _text(
        "Who was consulted",
        help_text="For example, staff, the recipient, parents or pupils, and what they said.",
    )

    def answers(self) -> services.PiaAnswers:
        return services.PiaAnswers(**self.cleaned_data)


class RiskForm(forms.Form):
    """One risk of the register: field names as in services.RiskAnswers."""

    description = forms.CharField(
        label="The risk to individuals",
        widget=forms.Textarea(attrs=SHORT_TEXT),
        help_text="What could go wrong for the people whose information is shared.",
        error_messages={"required": "Describe the risk to individuals."},
    )
    source = forms.CharField(
        label="Source of the risk",
        widget=forms.Textarea(attrs=SHORT_TEXT),
        help_text="Where it comes from: for example, paper copies, email, a new system.",
        error_messages={"required": "Say where the risk comes from."},
    )
    likelihood = _scale(
        "How likely is the harm?",
        Likelihood.choices,
        required=True,
        message="Choose how likely the harm is.",
    )
    severity = _scale(
        "How severe would the harm be?",
        Severity.choices,
        required=True,
        message="Choose how severe the harm would be.",
    )
    measures = _text(
        "Measures to reduce or eliminate the risk",
        help_text="You can add these later, but the PIA cannot be submitted without them.",
        rows=SHORT_TEXT,
    )
    effect = _radios("What do the measures do to the risk?", Effect.choices)
    residual_likelihood = _scale(
        "Likelihood after the measures", Likelihood.choices, required=False
    )
    residual_severity = _scale("Severity after the measures", Severity.choices, required=False)

    def answers(self) -> services.RiskAnswers:
        return services.RiskAnswers(**self.cleaned_data)


def risk_initial(risk: Any) -> dict[str, Any]:
    """A saved risk's answers, to start the change page from."""
    return {name: getattr(risk, name) for name in RiskForm.base_fields}


class AdviceForm(forms.Form):
    """The DPO's written advice on the full PIA: keys as services.advise_on_pia takes them."""

    advice = _radios("Do you advise proceeding?", Advice.choices)
    text = _text(
        "Your advice",
        help_text="Say whether the risks are acceptable, which measures or conditions you "
        "advise, and why. The headteacher or chair decides, with your advice in front of them.",
        rows={"rows": 8},
    )


class DecisionForm(forms.Form):
    """The headteacher's or chair's decision: field names as in services.Decision."""

    outcome = _radios("What do you decide?", Outcome.choices)
    reasons = _text("Reasons for your decision")
    conditions = _text(
        "Conditions",
        help_text="Needed if you approve with conditions. Say what must be done, and by whom.",
        rows=SHORT_TEXT,
    )
    override_reasons = _text(
        "Reasons for going against the DPO's advice",
        help_text="Needed if your decision goes against the DPO's advice (policy 9.8).",
        rows=SHORT_TEXT,
    )

    def decision(self) -> services.Decision:
        return services.Decision(**self.cleaned_data)
