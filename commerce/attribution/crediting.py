"""Crediting paid orders: freeze the winning click and its chain, create commissions, post them.

Called by the orders area in the transaction that marks an order paid, and after each refund.
Both calls are idempotent: a replayed webhook or a retried request creates nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from commerce.attribution import fraud, ledger
from commerce.attribution.models import Commission, Share, ShareClick
from commerce.attribution.rules import (
    SHARER,
    CommissionPolicy,
    LineSale,
    prorate,
    split_commission,
)
from commerce.live.models import LiveRoom
from commerce.orders.models import Order, OrderLine
from commerce.videos.models import Video

MAX_CHAIN_WALK = 64  # shares form a tree; this only guards against a corrupted parent loop


def policy_from_config(config: Mapping[str, Any]) -> CommissionPolicy:
    return CommissionPolicy(
        paid_levels=config["COMMISSION_PAID_LEVELS"],
        cap_bp=config["COMMISSION_CAP_BP"],
        upline_share_bp=config["COMMISSION_UPLINE_SHARE_BP"],
    )


# Areas above this one name more targets a line can be won through (the group a group-priced
# line was bought into): registered at start-up, each returns (kind, key) pairs.
LINE_TARGETS: list[Callable[[Session, OrderLine], list[tuple[str, str]]]] = []


def line_targets(session: Session, line: OrderLine) -> list[tuple[str, str]]:
    """What a share must point at to win this line: the product, or the content it came from.

    A line bought from a live's replay names the room (its sales are the show's); a share of
    the replay video, which is what its share button makes, wins it too.
    """
    targets = [("product", str(line.product_id))]
    if line.source_kind and line.source_key:
        targets.append((line.source_kind, line.source_key))
    if line.source_kind == "live" and line.source_key:
        replay = session.scalar(
            select(Video.public_id)
            .join(LiveRoom, LiveRoom.replay_video_id == Video.id)
            .where(LiveRoom.public_id == line.source_key)
        )
        if replay is not None:
            targets.append(("video", replay))
    for more in LINE_TARGETS:
        targets.extend(more(session, line))
    return targets


def winning_click(
    session: Session,
    *,
    buyer_id: int,
    device_id: str | None,
    targets: list[tuple[str, str]],
    now: datetime,
    window_days: int,
) -> ShareClick | None:
    """Last click within the window, by the buyer's account or browser, on a matching share."""
    who = [ShareClick.user_id == buyer_id]
    if device_id:
        who.append(ShareClick.visitor_id == device_id)
    matches = [and_(Share.target_kind == kind, Share.target_key == key) for kind, key in targets]
    return session.scalar(
        select(ShareClick)
        .join(Share, Share.id == ShareClick.share_id)
        .where(
            or_(*who),
            or_(*matches),
            ShareClick.at > now - timedelta(days=window_days),
            ShareClick.at <= now,
        )
        .order_by(ShareClick.at.desc(), ShareClick.id.desc())
        .limit(1)
    )


def share_ancestry(session: Session, share: Share) -> list[Share]:
    """The share and its ancestors, nearest first: [B's share, A's share] when B re-shared A's."""
    chain = [share]
    while chain[-1].parent_id is not None and len(chain) < MAX_CHAIN_WALK:
        parent = session.get(Share, chain[-1].parent_id)
        if parent is None:
            break
        chain.append(parent)
    return chain


def _freeze_line(
    session: Session, order: Order, line: OrderLine, now: datetime, window_days: int
) -> list[Share]:
    click = winning_click(
        session,
        buyer_id=order.buyer_id,
        device_id=order.device_id,
        targets=line_targets(session, line),
        now=now,
        window_days=window_days,
    )
    shares = share_ancestry(session, click.share) if click is not None else []
    line.click_id = click.id if click is not None else None
    line.chain = [share.sharer_id for share in shares]
    line.attributed_at = now
    return shares


def _credit_line(
    session: Session,
    order: Order,
    line: OrderLine,
    shares: list[Share],
    policy: CommissionPolicy,
    now: datetime,
) -> list[Commission]:
    # Merchant-funded coupons lower the base; platform-funded ones do not (promotions.md §6).
    base = line.commission_base_minor
    sale = LineSale(
        base_minor=base,
        buyer_id=order.buyer_id,
        creator_id=line.creator_id,
        creator_rate_bp=line.creator_rate_bp,
        sharer_rate_bp=line.sharer_rate_bp,
        chain=tuple(line.chain or ()),
    )
    commissions = []
    for credit in split_commission(sale, policy):
        share = shares[credit.level - 1] if credit.role == SHARER else None
        commissions.append(
            Commission(
                order_line_id=line.id,
                user_id=credit.user_id,
                role=credit.role,
                level=credit.level,
                share_id=share.id if share is not None else None,
                base_minor=base,
                rate_bp=credit.rate_bp,
                amount_minor=credit.amount_minor,
                currency=order.currency,
                reason=credit.reason,
                created_at=now,
            )
        )
    session.add_all(commissions)
    return commissions


def commissions_for_order(session: Session, order: Order) -> list[Commission]:
    return list(
        session.scalars(
            select(Commission)
            .join(OrderLine, OrderLine.id == Commission.order_line_id)
            .where(OrderLine.order_id == order.id)
            .order_by(Commission.order_line_id, Commission.level, Commission.id)
        )
    )


def do_credit_order(
    session: Session,
    order: Order,
    policy: CommissionPolicy,
    now: datetime,
    window_days: int,
    fraud_settings: fraud.FraudSettings = fraud.DEFAULTS,
) -> list[Commission]:
    """Freeze attribution onto each line and post its commissions; a second call adds nothing."""
    for line in order.lines:
        if line.attributed_at is not None:
            continue
        shares = _freeze_line(session, order, line, now, window_days)
        _credit_line(session, order, line, shares, policy, now)
    session.flush()
    commissions = commissions_for_order(session, order)
    # Flagged commissions still accrue (pending) but are held: never released until reviewed.
    fraud.flags_for_order(session, order, commissions, now, fraud_settings)
    ledger.lock_payees(session, [c.user_id for c in commissions])
    for commission in commissions:
        ledger.do_accrue(session, commission, now)
    return commissions


def do_reverse_for_refund(session: Session, order: Order, now: datetime) -> None:
    """After a refund: scale each line's commissions to what is left of the line, pro rata."""
    lines = {line.id: line for line in order.lines}
    commissions = commissions_for_order(session, order)
    ledger.lock_payees(session, [c.user_id for c in commissions])
    for commission in commissions:
        if commission.amount_minor <= 0:
            continue
        line = lines[commission.order_line_id]
        # Pro rata of what the buyer paid for the line (the base may add a platform subsidy).
        remaining = line.amount_minor - line.refunded_minor
        new_amount = prorate(commission.amount_minor, remaining, line.amount_minor)
        ledger.do_reduce(session, commission, new_amount, event=f"refund:{remaining}", at=now)
