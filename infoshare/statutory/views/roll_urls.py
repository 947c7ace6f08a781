"""Roll changes and their notification to the local authority (policy 5.1).

Mounted at the root of `statutory`, after `import/` and `returns/`: a change is
addressed by its reference, so the fixed addresses come first.
"""

from django.urls import path

from infoshare.statutory.views import roll

urlpatterns = [
    path("", roll.roll_changes, name="roll_changes"),
    path("new/joined/", roll.record_joining, name="record_joining"),
    path("new/removed/", roll.record_removal, name="record_removal"),
    path("notify/", roll.notify, name="notify_roll_changes"),
    path("notifications.csv", roll.export_csv, name="roll_changes_csv"),
    path("letter.pdf", roll.letter, name="roll_changes_letter"),
    path("<str:reference>/", roll.detail, name="roll_change"),
    path("<str:reference>/withdraw/", roll.withdraw, name="withdraw_roll_change"),
]
