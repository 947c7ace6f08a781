"""The emails of the information sharing policy: a draft to approve, a version to read.

They say what is waiting and link to it. A trigger's description is not sent:
it may say what went wrong, and an email can be forwarded or read over a
shoulder. Each is sent after the transaction that made the change commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.urls import reverse

from infoshare.core.emails import absolute_url, members_holding, send_to_each
from infoshare.core.models import Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from infoshare.core.models import User
    from infoshare.governance.models import PolicyVersion, ReviewTrigger

APPROVERS = (Role.HEADTEACHER, Role.CHAIR)


def send_awaiting_approval(version: PolicyVersion) -> None:
    """To the headteacher and chair, never the one who drafted it."""
    _send(
        members_holding(version.organisation, *APPROVERS),
        f"{version.label} of the information sharing policy is waiting for your approval",
        "awaiting_approval",
        {"version": version, "link": _link(version, "policy:approve")},
        exclude=version.drafted_by,
    )


def send_approved(version: PolicyVersion) -> None:
    """To everyone who must acknowledge it; the DPO who drafted it is told it was approved."""
    from infoshare.governance.policy import members_to_acknowledge

    readers = members_to_acknowledge(version.organisation)
    _send(
        readers,
        "A new version of the information sharing policy needs you to read and acknowledge it",
        "to_acknowledge",
        {"version": version, "link": _home(version)},
    )
    if version.drafted_by not in readers:
        _send(
            [version.drafted_by],
            f"{version.label} of the information sharing policy has been approved",
            "approved",
            {"version": version, "link": absolute_url(version.get_absolute_url())},
        )


def send_discarded(version: PolicyVersion) -> None:
    _send(
        [version.drafted_by],
        f"{version.label} of the information sharing policy has been discarded",
        "discarded",
        {"version": version, "link": absolute_url(version.get_absolute_url())},
    )


def send_review_triggered(trigger: ReviewTrigger) -> None:
    """To the school's DPOs, who keep the policy up to date (10.1)."""
    _send(
        members_holding(trigger.organisation, Role.DPO),
        "The information sharing policy needs an early review",
        "review_triggered",
        {
            "trigger": trigger,
            "link": absolute_url(reverse("policy:new", kwargs={"org": trigger.organisation.slug})),
        },
        exclude=trigger.recorded_by,
    )


def _link(version: PolicyVersion, name: str) -> str:
    return absolute_url(
        reverse(name, kwargs={"org": version.organisation.slug, "version": version.uuid})
    )


def _home(version: PolicyVersion) -> str:
    return absolute_url(reverse("policy:home", kwargs={"org": version.organisation.slug}))


def _send(
    people: Iterable[User],
    subject: str,
    template: str,
    context: dict[str, object],
    *,
    exclude: User | None = None,
) -> None:
    record = context.get("version") or context["trigger"]
    organisation = record.organisation  # type: ignore[attr-defined]
    body = render_to_string(
        f"governance/policy/emails/{template}.txt", {**context, "organisation": organisation.name}
    )
    send_to_each(people, subject, body, exclude=exclude)
