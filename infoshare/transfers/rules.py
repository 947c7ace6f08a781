"""Who may send secure transfers (issue 9).

Anyone who may record a decision to share may send what it decided, except
an auditor, who gives read-only oversight and never handles the data. Which
transfers a person sees is a queryset filter (`Transfer.objects.for_user`):
the ones they sent, or every one of the school's for the DPO.
"""

from __future__ import annotations

import rules

from infoshare.core.rules import is_member
from infoshare.decisions.rules import is_not_only_auditor

can_send_transfers = is_member & is_not_only_auditor

rules.add_perm("transfers.send_transfers", can_send_transfers)
