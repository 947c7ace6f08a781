"""Who may draft, advise on, approve, keep, review and terminate agreements (issue 5).

Organisation-level predicates take (user, organisation); whether a person may
act on one agreement (its drafter, say) is asked of the agreement in
`services.actions_for`, so that the pages and the services agree.
"""

from __future__ import annotations

import rules

from infoshare.core.rules import (
    is_chair,
    is_dpo,
    is_headteacher,
    is_information_manager,
    is_member,
)
from infoshare.decisions.rules import is_not_only_auditor

can_view_agreements = is_member
# Any member may draft, except an auditor, whose oversight is read-only.
can_draft_agreement = is_member & is_not_only_auditor
# The DPO advises on the content but does not approve (Appendix A step 5).
can_advise_on_agreement = is_dpo
# "All information sharing agreements must be sent to the Headteacher or Chair
# of Governors for oversight and approval" (step 5); they also decide to end one.
can_approve_agreement = is_headteacher | is_chair
can_terminate_agreement = is_headteacher | is_chair
# Those who keep the register (DESIGN.md section 1): they record signatures,
# carry out the annual review and confirm what happened to the data.
can_keep_register = is_dpo | is_information_manager | is_headteacher | is_chair

rules.add_perm("agreements.view_agreements", can_view_agreements)
rules.add_perm("agreements.draft_agreement", can_draft_agreement)
rules.add_perm("agreements.advise_on_agreement", can_advise_on_agreement)
rules.add_perm("agreements.approve_agreement", can_approve_agreement)
rules.add_perm("agreements.terminate_agreement", can_terminate_agreement)
rules.add_perm("agreements.keep_register", can_keep_register)
