"""How audit events read on the audit page: action names and readable changes.

Verbs are `noun.past_tense` codes chosen by the services that record them.
Each app adds its verbs to VERB_LABELS; a verb not listed still reads
sensibly ("agreement.review_started" → "Agreement: review started").
"""

from __future__ import annotations

from typing import Any

import orjson

from infoshare.core.models import Role

VERB_LABELS: dict[str, str] = {
    "organisation.created": "Organisation created",
    "membership.invited": "Member invited",
    "membership.invitation_resent": "Invitation sent again",
    "membership.invitation_accepted": "Invitation accepted",
    "membership.roles_changed": "Roles changed",
    "membership.removed": "Member removed",
    "account.logged_in": "Signed in",
    "account.logged_out": "Signed out",
    "account.login_failed": "Sign-in failed",
    "account.mfa_added": "Second factor added",
    "account.mfa_removed": "Second factor removed",
    "account.password_changed": "Password changed",
    "person.added": "Person added",
    "person.changed": "Person's details changed",
    "person.history_viewed": "Disclosure history viewed",
    "person.history_exported": "Disclosure history exported",
    "people.imported": "Pupils imported",
    "people.exported": "People list exported",
    "decision.recorded": "Decision recorded",
    "decision.corrected": "Decision corrected",
    "decision.viewed": "Special category decision viewed",
    "decision.reviewed": "Disclosure reviewed by the DPO",
    "decisions.exported": "Decision log exported",
    "proposal.created": "Sharing proposal started",
    "proposal.step_one_answered": "Proposal: step 1 answered",
    "proposal.closed_not_needed": "Proposal closed: sharing not needed",
    "proposal.step_two_answered": "Proposal: anonymisation considered",
    "proposal.closed_no_personal_data": "Proposal closed: no personal data to be shared",
    "proposal.screening_answered": "Proposal: screening answers saved",
    "proposal.screening_submitted": "Proposal: screening submitted to the DPO",
    "proposal.assessed": "Proposal assessed by the DPO",
    "proposal.pia_taken_up": "Proposal: recommended full PIA taken up",
    "proposal.pia_declined": "Proposal: recommended full PIA not carried out",
    "proposal.pia_saved": "Full PIA saved",
    "proposal.risk_added": "Full PIA: risk added",
    "proposal.risk_changed": "Full PIA: risk changed",
    "proposal.risk_removed": "Full PIA: risk removed",
    "proposal.pia_submitted": "Full PIA submitted to the DPO",
    "proposal.advised": "Full PIA: DPO advice given",
    "proposal.decided": "Proposal decided",
    "proposal.withdrawn": "Proposal withdrawn",
    "proposal.report_downloaded": "PIA report downloaded",
    "agreement.created": "Agreement drafted",
    "agreement.changed": "Agreement: draft changed",
    "agreement.party_added": "Agreement: party added",
    "agreement.party_removed": "Agreement: party removed",
    "agreement.checklist_changed": "DPA: Article 28 checklist changed",
    "agreement.advice_requested": "Agreement: DPO advice requested",
    "agreement.advised": "Agreement: DPO advice given",
    "agreement.revised": "Agreement taken back to draft",
    "agreement.approved": "Agreement approved",
    "agreement.signature_recorded": "Agreement: signature recorded",
    "agreement.signed_copy_uploaded": "Agreement: signed copy uploaded",
    "agreement.review_started": "Agreement: review started",
    "agreement.reviewed": "Agreement reviewed",
    "agreement.terminated": "Agreement terminated",
    "agreement.expired": "Agreement expired: data returned or destroyed",
    "agreement.withdrawn": "Agreement withdrawn",
    "agreement.document_downloaded": "Agreement document downloaded",
    "agreements.exported": "Agreements register exported",
    "information_assets.exported": "Information asset register exported",
    "information_asset.created": "Information asset added",
    "information_asset.changed": "Information asset changed",
    "information_asset.retired": "Information asset retired",
    "policy.drafted": "Information sharing policy: version drafted",
    "policy.edited": "Information sharing policy: draft changed",
    "policy.discarded": "Information sharing policy: draft discarded",
    "policy.approved": "Information sharing policy: version approved",
    "policy.review_triggered": "Information sharing policy: early review called for",
    "policy.acknowledged": "Information sharing policy acknowledged",
    "policy.document_downloaded": "Information sharing policy document downloaded",
    "policy.acknowledgements_exported": "Policy acknowledgements exported",
    "safeguarding.shared": "Safeguarding information shared (DSL declaration signed)",
    "safeguarding.acknowledged": "Safeguarding information acknowledged (recipient signed)",
    "safeguarding.withdrawn": "Safeguarding record withdrawn",
    "safeguarding.attached_to_file": "Safeguarding form attached to the child's file",
    "safeguarding.viewed": "Safeguarding record opened",
    "safeguarding.form_downloaded": "Safeguarding form downloaded",
    "safeguarding.listed": "Safeguarding records listed",
    "safeguarding.reshare_requested": "Asked to share safeguarding information further",
    "safeguarding.reshare_permitted": "Sharing further permitted",
    "safeguarding.reshare_refused": "Sharing further refused",
    "roll_change.recorded": "Roll change recorded",
    "roll_change.withdrawn": "Roll change withdrawn",
    "roll_change.notified": "Roll change notified to the local authority",
    "roll_change.exported": "Roll change notifications exported",
    "roll_changes.imported": "Roll changes imported from the school's information system",
    "statutory_return.census_added": "Census return added to the returns calendar",
    "statutory_return.added": "Return added to the returns calendar",
    "statutory_return.edited": "Return changed",
    "statutory_return.submitted": "Return marked as submitted",
    "statutory_return.withdrawn": "Return withdrawn",
    "statutory_returns.exported": "Returns calendar exported",
    "anonymise.uploaded": "Dataset uploaded to anonymise",
    "anonymise.planned": "Anonymisation planned",
    "anonymise.applied": "Anonymisation plan applied",
    "anonymise.failed": "Anonymisation could not be applied",
    "anonymise.downloaded": "Anonymised dataset downloaded (files deleted)",
    "anonymise.files_deleted": "Anonymisation's files deleted",
    "transfer.sent": "Secure transfer sent",
    "transfer.viewed": "Secure transfer viewed",
    "transfer.opened": "Secure transfer opened by the recipient (code entered)",
    "transfer.downloaded": "File of a secure transfer downloaded by the recipient",
    "transfer.damaged_file": "Damaged file of a secure transfer refused",
    "transfer.locked": "Secure transfer locked after wrong codes",
    "transfer.unlocked": "Secure transfer unlocked",
    "transfer.reply_received": "Reply received through a secure transfer",
    "transfer.reply_downloaded": "Reply to a secure transfer downloaded",
    "transfer.revoked": "Secure transfer revoked (keys and files destroyed)",
    "transfer.expired": "Secure transfer expired (keys and files destroyed)",
    "transfer.exported": "Secure transfers list exported",
}

