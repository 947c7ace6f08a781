"""What the daily digest (`manage.py send_reminders`, issue 7 item 5) remembers.

`ReminderDigest` is one person's digest of one day: its row is what makes a
second run on the same day send nothing new (one row per person and day).
`ReminderLock` is the lease that keeps runs one at a time on SQLite;
PostgreSQL uses an advisory lock instead (see `infoshare.reminders.digest`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReminderDigest(models.Model):
    """One person's digest of one day: claimed before it is sent, `sent_at` once it went.

    A row whose `sent_at` is empty was claimed by a run that stopped before
    the message was confirmed sent (a crash): that person may have missed
    the day's digest, and is never sent a second one that day.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminder_digests"
    )
    sent_on = models.DateField(help_text="The day (Europe/London) the digest is for.")
    items = models.PositiveIntegerField(help_text="How many things it listed.")
    overdue = models.PositiveIntegerField(help_text="How many of them were overdue.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_on", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "sent_on"], name="one_reminder_digest_per_person_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"Reminders for {self.user} on {self.sent_on:%-d %B %Y}"


class ReminderLock(models.Model):
    """The one row that a run of `send_reminders` takes as a lease (SQLite only).

    `taken_at` empty: free. A lease older than `digest.STALE_LEASE` is from a
    run that died without giving it back, and may be taken over.
    """

    holder = models.CharField(max_length=64, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Reminder lock held since {self.taken_at}" if self.taken_at else "Reminder lock"
