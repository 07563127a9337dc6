"""Coupon rules as tables: discounts, scope, min spend, best pick, stacking, allocation, base."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce.coupons.rules import (
    CREATOR,
    MERCHANT,
    PERCENT,
    PLATFORM,
    PRODUCTS,
    Candidate,
    Line,
    Rules,
    Terms,
    allocate,
    choose,
    evaluate,
    line_discounts,
    raw_discount,
    worse_for_buyer,
)

SHOP = 7
T0 = datetime(2026, 12, 1)


def amount(off, min_spend=0, funded_by=MERCHANT, merchant_id=SHOP, **kw):
    return Terms(
        "amount",
        amount_minor=off,
        min_spend_minor=min_spend,
        funded_by=funded_by,
        merchant_id=merchant_id,
        **kw,
    )


def percent(pct, cap, min_spend=0, funded_by=MERCHANT, **kw):
    return Terms(
        PERCENT,
        percent=pct,
        cap_minor=cap,
        min_spend_minor=min_spend,
        funded_by=funded_by,
        merchant_id=SHOP,
        **kw,
    )


@pytest.mark.parametrize(
    ("terms", "eligible", "expected"),
    [
        (amount(1000), 5000, 1000),
        (amount(1000, min_spend=5000), 4999, 0),  # under the minimum spend
        (amount(1000, min_spend=5000), 5000, 1000),  # exactly the minimum
        (percent(10, 500), 3000, 300),
        (percent(10, 500), 9000, 500),  # capped
        (percent(15, 10_000), 999, 149),  # rounded down
        (amount(1000), 0, 0),
    ],
)
def test_raw_discount(terms, eligible, expected):
    assert raw_discount(terms, eligible) == expected


@pytest.mark.parametrize(
    ("terms", "lines", "expected"),
    [
        # Scope: listed products only; the other line neither counts to min spend nor gets any.
        (
            amount(500, min_spend=3000, scope=PRODUCTS, product_ids=(1,)),
            [Line(1, 2000), Line(2, 5000)],
            None,
        ),
        (
            amount(500, min_spend=3000, scope=PRODUCTS, product_ids=(1,)),
            [Line(1, 3000), Line(2, 5000)],
            (500, 0),
        ),
        # Creator scope: lines bought from creator 9's content.
        (amount(300, scope=CREATOR, creator_id=9), [Line(1, 1000, 9), Line(2, 1000, 4)], (300, 0)),
        (amount(300, scope=CREATOR, creator_id=9), [Line(1, 1000, None)], None),
        # Another shop's coupon, or another currency, does not apply.
        (amount(300, merchant_id=8), [Line(1, 1000)], None),
        (
            Terms("amount", amount_minor=300, merchant_id=SHOP, currency="USD"),
            [Line(1, 1000)],
            None,
        ),
        # A fixed amount larger than the order leaves one minor unit per line to pay.
        (amount(5000), [Line(1, 1000), Line(2, 1000)], (999, 999)),
    ],
)
def test_scope_and_min_spend(terms, lines, expected):
    applied = evaluate(Candidate(1, terms), SHOP, "CNY", lines)
    assert (applied.shares if applied else None) == expected


def test_a_spent_budget_stops_redemptions():
    assert evaluate(Candidate(1, amount(500), budget_left=499), SHOP, "CNY", [Line(1, 900)]) is None
    assert evaluate(Candidate(1, amount(500), budget_left=500), SHOP, "CNY", [Line(1, 900)])


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        # The largest discount wins.
        ([(1, amount(500)), (2, percent(20, 2000))], [(2, 2000)]),
        ([(1, amount(500)), (2, percent(2, 2000))], [(1, 500)]),
        # Min spend not reached: the smaller applicable one is taken.
        ([(1, amount(3000, min_spend=20_000)), (2, amount(100))], [(2, 100)]),
        # Stacking: one merchant + one platform; two merchant coupons never stack.
        (
            [
                (1, amount(500)),
                (2, amount(400)),
                (3, amount(300, funded_by=PLATFORM, merchant_id=None)),
            ],
            [(1, 500), (3, 300)],
        ),
        # The platform coupon's minimum is judged after the shop coupon.
        (
            [
                (1, amount(1000)),
                (3, amount(300, min_spend=10_000, funded_by=PLATFORM, merchant_id=None)),
            ],
            [(1, 1000)],
        ),
        ([], []),
    ],
)
def test_best_pick_and_stacking(held, expected):
    lines = [Line(1, 6000), Line(2, 4000)]
    applied = choose([Candidate(i, t) for i, t in held], SHOP, "CNY", lines)
    assert [(a.coupon_id, a.discount_minor) for a in applied] == expected


def test_a_tie_goes_to_the_coupon_that_expires_first():
    soon = Candidate(2, amount(500), expires_at=T0)
    later = Candidate(1, amount(500), expires_at=T0 + timedelta(days=3))
    [applied] = choose([later, soon], SHOP, "CNY", [Line(1, 5000)])
    assert applied.coupon_id == 2


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [100, 100, 100], (34, 33, 33)),
        (10, [999, 1999, 2999], (2, 3, 5)),
        (0, [5, 5], (0, 0)),
        (7, [7, 0, 0], (7, 0, 0)),
        (5, [2, 2, 2], (2, 2, 1)),
    ],
)
def test_allocation_sums_exactly(total, weights, expected):
    parts = allocate(total, weights)
    assert parts == expected
    assert sum(parts) == total


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=20), st.data())
def test_allocation_never_exceeds_a_line_and_always_sums(weights, data):
    if sum(weights) == 0:
        return
    total = data.draw(st.integers(0, sum(weights)))
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(0 <= p <= w for p, w in zip(parts, weights, strict=True))


def test_line_discounts_are_kept_by_funder():
    lines = [Line(1, 6000), Line(2, 4000)]
    held = [
        Candidate(1, amount(1000)),
        Candidate(2, amount(500, funded_by=PLATFORM, merchant_id=None)),
    ]
    merchant, platform = line_discounts(choose(held, SHOP, "CNY", lines), 2)
    assert sum(merchant) == 1000 and sum(platform) == 500
    # The commission base (see OrderLine.commission_base_minor): paid + platform-funded part.
    paid = [line.amount_minor - m - p for line, m, p in zip(lines, merchant, platform, strict=True)]
    bases = [a + p for a, p in zip(paid, platform, strict=True)]
    assert bases == [line.amount_minor - m for line, m in zip(lines, merchant, strict=True)]
    assert sum(bases) == 10_000 - 1000  # merchant-funded lowers the base, platform's does not


RULES = Rules("amount", 500, 0, None, 3000, "shop", frozenset(), None, T0, None, T0, 100, 1, None)


@pytest.mark.parametrize(
    ("change", "worse"),
    [
        ({"amount_minor": 600}, []),
        ({"amount_minor": 400}, ["amount_minor"]),
        ({"min_spend_minor": 2000}, []),
        ({"min_spend_minor": 4000}, ["min_spend_minor"]),
        ({"valid_until": T0 + timedelta(days=1)}, []),
        ({"valid_until": T0 - timedelta(days=1)}, ["valid_until"]),
        ({"total": 50}, ["total"]),
        ({"per_person": 2}, []),
        ({"scope": "products", "product_ids": frozenset({1})}, ["scope"]),
        ({"budget_minor": 10_000}, ["budget_minor"]),  # unlimited -> limited
        ({"kind": "percent"}, ["kind"]),
        ({"audience": "followers"}, ["audience"]),
        ({"live_only": True}, ["live_only"]),
        ({"task": "watch", "watch_seconds": 30}, ["task"]),
    ],
)
def test_rules_change_only_in_the_buyers_favour(change, worse):
    from dataclasses import replace

    assert worse_for_buyer(RULES, replace(RULES, **change)) == worse
