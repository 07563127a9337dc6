"""Table tests of the commission, ledger and order rules (pure functions, no database)."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import create_app
from commerce.attribution import ledger_rules as lr
from commerce.attribution.rules import (
    ALREADY_CREDITED,
    BEYOND_PAID_DEPTH,
    CAP_REACHED,
    CREATOR,
    OWN_PURCHASE,
    PAID,
    SHARER,
    ZERO_RATE,
    CommissionPolicy,
    Credit,
    DepthNotAllowed,
    LineSale,
    check_paid_levels,
    prorate,
    split_commission,
)
from commerce.orders import rules as orules

BUYER, CREATOR_ID, A, B, C, D = 1, 2, 3, 4, 5, 6
DEFAULT = CommissionPolicy()  # 2 paid levels, cap 30%, upline earns 25% of the sharer rate


def sale(chain=(), *, base=10_000, buyer=BUYER, creator=CREATOR_ID, creator_bp=1000, sharer_bp=800):
    return LineSale(base, buyer, creator, creator_bp, sharer_bp, tuple(chain))


def paid(credits):
    return [(c.user_id, c.role, c.level, c.amount_minor, c.reason) for c in credits]


@pytest.mark.parametrize(
    ("line", "policy", "expected"),
    [
        pytest.param(
            sale(),
            DEFAULT,
            [(CREATOR_ID, CREATOR, 0, 1000, PAID)],
            id="creator only: 10% of the base",
        ),
        pytest.param(
            sale([B, A]),
            DEFAULT,
            [
                (CREATOR_ID, CREATOR, 0, 1000, PAID),
                (B, SHARER, 1, 800, PAID),
                (A, SHARER, 2, 200, PAID),
            ],
            id="direct sharer gets the sharer rate, upline a quarter of it",
        ),
        pytest.param(
            sale([C, B, A]),
            DEFAULT,
            [
                (CREATOR_ID, CREATOR, 0, 1000, PAID),
                (C, SHARER, 1, 800, PAID),
                (B, SHARER, 2, 200, PAID),
                (A, SHARER, 3, 0, BEYOND_PAID_DEPTH),
            ],
            id="third level is credit, never paid",
        ),
        pytest.param(
            sale([B, A]),
            CommissionPolicy(paid_levels=1),
            [
                (CREATOR_ID, CREATOR, 0, 1000, PAID),
                (B, SHARER, 1, 800, PAID),
                (A, SHARER, 2, 0, BEYOND_PAID_DEPTH),
            ],
            id="one paid level",
        ),
        pytest.param(
            sale([B]),
            CommissionPolicy(paid_levels=0),
            [(CREATOR_ID, CREATOR, 0, 1000, PAID), (B, SHARER, 1, 0, BEYOND_PAID_DEPTH)],
            id="no paid levels: the creator fee is not a level",
        ),
        pytest.param(
            sale([B], creator=BUYER),
            DEFAULT,
            [(BUYER, CREATOR, 0, 0, OWN_PURCHASE), (B, SHARER, 1, 800, PAID)],
            id="creator buying their own product earns nothing",
        ),
        pytest.param(
            sale([BUYER, A]),
            DEFAULT,
            [
                (CREATOR_ID, CREATOR, 0, 1000, PAID),
                (BUYER, SHARER, 1, 0, OWN_PURCHASE),
                (A, SHARER, 2, 200, PAID),
            ],
            id="buyer in the chain earns nothing on their own purchase",
        ),
        pytest.param(
            sale([B, A, B]),
            CommissionPolicy(paid_levels=2),
            [
                (CREATOR_ID, CREATOR, 0, 1000, PAID),
                (B, SHARER, 1, 800, PAID),
                (A, SHARER, 2, 200, PAID),
                (B, SHARER, 3, 0, ALREADY_CREDITED),
            ],
            id="a person twice in the chain is paid once",
        ),
        pytest.param(
            sale([CREATOR_ID, A]),
            DEFAULT,
            [
                (CREATOR_ID, CREATOR, 0, 1000, PAID),
                (CREATOR_ID, SHARER, 1, 0, ALREADY_CREDITED),
                (A, SHARER, 2, 200, PAID),
            ],
            id="creator sharing their own video is paid once, as creator",
        ),
        pytest.param(
            sale([B, A], creator_bp=2500, sharer_bp=1000),
            DEFAULT,
            [
                (CREATOR_ID, CREATOR, 0, 2500, PAID),
                (B, SHARER, 1, 500, PAID),
                (A, SHARER, 2, 0, CAP_REACHED),
            ],
            id="cap: upper levels get only the remainder",
        ),
        pytest.param(
            sale([B], base=999, creator_bp=333, sharer_bp=1),
            DEFAULT,
            [(CREATOR_ID, CREATOR, 0, 33, PAID), (B, SHARER, 1, 0, ZERO_RATE)],
            id="amounts round down to whole minor units",
        ),
        pytest.param(
            sale([B], creator=None),
            DEFAULT,
            [(B, SHARER, 1, 800, PAID)],
            id="bought without content: no creator fee",
        ),
        pytest.param(
            sale([B, A], base=0),
            DEFAULT,
            [
                (CREATOR_ID, CREATOR, 0, 0, ZERO_RATE),
                (B, SHARER, 1, 0, ZERO_RATE),
                (A, SHARER, 2, 0, ZERO_RATE),
            ],
            id="a free line pays nothing",
        ),
    ],
)
def test_split_commission(line, policy, expected):
    assert paid(split_commission(line, policy)) == expected


@pytest.mark.parametrize("levels", [3, 4, -1])
def test_paid_depth_above_two_is_refused_with_the_reason(levels):
    with pytest.raises(DepthNotAllowed, match="禁止传销条例"):
        check_paid_levels(levels)


def test_app_refuses_to_start_with_three_paid_levels(tmp_path):
    with pytest.raises(RuntimeError, match="pyramid selling"):
        create_app({"COMMISSION_PAID_LEVELS": 3, "SECRET_KEY": "x", "TESTING": True})


@given(
    base=st.integers(0, 10**9),
    creator_bp=st.integers(0, 10_000),
    sharer_bp=st.integers(0, 10_000),
    chain=st.lists(st.integers(1, 8), max_size=6),
    creator=st.one_of(st.none(), st.integers(1, 8)),
    buyer=st.integers(1, 8),
    levels=st.integers(0, 2),
    cap_bp=st.integers(0, 10_000),
)
def test_commission_invariants(base, creator_bp, sharer_bp, chain, creator, buyer, levels, cap_bp):
    policy = CommissionPolicy(paid_levels=levels, cap_bp=cap_bp)
    credits = split_commission(
        LineSale(base, buyer, creator, creator_bp, sharer_bp, tuple(chain)), policy
    )
    paid_credits = [c for c in credits if c.amount_minor > 0]
    assert sum(c.amount_minor for c in credits) <= base * cap_bp // 10_000
    assert all(c.user_id != buyer for c in paid_credits)
    assert len({c.user_id for c in paid_credits}) == len(paid_credits)
    assert all(c.level <= levels for c in paid_credits if c.role == SHARER)
    assert len(credits) == len(chain) + (creator is not None)  # the whole chain is credited
    assert all(isinstance(c, Credit) and c.amount_minor >= 0 for c in credits)


@pytest.mark.parametrize(
    ("amount", "remaining", "original", "expected"),
    [(800, 10_000, 10_000, 800), (800, 5_000, 10_000, 400), (801, 5_000, 10_000, 400),
     (800, 0, 10_000, 0), (800, 12_000, 10_000, 800), (800, 5, 0, 0)],
)  # fmt: skip
def test_prorate(amount, remaining, original, expected):
    assert prorate(amount, remaining, original) == expected


# Ledger postings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pending", "earned", "new", "expected"),
    [
        (1000, 1000, 500, [("pending", -500), ("cancelled", 500)]),
        (1000, 1000, 0, [("pending", -1000), ("cancelled", 1000)]),
        (0, 1000, 400, [("available", -600), ("cancelled", 600)]),
        (300, 1000, 0,
         [("pending", -300), ("cancelled", 300), ("available", -700), ("cancelled", 700)]),
        (1000, 1000, 1000, []),
        (0, 0, 0, []),
    ],
)  # fmt: skip
def test_reduce_commission_takes_pending_first(pending, earned, new, expected):
    postings = lr.reduce_commission(pending, earned, new)
    assert [(p.bucket, p.amount_minor) for p in postings] == expected
    assert sum(p.amount_minor for p in postings) == 0


@pytest.mark.parametrize(
    ("available", "amount", "minimum", "refusal"),
    [(-1, 10, 1, "negative_balance"), (100, 5, 10, "below_minimum"), (100, 0, 0, "below_minimum"),
     (100, 101, 10, "above_available")],
)  # fmt: skip
def test_payout_refusals(available, amount, minimum, refusal):
    with pytest.raises(lr.PayoutRefused) as info:
        lr.payout(available, amount, minimum)
    assert info.value.reason == refusal


def test_payout_moves_available_to_paid():
    postings = lr.payout(5000, 3000, 1000)
    assert lr.balances(postings) == {"pending": 0, "available": -3000, "paid": 3000, "cancelled": 0}


# Order rules -----------------------------------------------------------------------------

S = orules
LEGAL = [
    (S.PENDING_PAYMENT, S.PAID), (S.PENDING_PAYMENT, S.CANCELLED), (S.PAID, S.SHIPPED),
    (S.SHIPPED, S.DELIVERED), (S.DELIVERED, S.COMPLETED), (S.PAID, S.REFUNDED),
    (S.SHIPPED, S.PARTIALLY_REFUNDED), (S.COMPLETED, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.REFUNDED), (S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED),
]  # fmt: skip
ILLEGAL = [
    (S.PENDING_PAYMENT, S.SHIPPED), (S.PENDING_PAYMENT, S.REFUNDED), (S.PAID, S.DELIVERED),
    (S.PAID, S.PENDING_PAYMENT), (S.CANCELLED, S.PAID), (S.REFUNDED, S.PAID),
    (S.DELIVERED, S.SHIPPED), (S.SHIPPED, S.CANCELLED), (S.COMPLETED, S.SHIPPED),
]  # fmt: skip


@pytest.mark.parametrize(("current", "wanted"), LEGAL)
def test_legal_transitions(current, wanted):
    assert S.check_transition(current, wanted, fulfilment=S.PAID) == wanted


@pytest.mark.parametrize(("current", "wanted"), ILLEGAL)
def test_illegal_transitions_are_errors(current, wanted):
    with pytest.raises(S.IllegalTransition):
        S.check_transition(current, wanted)


@pytest.mark.parametrize(
    ("fulfilment", "wanted", "ok"),
    [(S.PAID, S.SHIPPED, True), (S.PAID, S.DELIVERED, False), (S.SHIPPED, S.DELIVERED, True),
     (S.SHIPPED, S.SHIPPED, False), (S.DELIVERED, S.COMPLETED, True)],
)  # fmt: skip
def test_partly_refunded_order_steps_forward_only(fulfilment, wanted, ok):
    if ok:
        assert S.check_transition(S.PARTIALLY_REFUNDED, wanted, fulfilment=fulfilment) == wanted
    else:
        with pytest.raises(S.IllegalTransition):
            S.check_transition(S.PARTIALLY_REFUNDED, wanted, fulfilment=fulfilment)


@pytest.mark.parametrize(
    ("state", "fulfilment", "step"),
    [(S.PAID, S.PAID, "ship"), (S.SHIPPED, S.SHIPPED, "deliver"),
     (S.DELIVERED, S.DELIVERED, "confirm"), (S.COMPLETED, S.COMPLETED, None),
     (S.PENDING_PAYMENT, S.PAID, None), (S.CANCELLED, S.PAID, None), (S.REFUNDED, S.SHIPPED, None),
     # A partial refund keeps the order where fulfilment stood: after shipping it waits for
     # delivery, never for shipping again.
     (S.PARTIALLY_REFUNDED, S.PAID, "ship"), (S.PARTIALLY_REFUNDED, S.SHIPPED, "deliver"),
     (S.PARTIALLY_REFUNDED, S.DELIVERED, "confirm"), (S.PARTIALLY_REFUNDED, S.COMPLETED, None)],
)  # fmt: skip
def test_the_step_an_order_waits_for(state, fulfilment, step):
    assert S.next_step(state, fulfilment) == step


@pytest.mark.parametrize(
    ("state", "request_state", "may"),
    [(S.PAID, "", True), (S.SHIPPED, S.REQUEST_DECLINED, True),
     (S.COMPLETED, S.REQUEST_APPROVED, True), (S.PARTIALLY_REFUNDED, "", True),
     (S.PAID, S.REQUEST_OPEN, False),
     (S.PENDING_PAYMENT, "", False), (S.REFUNDED, "", False), (S.CANCELLED, "", False)],
)  # fmt: skip
def test_who_may_ask_for_a_refund(state, request_state, may):
    assert S.may_request_refund(state, request_state) is may


NOON = datetime(2026, 11, 23, 12, 0)
FLASH = S.FlashWindow(price_minor=500, starts_at=NOON, ends_at=NOON + timedelta(minutes=10),
                      quantity=100, sold=0)  # fmt: skip


@pytest.mark.parametrize(
    ("now", "flash", "price"),
    [(NOON - timedelta(seconds=1), FLASH, 1290), (NOON, FLASH, 500),
     (NOON + timedelta(minutes=10), FLASH, 1290), (NOON, None, 1290),
     (NOON, S.FlashWindow(500, NOON, NOON + timedelta(minutes=10), 100, 100), 1290)],
)  # fmt: skip
def test_flash_price_follows_the_server_clock(now, flash, price):
    assert S.unit_price(1290, flash, now) == price


@pytest.mark.parametrize(
    ("paid", "refunded", "state"),
    [(1000, 1000, S.REFUNDED), (1000, 1, S.PARTIALLY_REFUNDED)],
)
def test_refund_state(paid, refunded, state):
    assert S.refund_state(paid, refunded) == state


@pytest.mark.parametrize(("paid", "refunded"), [(1000, 0), (1000, 1001), (1000, -5)])
def test_refund_state_refuses_impossible_amounts(paid, refunded):
    with pytest.raises(ValueError):
        S.refund_state(paid, refunded)


@given(
    lines=st.lists(st.integers(0, 10**6), min_size=1, max_size=6),
    fraction=st.fractions(0, 1),
)
def test_line_refund_shares_add_up_and_stay_within_each_line(lines, fraction):
    refund = int(sum(lines) * fraction)
    shares = S.line_refund_shares(lines, refund)
    assert sum(shares) == refund
    assert all(0 <= share <= amount for share, amount in zip(shares, lines, strict=True))
