"""Who may anonymise a dataset (issue 8, item 6).

Anyone who may record a decision or draft a proposal may anonymise the data
it concerns: a member of the school who is not only an auditor (auditors give
read-only oversight and never handle the data). Which runs a person sees is a
queryset filter (`AnonymisationRun.objects.for_user`): their own, or every run
for the DPO and the headteacher.
"""

from __future__ import annotations

import rules

from infoshare.core.rules import is_member
from infoshare.decisions.rules import is_not_only_auditor

can_anonymise = is_member & is_not_only_auditor

rules.add_perm("anonymise.anonymise", can_anonymise)
