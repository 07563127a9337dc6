"""Coupon rules as plain functions: what a coupon takes off, which coupons apply, the best pair,
how a discount splits over lines, and which rule changes favour the buyer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

AMOUNT, PERCENT = "amount", "percent"
SHOP, PRODUCTS, CREATOR = "shop", "products", "creator"
MERCHANT, PLATFORM = "merchant", "platform"
FUNDERS = (MERCHANT, PLATFORM)
MAX_PERCENT = 90


@dataclass(frozen=True)
class Terms:
    """What a coupon gives and where it applies (a template's rules, or a claimed coupon's)."""

    kind: str
    amount_minor: int = 0
    percent: int = 0
    cap_minor: int | None = None
    min_spend_minor: int = 0
    scope: str = SHOP
    merchant_id: int | None = None  # None: any shop (platform coupons)
    product_ids: tuple[int, ...] = ()
    creator_id: int | None = None
    funded_by: str = MERCHANT
    currency: str = "CNY"


@dataclass(frozen=True)
class Line:
    """An order line as pricing sees it: `amount_minor` is what is left to pay for it."""

    product_id: int
    amount_minor: int
    creator_id: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A claimed coupon the buyer holds; `budget_left` None means no budget limit."""

    coupon_id: int
    terms: Terms
    budget_left: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Applied:
    coupon_id: int
    funded_by: str
    discount_minor: int
    shares: tuple[int, ...]  # per line of the order, in line order


def applies_to(terms: Terms, line: Line) -> bool:
    if terms.scope == PRODUCTS:
        return line.product_id in terms.product_ids
    if terms.scope == CREATOR:
        return terms.creator_id is not None and line.creator_id == terms.creator_id
    return True


def raw_discount(terms: Terms, eligible_minor: int) -> int:
    """What the coupon takes off `eligible_minor` of goods, before caps by the order itself."""
    if eligible_minor <= 0 or eligible_minor < terms.min_spend_minor:
        return 0
    if terms.kind == PERCENT:
        off = eligible_minor * terms.percent // 100
        return min(off, terms.cap_minor) if terms.cap_minor is not None else off
    return terms.amount_minor


def capacity(amount_minor: int) -> int:
    """How much a line can take off: every line keeps one minor unit to pay."""
    return max(amount_minor - 1, 0)


def evaluate(
    candidate: Candidate, merchant_id: int, currency: str, lines: Sequence[Line]
) -> Applied | None:
    """The discount this coupon gives on these lines (None: it does not apply)."""
    terms = candidate.terms
    if terms.currency != currency:
        return None
    if terms.merchant_id is not None and terms.merchant_id != merchant_id:
        return None
    eligible = [i for i, line in enumerate(lines) if applies_to(terms, line)]
    eligible_minor = sum(lines[i].amount_minor for i in eligible)
    room = sum(capacity(lines[i].amount_minor) for i in eligible)
    discount = min(raw_discount(terms, eligible_minor), room)
    if candidate.budget_left is not None and candidate.budget_left < discount:
        return None  # the budget is spent: redemptions stop
    if discount <= 0:
        return None
    weights = [capacity(line.amount_minor) if i in eligible else 0 for i, line in enumerate(lines)]
    return Applied(candidate.coupon_id, terms.funded_by, discount, allocate(discount, weights))


