"""Demo safeguarding records for `seed_demo`, made through the services and signed as a
school's staff would sign them: acknowledged and filed, awaiting acknowledgement,
withdrawn, and one with a request to share further waiting for the DSL.

The demo accounts have no authenticator app (each person sets one up at first
sign-in), so they sign with the demo password; that is possible only where
privileged roles are not made to use a second factor, as on a developer's
machine. Elsewhere the demo has no safeguarding records.
"""

from __future__ import annotations

from django.conf import settings

from infoshare.core.emails import members_holding
from infoshare.core.models import Organisation, Person, PersonKind, Role, User
from infoshare.safeguarding import services
from infoshare.safeguarding.models import FileKind, ReshareKind, Share

DEMO_ROLES = (
    Role.DSL,
    Role.DEPUTY_DSL,
    Role.STAFF,
    Role.VOLUNTEER,
    Role.HEADTEACHER,
    Role.INFORMATION_MANAGER,
)


def seed_safeguarding(school: Organisation, *, password: str) -> None:
    """Four records about the school's pupils, unless it has records already."""
    if settings.INFOSHARE_REQUIRE_MFA or Share.objects.filter(organisation=school).exists():
        return
    holders = {role: members_holding(school, role) for role in DEMO_ROLES}
    pupils = list(Person.objects.in_organisation(school).filter(kind=PersonKind.PUPIL)[3:6])
    if not all(holders.values()) or len(pupils) < 3:
        return
    dsl, deputy, staff, volunteer, head, manager = (holders[role][0] for role in DEMO_ROLES)

    def sign(user: User) -> services.Signing:
        return services.Signing(name=user.name, confirmed=True, secret=password)

    def share(lead: User, recipient: User, pupil: Person, file: str, what: str) -> Share:
        answers = services.ShareAnswers(
            pupil=pupil,
            file_kind=FileKind.CHILD_PROTECTION
            if file.startswith("CP")
            else FileKind.CHILD_IN_NEED,
            file_reference=file,
            description=what,
            recipient=recipient,
        )
        return services.share_information(school, actor=lead, answers=answers, signing=sign(lead))

    told_teacher = share(
        dsl,
        staff,
        pupils[0],
        "CP-2031",
        "The pupil is subject to a child protection plan; signs of neglect to watch for in class.",
    )
    services.acknowledge_share(told_teacher, actor=staff, signing=sign(staff))
    services.request_reshare(
        told_teacher,
        actor=staff,
        answers=services.ReshareAnswers(
            kind=ReshareKind.EXTERNAL,
            outside_organisation_name="Eastmoor Child and Adolescent Mental Health Service",
            outside_person="Duty clinician",
            reason="The pupil has been referred and the clinician has asked what the school sees.",
        ),
    )
    share(
        dsl,
        volunteer,
        pupils[1],
        "CIN-0457",
        "Contact arrangements with the father have changed; who may collect the pupil.",
    )
    told_head = share(
        deputy,
        head,
        pupils[2],
        "CP-2044",
        "Outcome of the strategy meeting and the agreed plan for the school.",
    )
    told_head = services.acknowledge_share(told_head, actor=head, signing=sign(head))
    services.record_attached_to_file(told_head, actor=deputy)
    mistaken = share(
        deputy, manager, pupils[2], "CP-2044", "Outcome of the strategy meeting (sent in error)."
    )
    services.withdraw_share(mistaken, actor=deputy, reason="Shared with the wrong colleague.")