# Field names in `changes` whose values are role codes, shown by their names.
_ROLE_FIELDS = frozenset({"roles"})
_ROLE_LABELS = dict(Role.choices)


def verb_label(verb: str) -> str:
    """The action's name for people: from VERB_LABELS, else made from the code."""
    if verb in VERB_LABELS:
        return VERB_LABELS[verb]
    return humanise_verb(verb)


def humanise_verb(verb: str) -> str:
    noun, _, action = verb.partition(".")
    noun_text = _words(noun).capitalize()
    return f"{noun_text}: {_words(action)}" if action else noun_text


def field_label(name: str) -> str:
    return _words(name).capitalize()


def _words(code: str) -> str:
    return code.replace("_", " ").replace("-", " ").strip()


def describe_changes(changes: str) -> list[tuple[str, str]]:
    """The stored canonical JSON as (field, value) pairs a person can read.

    Changes hold field names, states and references (never sensitive
    content), so showing all of them is safe. Text that is not a JSON
    object (it should not happen) is shown as it is rather than hidden.
    """
    try:
        data = orjson.loads(changes or "{}")
    except orjson.JSONDecodeError:
        return [("Details", changes)]
    if not isinstance(data, dict):
        return [("Details", format_value(data))]
    return [(field_label(key), format_value(value, key)) for key, value in data.items()]


def format_value(value: Any, key: str = "") -> str:
    """One value as text; a pair of [before, after] lists reads "before → after"."""
    if value is None or value in ("", [], {}):
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return _format_list(value, key)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {format_value(v, k)}" for k, v in value.items())
    if key in _ROLE_FIELDS and isinstance(value, str):
        return _ROLE_LABELS.get(value, value)
    return str(value)


def _format_list(values: list[Any], key: str) -> str:
    if len(values) == 2 and all(isinstance(part, list) for part in values):
        before, after = values
        return f"{format_value(before, key)} → {format_value(after, key)}"
    return ", ".join(format_value(item, key) for item in values)
