"""Action names and readable changes on the audit page."""

from __future__ import annotations

import pytest

from infoshare.audit.labels import VERB_LABELS, describe_changes, verb_label

KNOWN_VERBS = [
    "organisation.created", "membership.invited", "membership.invitation_resent",
    "membership.invitation_accepted", "membership.roles_changed", "membership.removed",
    "account.logged_in", "account.logged_out", "account.login_failed", "account.mfa_added",
    "account.mfa_removed", "account.password_changed",
]


@pytest.mark.parametrize("verb", KNOWN_VERBS)
def test_every_known_verb_has_a_label(verb):
    assert verb in VERB_LABELS
    assert verb_label(verb) == VERB_LABELS[verb]
    assert "." not in verb_label(verb)
    assert "_" not in verb_label(verb)


@pytest.mark.parametrize(
    ("verb", "label"),
    [
        ("transfer_package.review_started", "Transfer package: review started"),
        ("safeguarding_share.acknowledged", "Safeguarding share: acknowledged"),
        ("transfer", "Transfer"),
    ],
)
def test_unknown_verbs_are_made_readable(verb, label):
    assert verb_label(verb) == label


def test_changes_read_as_fields_and_values():
    assert describe_changes(
        '{"acting_for":null,"email":"a@b.test","roles":["dpo","staff"],"urgent":false}'
    ) == [
        ("Acting for", "none"),
        ("Email", "a@b.test"),
        ("Roles", "Data protection officer, Staff"),
        ("Urgent", "no"),
    ]


def test_a_before_and_after_pair_reads_as_a_change():
    assert describe_changes('{"roles":[["staff"],["chair","staff"]]}') == [
        ("Roles", "Staff → Chair of governors, Staff")
    ]
    assert describe_changes('{"status":["draft","approved"],"n":3}') == [
        ("Status", "draft, approved"), ("N", "3")
    ]


def test_nested_and_odd_changes_are_still_shown():
    assert describe_changes('{"party":{"name":"LA","kind":"local_authority"}}') == [
        ("Party", "Name: LA; Kind: local_authority")
    ]
    assert describe_changes("{}") == []
    assert describe_changes("[1,2]") == [("Details", "1, 2")]
    assert describe_changes("not json") == [("Details", "not json")]
