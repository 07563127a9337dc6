"""Commission rules for one order line: pure functions, no framework (see shared attribution.md).

Who is credited: the creator of the content the line was bought from, and the sharer chain the
buyer arrived through (nearest sharer first). Who is *paid*: the creator's fee, then the first
`paid_levels` sharers; the rest of the chain is recorded as unpaid credit.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAID_LEVELS = (
    2  # 禁止传销条例 art. 7(3) and 公通字〔2013〕37号: three levels is already too many
)
BP = 10_000  # basis points in a whole

# Why a credit is unpaid (or paid): shown on the order's explanation page.
PAID = "paid"
OWN_PURCHASE = "own_purchase"
BEYOND_PAID_DEPTH = "beyond_paid_depth"
ALREADY_CREDITED = "already_credited"
CAP_REACHED = "cap_reached"
ZERO_RATE = "zero_rate"

CREATOR = "creator"
SHARER = "sharer"


class DepthNotAllowed(ValueError):
    """A configuration asking to pay more sharer levels than the law allows."""


def check_paid_levels(levels: int) -> int:
    """Refuse a paid depth above two: paying a third level is pyramid selling under Chinese law."""
    if not 0 <= levels <= MAX_PAID_LEVELS:
        raise DepthNotAllowed(
            f"COMMISSION_PAID_LEVELS={levels} is not allowed: it must be 0, 1 or 2. Paying an "
            "upline on its downline's sales for three or more levels (counting the sharer's "
            "own) is pyramid selling under 禁止传销条例 art. 7(3) and 公通字〔2013〕37号; WeChat "
            "allows two levels and suspends payment beyond them."
        )
    return levels


@dataclass(frozen=True)
class CommissionPolicy:
    """Platform settings: how many sharer levels are paid and the cap on the total."""

    paid_levels: int = 2
    cap_bp: int = 3_000  # creator fee + paid sharer levels <= 30% of the line's base
    upline_share_bp: int = 2_500  # level 2 earns this share of the direct sharer's rate

    def __post_init__(self) -> None:
        check_paid_levels(self.paid_levels)
        if not 0 <= self.cap_bp <= BP or not 0 <= self.upline_share_bp <= BP:
            raise ValueError("cap_bp and upline_share_bp are basis points between 0 and 10000")


@dataclass(frozen=True)
class LineSale:
    """What the rules need to know about one paid order line."""

    base_minor: int  # what the buyer paid for the line after discounts, no shipping or tax
    buyer_id: int
    creator_id: int | None  # the content's creator, None when bought without content
    creator_rate_bp: int
    sharer_rate_bp: int
    chain: tuple[int, ...] = ()  # sharer account ids, nearest (direct sharer) first


@dataclass(frozen=True)
class Credit:
    """One person credited for a line: `amount_minor` is what they are paid (0 when unpaid)."""

    user_id: int
    role: str  # CREATOR or SHARER
    level: int  # 0 for the creator, 1 for the direct sharer, 2 for its upline...
    rate_bp: int
    amount_minor: int
    reason: str  # PAID or why not


def rate_amount(base_minor: int, rate_bp: int) -> int:
    """Integer minor units, rounded down."""
    return base_minor * rate_bp // BP


def sharer_rate_for_level(sharer_rate_bp: int, level: int, policy: CommissionPolicy) -> int:
    if level == 1:
        return sharer_rate_bp
    if level == 2:
        return sharer_rate_bp * policy.upline_share_bp // BP
    return 0


def split_commission(sale: LineSale, policy: CommissionPolicy) -> list[Credit]:
    """Every credit for the line, creator first, then the whole chain; the paid ones fit the cap."""
    if sale.base_minor < 0:
        raise ValueError("a line's commission base cannot be negative")
    remaining = rate_amount(sale.base_minor, policy.cap_bp)
    credits: list[Credit] = []
    credited: set[int] = set()

    def pay(user_id: int, role: str, level: int, rate_bp: int) -> None:
        nonlocal remaining
        if user_id == sale.buyer_id:
            credits.append(Credit(user_id, role, level, rate_bp, 0, OWN_PURCHASE))
        elif user_id in credited:
            credits.append(Credit(user_id, role, level, rate_bp, 0, ALREADY_CREDITED))
        elif role == SHARER and level > policy.paid_levels:
            credits.append(Credit(user_id, role, level, 0, 0, BEYOND_PAID_DEPTH))
        else:
            wanted = rate_amount(sale.base_minor, rate_bp)
            amount = min(wanted, remaining)
            remaining -= amount
            reason = PAID if amount > 0 else (ZERO_RATE if wanted == 0 else CAP_REACHED)
            credits.append(Credit(user_id, role, level, rate_bp, amount, reason))
        credited.add(user_id)

    if sale.creator_id is not None:
        pay(sale.creator_id, CREATOR, 0, sale.creator_rate_bp)
    for level, sharer_id in enumerate(sale.chain, start=1):
        pay(sharer_id, SHARER, level, sharer_rate_for_level(sale.sharer_rate_bp, level, policy))
    return credits


def prorate(amount_minor: int, remaining_base_minor: int, original_base_minor: int) -> int:
    """A commission recomputed after a partial refund: scaled to what is left, rounded down."""
    if original_base_minor <= 0:
        return 0
    remaining_base_minor = max(0, min(remaining_base_minor, original_base_minor))
    return amount_minor * remaining_base_minor // original_base_minor
