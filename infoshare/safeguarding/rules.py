"""Who may use the safeguarding protocol (issue 6, "Who sees what — strictly").

Which records a person may read is a queryset filter
(`Share.objects.for_user`): a role never opens a record by itself, except
a DSL's or deputy DSL's.
"""

from __future__ import annotations

from typing import Any

import rules

from infoshare.core.models import Organisation
from infoshare.core.rules import roles_in
from infoshare.safeguarding.models import leads_safeguarding, may_receive_safeguarding


@rules.predicate
def is_safeguarding_lead(user: Any, organisation: Organisation | None) -> bool:
    return leads_safeguarding(user, organisation)


@rules.predicate
def works_in_school(user: Any, organisation: Organisation | None) -> bool:
    """A member who may receive safeguarding information (not a DPO or auditor only)."""
    return may_receive_safeguarding(roles_in(user, organisation))


# The DSL and deputies share, answer requests, and see every record and its readers.
can_lead_safeguarding = is_safeguarding_lead
# Anyone who could be shared with opens the pages that list what was shared with them.
can_open_safeguarding = works_in_school

rules.add_perm("safeguarding.lead_safeguarding", can_lead_safeguarding)
rules.add_perm("safeguarding.open_safeguarding", can_open_safeguarding)
