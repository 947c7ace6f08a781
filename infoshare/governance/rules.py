"""Who may read and keep the information asset register (policy 9.9)."""

from __future__ import annotations

import rules

from infoshare.core.rules import is_dpo, is_information_manager, is_member

can_view_assets = is_member
# "The DPO will review and update the school's Information Asset Register"
# (9.9); the information manager keeps the register day to day.
can_manage_assets = is_dpo | is_information_manager

rules.add_perm("governance.view_assets", can_view_assets)
rules.add_perm("governance.manage_assets", can_manage_assets)
