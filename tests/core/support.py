"""Helpers shared by the tests of every app."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from django.core import mail

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Membership, Organisation, RoleAssignment, User

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    # pytest-django's django_capture_on_commit_callbacks
    Capture = Callable[..., AbstractContextManager[list[Callable[[], object]]]]


def snapshot() -> dict[str, Any]:
    """Everything a refused service call must leave untouched."""
    return {
        "users": User.objects.count(),
        "usable_passwords": sorted(u.pk for u in User.objects.all() if u.has_usable_password()),
        "memberships": Membership.objects.count(),
        "ended": Membership.objects.filter(ended_at__isnull=False).count(),
        "roles": sorted(RoleAssignment.objects.values_list("membership_id", "role")),
        "organisations": Organisation.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "emails": len(mail.outbox),
    }


def told(capture: Capture, step: Callable[[], object]) -> dict[str, list[str]]:
    """Take `step`, run what waits for the commit, and return who was told what, by subject."""
    mail.outbox.clear()
    with capture(execute=True):
        step()
    messages: dict[str, list[str]] = {}
    for message in mail.outbox:
        # One message a person: nobody learns who else was told.
        assert len(message.to) == 1
        assert message.cc == []
        assert message.bcc == []
        messages.setdefault(str(message.subject), []).append(message.to[0])
    return {subject: sorted(people) for subject, people in messages.items()}


def changes_of(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.changes)


def last_event(verb: str, **filters: Any) -> AuditEvent:
    event = AuditEvent.objects.filter(verb=verb, **filters).order_by("-id").first()
    assert event is not None, f"no audit event {verb!r} with {filters}"
    return event


def assert_chain_intact(organisation: Organisation | None) -> None:
    """Sequence numbers without gaps, each event pointing at its predecessor's hash."""
    events = list(AuditEvent.objects.filter(organisation=organisation).order_by("sequence"))
    for previous, event in pairwise(events):
        assert event.sequence == previous.sequence + 1
        assert event.prev_hash == previous.hash


class _LinkCollector(HTMLParser):
    """Collects (text, href) of the links inside the element matching `selector`."""

    def __init__(self, tag: str, attribute: str, value: str) -> None:
        super().__init__()
        self.tag, self.attribute, self.value = tag, attribute, value
        self.depth = 0  # > 0 while inside the wanted element
        self.found = False
        self.links: list[dict[str, Any]] = []
        self._link: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.depth:
            if tag == self.tag:
                self.depth += 1
            if tag == "a":
                self._link = {"href": attributes.get("href"), "text": "", "attrs": attributes}
        elif tag == self.tag and attributes.get(self.attribute) == self.value:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "a" and self._link is not None:
            self._link["text"] = " ".join(self._link["text"].split())
            self.links.append(self._link)
            self._link = None
        elif tag == self.tag:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link["text"] += data


def links_inside(html: str, tag: str, attribute: str, value: str) -> list[dict[str, Any]] | None:
    """The links inside the first <tag attribute="value">, or None when there is none."""
    parser = _LinkCollector(tag, attribute, value)
    parser.feed(html)
    return parser.links if parser.found else None


def element_text(html: str, element_id: str) -> str | None:
    """The text inside the element with `id`, or None when there is none."""

    class Finder(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.tag = ""
            self.text: list[str] = []
            self.found = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if self.depth:
                if tag == self.tag:
                    self.depth += 1
            elif dict(attrs).get("id") == element_id:
                self.depth, self.tag, self.found = 1, tag, True

        def handle_endtag(self, tag: str) -> None:
            if self.depth and tag == self.tag:
                self.depth -= 1

        def handle_data(self, data: str) -> None:
            if self.depth:
                self.text.append(data)

    finder = Finder()
    finder.feed(html)
    return " ".join("".join(finder.text).split()) if finder.found else None
