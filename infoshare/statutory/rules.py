"""Who may read and keep the school's statutory sharing (policy section 5).

Roll changes name pupils, so they are read only by those who answer for the
school's records and its oversight; they are kept (recorded, imported,
notified) by the headteacher and the information manager, whose job the
notifications to the local authority and the returns to the DfE are.
"""

from __future__ import annotations

import rules

from infoshare.core.rules import (
    is_auditor,
    is_chair,
    is_dpo,
    is_headteacher,
    is_information_manager,
)

can_view_statutory = is_headteacher | is_information_manager | is_dpo | is_chair | is_auditor
can_keep_roll = is_headteacher | is_information_manager
can_keep_returns = is_headteacher | is_information_manager

rules.add_perm("statutory.view_statutory", can_view_statutory)
rules.add_perm("statutory.keep_roll", can_keep_roll)
rules.add_perm("statutory.keep_returns", can_keep_returns)
