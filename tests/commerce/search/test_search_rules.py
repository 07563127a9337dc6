"""The search rules by tables: normalising, tokens, query terms, match expressions, the limit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commerce.search import rules
from commerce.search.segment import words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café", "cafe"),
        ("ＡＢＣ１２", "abc12"),  # full-width letters and digits
        ("STRASSE", "strasse"),
        ("夏季碎花连衣裙", "夏季碎花连衣裙"),
        ("Ñandú", "nandu"),
    ],
)
def test_normalise(text, expected):
    assert rules.normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # jieba's words, every character and every pair of neighbours
        ("夏季碎花连衣裙", {"夏季", "碎花", "连衣裙", "连衣", "衣裙", "裙", "花连"}, {"夏季碎花"}),
        ("Summer dress, T-shirt", {"summer", "dress", "t", "shirt"}, {"t-shirt", ","}),
        ("iPhone手机壳", {"iphone", "手机", "机壳", "壳"}, {"iphone手机壳"}),
        ("a_b", {"a", "b"}, {"a_b", "_"}),
        ("", set(), {""}),
    ],
)
def test_document_tokens(text, present, absent):
    tokens = rules.document_tokens(text, words)
    assert present <= set(tokens)
    assert not absent & set(tokens)
    assert len(tokens) == len(set(tokens))  # each once


@pytest.mark.parametrize(
    ("q", "terms"),
    [
        ("连衣裙", [rules.Term(("连衣", "衣裙"))]),
        ("裙", [rules.Term(("裙",))]),
        ("Dres", [rules.Term(("dres",), prefix=True)]),
        ("a", [rules.Term(("a",))]),  # one letter: exact, not a prefix of everything
        (
            "连衣裙 dress 连衣裙",
            [rules.Term(("连衣", "衣裙")), rules.Term(("dress",), prefix=True)],
        ),
        ("!!! ???", []),
        (" ".join(f"w{i}" for i in range(20)), [rules.Term((f"w{i}",), True) for i in range(8)]),
    ],
)
def test_query_terms(q, terms):
    assert rules.query_terms(q) == terms


def test_every_chinese_substring_of_two_or_more_characters_is_found():
    tokens = set(rules.document_tokens("夏季碎花连衣裙", words))
    title = "夏季碎花连衣裙"
    for start in range(len(title)):
        for end in range(start + 1, len(title) + 1):
            for term in rules.query_terms(title[start:end]):
                assert set(term.tokens) <= tokens, title[start:end]


@pytest.mark.parametrize(
    ("q", "tsquery", "fts5"),
    [
        ("连衣裙", "'连衣' & '衣裙'", '"连衣" AND "衣裙"'),
        ("red Dress", "'red':* & 'dress':*", '"red"* AND "dress"*'),
        ("裙 x", "'裙' & 'x'", '"裙" AND "x"'),
        ("o'neil", "'o' & 'neil':*", '"o" AND "neil"*'),
    ],
)
def test_match_expressions(q, tsquery, fts5):
    terms = rules.query_terms(q)
    assert rules.tsquery(terms) == tsquery
    assert rules.fts5_match(terms) == fts5
    assert "'" not in "".join(t for term in terms for t in term.tokens)  # nothing to escape


@pytest.mark.parametrize(
    ("q", "problem"),
    [
        ("", rules.EMPTY),
        ("   ", rules.EMPTY),
        ("x" * 101, rules.TOO_LONG),
        ("x" * 100, None),
        ("?!", rules.NO_WORDS),
        ("连衣裙", None),
    ],
)
def test_query_problem(q, problem):
    assert rules.query_problem(q) == problem


T0 = datetime(2026, 1, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("window", "now", "limit", "admitted", "count"),
    [
        (None, T0, 2, True, 1),
        (rules.Window(T0, 1), T0 + timedelta(seconds=5), 2, True, 2),
        (rules.Window(T0, 2), T0 + timedelta(seconds=59), 2, False, 2),
        (rules.Window(T0, 2), T0 + timedelta(seconds=60), 2, True, 1),  # a new window
        (rules.Window(T0, 2), T0 - timedelta(seconds=1), 2, True, 1),  # the clock went back
        (None, T0, 0, False, 0),
    ],
)
def test_admit(window, now, limit, admitted, count):
    kept, ok = rules.admit(window, now, limit)
    assert ok is admitted
    assert kept.count == count


def test_retry_after_counts_to_the_end_of_the_window():
    assert rules.retry_after(rules.Window(T0, 5), T0 + timedelta(seconds=59.5)) == 1
    assert rules.retry_after(rules.Window(T0, 5), T0 + timedelta(seconds=10)) == 50
