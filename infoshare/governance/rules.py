"""Who may read and keep the information asset register (policy 9.9), and the policy itself."""

from __future__ import annotations

import rules

from infoshare.core.rules import (
    is_auditor,
    is_chair,
    is_dpo,
    is_headteacher,
    is_information_manager,
    is_member,
)
from infoshare.safeguarding.rules import works_in_school

can_view_assets = is_member
# "The DPO will review and update the school's Information Asset Register"
# (9.9); the information manager keeps the register day to day.
can_manage_assets = is_dpo | is_information_manager

rules.add_perm("governance.view_assets", can_view_assets)
rules.add_perm("governance.manage_assets", can_manage_assets)

# --- The information sharing policy (sections 9 and 10) -------------------------------
# "The Data Protection Officer is responsible for ensuring that this policy remains up
# to date and accurate" (10.1): the DPO drafts its versions. The headteacher and chair
# decide (9.1): they approve, never a version they drafted themselves (DESIGN.md
# section 1, separation of duties: it matters for someone holding both roles).
can_draft_policy = is_dpo
can_approve_policy = is_headteacher | is_chair
# Whoever answers for the policy may say something happened that calls for a review.
can_record_policy_trigger = is_dpo | is_headteacher | is_chair
can_read_policy = is_member
# Everyone who works in the school reads and acknowledges it; a DPO or auditor who only
# oversees the school from outside does not.
can_acknowledge_policy = works_in_school
# Those who answer for the policy, and oversight, see drafts and who has acknowledged.
can_view_acknowledgements = is_dpo | is_headteacher | is_chair | is_auditor
can_see_policy_drafts = can_view_acknowledgements

rules.add_perm("governance.draft_policy", can_draft_policy)
rules.add_perm("governance.approve_policy", can_approve_policy)
rules.add_perm("governance.record_policy_trigger", can_record_policy_trigger)
rules.add_perm("governance.read_policy", can_read_policy)
rules.add_perm("governance.acknowledge_policy", can_acknowledge_policy)
rules.add_perm("governance.view_policy_acknowledgements", can_view_acknowledgements)