def allocate(total: int, weights: Sequence[int]) -> tuple[int, ...]:
    """Split `total` in proportion to `weights` in whole minor units (largest remainder): the
    parts sum to `total` exactly, and no part exceeds its weight when total <= sum(weights)."""
    whole = sum(weights)
    if total < 0 or whole <= 0 or total > whole:
        raise ValueError("cannot allocate")
    parts = [total * w // whole for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:left]:
        parts[i] += 1
    return tuple(parts)


def _after(lines: Sequence[Line], applied: Applied | None) -> list[Line]:
    if applied is None:
        return list(lines)
    return [
        replace(line, amount_minor=line.amount_minor - share)
        for line, share in zip(lines, applied.shares, strict=True)
    ]


def _best(
    candidates: Sequence[Candidate], merchant_id: int, currency: str, lines: Sequence[Line]
) -> Applied | None:
    """The largest discount; on a tie, the coupon that expires first (then the oldest)."""
    best: tuple[tuple[int, datetime, int], Applied] | None = None
    for candidate in candidates:
        applied = evaluate(candidate, merchant_id, currency, lines)
        if applied is None:
            continue
        key = (-applied.discount_minor, candidate.expires_at or datetime.max, candidate.coupon_id)
        if best is None or key < best[0]:
            best = (key, applied)
    return best[1] if best is not None else None


def choose(
    candidates: Sequence[Candidate],
    merchant_id: int,
    currency: str,
    lines: Sequence[Line],
) -> list[Applied]:
    """At most one merchant coupon, then at most one platform coupon on what is left."""
    merchant = _best(
        [c for c in candidates if c.terms.funded_by == MERCHANT], merchant_id, currency, lines
    )
    rest = _after(lines, merchant)
    platform = _best(
        [c for c in candidates if c.terms.funded_by == PLATFORM], merchant_id, currency, rest
    )
    return [a for a in (merchant, platform) if a is not None]


def line_discounts(applied: Sequence[Applied], count: int) -> tuple[list[int], list[int]]:
    """(merchant-funded, platform-funded) discount per line."""
    merchant, platform = [0] * count, [0] * count
    for a in applied:
        target = merchant if a.funded_by == MERCHANT else platform
        for i, share in enumerate(a.shares):
            target[i] += share
    return merchant, platform


def expiry(
    now: datetime, valid_from: datetime | None, valid_until: datetime | None, days: int | None
) -> tuple[datetime, datetime]:
    """(from, until) of a coupon claimed now: fixed dates, or N days after the claim."""
    if days is not None:
        return now, now + timedelta(days=days)
    assert valid_until is not None
    return (valid_from or now), valid_until


# Rule changes after claims: only in the buyer's favour (规范促销行为暂行规定).


@dataclass(frozen=True)
class Rules:
    """The parts of a template a buyer relies on once someone has claimed it."""

    kind: str
    amount_minor: int
    percent: int
    cap_minor: int | None
    min_spend_minor: int
    scope: str
    product_ids: frozenset[int]
    creator_id: int | None
    valid_until: datetime | None
    valid_days: int | None
    claim_ends_at: datetime
    total: int
    per_person: int
    budget_minor: int | None
    audience: str = "anyone"
    live_only: bool = False
    task: str = "none"
    watch_seconds: int = 0


def _not_less(new: int | None, old: int | None) -> bool:
    """None is unlimited."""
    if new is None:
        return True
    return old is not None and new >= old


def worse_for_buyer(old: Rules, new: Rules) -> list[str]:
    """The fields a change makes worse for the buyer (empty: allowed once claims exist)."""
    worse = []
    if new.kind != old.kind:
        worse.append("kind")
    if new.amount_minor < old.amount_minor:
        worse.append("amount_minor")
    if new.percent < old.percent:
        worse.append("percent")
    if not _not_less(new.cap_minor, old.cap_minor):
        worse.append("cap_minor")
    if new.min_spend_minor > old.min_spend_minor:
        worse.append("min_spend_minor")
    if new.scope != old.scope and new.scope != SHOP:
        worse.append("scope")
    if new.scope == old.scope == PRODUCTS and not old.product_ids <= new.product_ids:
        worse.append("product_ids")
    if new.scope == old.scope == CREATOR and new.creator_id != old.creator_id:
        worse.append("creator_id")
    if old.valid_until is not None and (new.valid_until or datetime.max) < old.valid_until:
        worse.append("valid_until")
    if old.valid_days is not None and (new.valid_days or 0) < old.valid_days:
        worse.append("valid_days")
    if new.claim_ends_at < old.claim_ends_at:
        worse.append("claim_ends_at")
    if new.total < old.total:
        worse.append("total")
    if new.per_person < old.per_person:
        worse.append("per_person")
    if not _not_less(new.budget_minor, old.budget_minor):
        worse.append("budget_minor")
    # Who may still claim it: only ever more people, never a new condition.
    if new.audience != old.audience and new.audience != "anyone":
        worse.append("audience")
    if new.live_only and not old.live_only:
        worse.append("live_only")
    if new.task != old.task and new.task != "none":
        worse.append("task")
    if new.task == old.task == "watch" and new.watch_seconds > old.watch_seconds:
        worse.append("watch_seconds")
    return worse


def may_pin(
    host_id: int, owner_id: int, funded_by: str, scope: str, creator_id: int | None
) -> bool:
    """A host pins her own shop's coupons, or a merchant's coupon made for her (scope: creator),
    as merchants fund 达人专属券 for the creators who sell their products live."""
    own = owner_id == host_id and funded_by == MERCHANT
    return own or (scope == CREATOR and creator_id == host_id)
