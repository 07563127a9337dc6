"""Pure comment rules, by tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commerce.comments import rules
from commerce.comments.rules import DELETED, HELD, HIDDEN, VISIBLE, Viewer

NOW = datetime(2026, 12, 5, 12, 0, 0)
AUTHOR, OTHER = 1, 2


@pytest.mark.parametrize(
    ("state", "viewer", "shown"),
    [
        (VISIBLE, Viewer(None), True),
        (HELD, Viewer(None), False),
        (HELD, Viewer(OTHER), False),
        (HELD, Viewer(AUTHOR), True),
        (HELD, Viewer(OTHER, is_staff=True), True),
        (DELETED, Viewer(OTHER), True),
    ],
)
def test_who_sees_a_comment(state, viewer, shown):
    assert rules.shown_to(state, AUTHOR, viewer) is shown


@pytest.mark.parametrize(
    ("state", "viewer", "may"),
    [
        (VISIBLE, Viewer(AUTHOR), True),
        (VISIBLE, Viewer(OTHER), False),
        (VISIBLE, Viewer(OTHER, is_staff=True), True),
        (HELD, Viewer(AUTHOR), True),
        (DELETED, Viewer(AUTHOR), False),
        (HIDDEN, Viewer(OTHER, is_staff=True), False),
        (VISIBLE, Viewer(None), False),
    ],
)
def test_who_removes_a_comment(state, viewer, may):
    assert rules.may_remove(state, AUTHOR, viewer) is may


@pytest.mark.parametrize(
    ("ages_s", "wait_s"),
    [
        ([], None),
        ([1, 2, 3, 4], None),
        ([1, 2, 3, 4, 5], 25),  # the oldest of the burst leaves the 30 s window in 25 s
        ([5, 10, 15, 20, 29, 40], 1),  # the post 40 s ago no longer counts
        ([60 + i * 50 for i in range(60)], 3600 - 60 - 59 * 50),  # the hourly cap
    ],
)
def test_posting_rate(ages_s, wait_s):
    wait = rules.post_wait([NOW - timedelta(seconds=a) for a in ages_s], NOW)
    assert (None if wait is None else round(wait.total_seconds())) == wait_s


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("no mention", []),
        ("@Ann hi", ["Ann"]),
        ("hi @Ann, @bob! @ann again", ["Ann", "bob"]),
        ("你好@小明，看这个", ["小明"]),
        ("mail a@b", ["b"]),
    ],
)
def test_mention_names(text, names):
    assert rules.mention_names(text) == names


def test_segments_link_mentions_longest_name_first():
    out = rules.segments("hi @Anna and @Ann <b>", [(1, "Ann"), (2, "Anna")])
    assert out == [
        {"text": "hi "},
        {"text": "@Anna", "user_id": 2},
        {"text": " and "},
        {"text": "@Ann", "user_id": 1},
        {"text": " <b>"},
    ]


def test_segments_keep_names_with_spaces():
    assert rules.segments("@User 2 yes", [(7, "User 2")]) == [
        {"text": "@User 2", "user_id": 7},
        {"text": " yes"},
    ]
