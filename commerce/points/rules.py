"""Points rules as plain functions: what a purchase or a check-in earns, what points take off an
order (rate, caps, each line keeps a minor unit), how that splits over lines, what a refund gives
back or takes back, and what expires. Integer arithmetic only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from commerce.coupons.rules import allocate
from commerce.money import CURRENCY_EXPONENT

BP = 10_000


@dataclass(frozen=True)
class Terms:
    """The deployment's points settings (commerce/config.py, POINTS_*)."""

    currency: str = "CNY"  # points are earned and spent on orders in this currency only
    earn_per_major: int = 1  # points per ¥1 the buyer paid, after the hold
    share_per_major: int = 1  # points to the level-1 sharer per ¥1 bought through the link
    checkin_points: int = 10
    streak_step: int = 2  # extra points per day in a row...
    streak_days: int = 5  # ...for at most this many extra days
    spend_rate: int = 100  # points that take ¥1 off
    max_order_bp: int = 5_000  # at most this share of an order's total is paid in points
    max_order_points: int = 0  # and at most this many points per order (0: no such cap)
    hold_days: int = 7  # after delivery, before purchase points can be used
    expire_days: int = 365  # 0: never

    @property
    def minor_per_major(self) -> int:
        return int(10 ** CURRENCY_EXPONENT.get(self.currency, 2))


def terms_from_config(config: Mapping[str, Any]) -> Terms:
    return Terms(
        currency=config["POINTS_CURRENCY"] or config["DEFAULT_CURRENCY"],
        earn_per_major=config["POINTS_PER_YUAN"],
        share_per_major=config["POINTS_SHARE_PER_YUAN"],
        checkin_points=config["POINTS_CHECKIN"],
        streak_step=config["POINTS_CHECKIN_STREAK_STEP"],
        streak_days=config["POINTS_CHECKIN_STREAK_DAYS"],
        spend_rate=config["POINTS_SPEND_RATE"],
        max_order_bp=config["POINTS_MAX_ORDER_BP"],
        max_order_points=config["POINTS_MAX_ORDER_POINTS"],
        hold_days=config["POINTS_HOLD_DAYS"],
        expire_days=config["POINTS_EXPIRE_DAYS"],
    )


def check_terms(terms: Terms) -> None:
    """Refuse settings that would break a rule (config.validate calls this at start)."""
    if terms.spend_rate < 1:
        raise ValueError("POINTS_SPEND_RATE must be at least 1 (points that take 1 major unit off)")
    if not 0 <= terms.max_order_bp <= BP:
        raise ValueError("POINTS_MAX_ORDER_BP must be 0..10000 (basis points of the order)")
    numbers = (
        terms.earn_per_major,
        terms.share_per_major,
        terms.checkin_points,
        terms.streak_step,
        terms.streak_days,
        terms.max_order_points,
        terms.hold_days,
        terms.expire_days,
    )
    if min(numbers) < 0:
        raise ValueError("POINTS_* settings cannot be negative")


# Earning ---------------------------------------------------------------------------------------


def earned(paid_minor: int, per_major: int, minor_per_major: int) -> int:
    """Whole points for what was paid, rounded down (1 per ¥1: ¥12.99 earns 12)."""
    return max(paid_minor, 0) * per_major // minor_per_major


def next_streak(last_day: date | None, streak: int, today: date) -> int:
    """Days in a row including today: yesterday's check-in continues the streak."""
    if last_day is not None and last_day == today - timedelta(days=1):
        return streak + 1
    return 1


def checkin_award(streak: int, terms: Terms) -> int:
    """The day's points: the base, plus a step per day in a row after the first, capped."""
    bonus_days = min(max(streak - 1, 0), terms.streak_days)
    return terms.checkin_points + bonus_days * terms.streak_step


# Spending --------------------------------------------------------------------------------------


def discount_for(points: int, terms: Terms) -> int:
    """Minor units that `points` take off (rounded down)."""
    return max(points, 0) * terms.minor_per_major // terms.spend_rate


def points_for(discount_minor: int, terms: Terms) -> int:
    """The fewest points that take `discount_minor` off (rounded up)."""
    return -(-discount_minor * terms.spend_rate // terms.minor_per_major)


def max_discount(total_minor: int, line_count: int, terms: Terms) -> int:
    """The most points may take off an order: its share cap, the absolute cap, and at least
    one minor unit left to pay on each line."""
    cap = total_minor * terms.max_order_bp // BP
    if terms.max_order_points:
        cap = min(cap, discount_for(terms.max_order_points, terms))
    return max(0, min(cap, total_minor - line_count))


@dataclass(frozen=True)
class Spend:
    points: int
    discount_minor: int


def plan_spend(wanted: int, balance: int, total_minor: int, line_count: int, terms: Terms) -> Spend:
    """Up to `wanted` points (and the balance) within the order's caps; never more points than
    the discount needs."""
    usable = min(max(wanted, 0), max(balance, 0))
    discount = min(discount_for(usable, terms), max_discount(total_minor, line_count, terms))
    if discount <= 0:
        return Spend(0, 0)
    return Spend(points_for(discount, terms), discount)


def split(discount_minor: int, points: int, line_amounts: Sequence[int]) -> list[tuple[int, int]]:
    """(points, discount) per line: the discount in proportion to what each line has left to
    pay above one minor unit, the points in proportion to the discount (largest remainder:
    both sum exactly)."""
    if discount_minor == 0:
        return [(0, 0) for _ in line_amounts]
    money = allocate(discount_minor, [max(a - 1, 0) for a in line_amounts])
    return list(zip(proportional(points, money), money, strict=True))


def proportional(total: int, weights: Sequence[int]) -> list[int]:
    """`total` in proportion to `weights` (largest remainder; parts may exceed their weight,
    as points do when several make one minor unit)."""
    whole = sum(weights)
    if whole <= 0:
        return [0 for _ in weights]
    parts = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


# Refunds ---------------------------------------------------------------------------------------


def given_back(points_used: int, paid_minor: int, refunded_minor: int) -> int:
    """Points spent on a line that its refunds so far give back: all of them once the line is
    refunded in full, else in proportion, rounded down."""
    if points_used <= 0 or refunded_minor <= 0:
        return 0
    if refunded_minor >= paid_minor:
        return points_used
    return points_used * refunded_minor // paid_minor


def take_back(wanted: int, balance: int) -> tuple[int, int]:
    """A reversal after release takes what it can: (taken, shortfall). The balance never goes
    below zero; the shortfall is recorded, not carried as debt."""
    taken = min(max(wanted, 0), max(balance, 0))
    return taken, max(wanted, 0) - taken


# Expiry ----------------------------------------------------------------------------------------


def expiring(credits_due: int, debits: int) -> int:
    """Points that expire now: credits whose date has come, less everything ever taken out
    (spends, reversals, earlier expiries count against the soonest-expiring points first)."""
    return max(0, credits_due - debits)


def share_verdict(answers: Sequence[str | None]) -> str | None:
    """The listeners' answers on a sharer's held points: any "void" wins, then any "wait"."""
    for verdict in ("void", "wait"):
        if verdict in answers:
            return verdict
    return None
