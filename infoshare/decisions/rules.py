"""Who may record, read, correct and review decisions (issue 3, "Who sees what").

Which decisions a person may read is a queryset filter
(`Decision.objects.for_user`), so that lists and single pages agree.
"""

from __future__ import annotations

from typing import Any

import rules

from infoshare.core.models import Organisation, Role
from infoshare.core.rules import is_dpo, is_headteacher, is_member, roles_in


@rules.predicate
def is_not_only_auditor(user: Any, organisation: Organisation | None) -> bool:
    # Auditors give read-only oversight: they do not record decisions themselves.
    return bool(roles_in(user, organisation) - {Role.AUDITOR})


can_view_decisions = is_member
can_record_decision = is_member & is_not_only_auditor
can_review_disclosures = is_dpo
# Correcting someone else's record: the DPO or headteacher (the maker may always).
can_correct_any_decision = is_dpo | is_headteacher

rules.add_perm("decisions.view_decisions", can_view_decisions)
rules.add_perm("decisions.record_decision", can_record_decision)
rules.add_perm("decisions.review_disclosures", can_review_disclosures)
