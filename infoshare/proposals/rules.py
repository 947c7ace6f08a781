"""Who may draft, assess, advise on and decide sharing proposals (issue 4, "Who does what").

Organisation-level predicates take (user, organisation); whether a person may
act on one proposal (its author, say) is asked of the proposal in
`services.py`, so that the pages and the services agree.
"""

from __future__ import annotations

import rules

from infoshare.core.rules import is_chair, is_dpo, is_headteacher, is_member
from infoshare.decisions.rules import is_not_only_auditor

can_view_proposals = is_member
# Any member may draft, except an auditor, whose oversight is read-only.
can_draft_proposal = is_member & is_not_only_auditor
# The DPO advises, never approves (policy 9.7).
can_assess_proposal = is_dpo
# The data controller's representatives decide (policy 9.8, Appendix A step 3).
can_decide_proposal = is_headteacher | is_chair

rules.add_perm("proposals.view_proposals", can_view_proposals)
rules.add_perm("proposals.draft_proposal", can_draft_proposal)
rules.add_perm("proposals.assess_proposal", can_assess_proposal)
rules.add_perm("proposals.decide_proposal", can_decide_proposal)
