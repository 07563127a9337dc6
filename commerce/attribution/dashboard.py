"""What the sharer dashboard and the creator's studio show: read-only queries, no writes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution.credit_state import CreditState, Entry, credit_states, state_of
from commerce.attribution.ledger_rules import CANCELLED
from commerce.attribution.links import find_target
from commerce.attribution.models import Commission, LedgerEntry, Share, ShareClick
from commerce.orders.models import Order, OrderLine

MAX_TREE_NODES = 500
MAX_LINKS = 200


@dataclass
class LinkStats:
    share: Share
    title: str
    path: str | None
    clicks: int = 0
    orders: int = 0
    earned_minor: dict[str, int] = field(default_factory=dict)  # currency -> net earnings


@dataclass
class TreeNode:
    share: Share
    sharer_name: str
    clicks: int
    orders: int  # orders whose winning click came through this very share
    children: list[TreeNode] = field(default_factory=list)


def _counts_by_share(session: Session, share_ids: list[int]) -> tuple[Counter, Counter]:
    """Clicks per share, and orders won directly through each share's clicks."""
    clicks: Counter = Counter()
    orders: Counter = Counter()
    if not share_ids:
        return clicks, orders
    for share_id, count in session.execute(
        select(ShareClick.share_id, func.count())
        .where(ShareClick.share_id.in_(share_ids))
        .group_by(ShareClick.share_id)
    ):
        clicks[share_id] = int(count)
    for share_id, count in session.execute(
        select(ShareClick.share_id, func.count(distinct(OrderLine.order_id)))
        .join(OrderLine, OrderLine.click_id == ShareClick.id)
        .where(ShareClick.share_id.in_(share_ids))
        .group_by(ShareClick.share_id)
    ):
        orders[share_id] = int(count)
    return clicks, orders


def my_links(session: Session, user: User) -> list[LinkStats]:
    shares = list(
        session.scalars(
            select(Share)
            .where(Share.sharer_id == user.id)
            .order_by(Share.created_at.desc(), Share.id.desc())
            .limit(MAX_LINKS)
        )
    )
    ids = [s.id for s in shares]
    clicks, _direct = _counts_by_share(session, ids)
    orders: Counter = Counter()
    earned: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        # Orders credited through the share: directly, or as the upline of a re-share.
        for share_id, count in session.execute(
            select(Commission.share_id, func.count(distinct(OrderLine.order_id)))
            .join(OrderLine, OrderLine.id == Commission.order_line_id)
            .where(Commission.share_id.in_(ids), Commission.user_id == user.id)
            .group_by(Commission.share_id)
        ):
            orders[share_id] = int(count)
        # Net of refunds and rejections: the ledger, not the amounts frozen at payment.
        for share_id, currency, total in session.execute(
            select(Commission.share_id, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
            .join(LedgerEntry, LedgerEntry.commission_id == Commission.id)
            .where(
                Commission.share_id.in_(ids),
                Commission.user_id == user.id,
                LedgerEntry.bucket != CANCELLED,
            )
            .group_by(Commission.share_id, LedgerEntry.currency)
        ):
            earned[share_id or 0][currency] = int(total)
    links = []
    for share in shares:
        target = find_target(session, share.target_kind, share.target_key)
        title = target.title if target else f"{share.target_kind} {share.target_key}"
        links.append(
            LinkStats(
                share,
                title,
                target.path if target else None,
                clicks[share.id],
                orders[share.id],
                earned.get(share.id, {}),
            )
        )
    return links


def days_back(today: date, days: int) -> list[date]:
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def clicks_per_day(
    session: Session, user: User, now: datetime, days: int = 30
) -> list[tuple[date, int]]:
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    stamps = session.scalars(
        select(ShareClick.at)
        .join(Share, Share.id == ShareClick.share_id)
        .where(Share.sharer_id == user.id, ShareClick.at >= since)
        .limit(100_000)
    )
    counts = Counter(stamp.date() for stamp in stamps)
    return [(day, counts[day]) for day in days_back(now.date(), days)]


def commissions_per_day(
    session: Session, user: User, now: datetime, *, role: str | None = None, days: int = 30
) -> dict[str, list[tuple[date, int]]]:
    """{currency: [(day, minor units earned that day)]}, as frozen at payment (paid ones)."""
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    query = select(Commission.created_at, Commission.currency, Commission.amount_minor).where(
        Commission.user_id == user.id, Commission.created_at >= since, Commission.amount_minor > 0
    )
    if role is not None:
        query = query.where(Commission.role == role)
    sums: dict[str, Counter] = defaultdict(Counter)
    for at, currency, amount in session.execute(query.limit(100_000)):
        sums[currency][at.date()] += amount
    return {
        currency: [(day, counter[day]) for day in days_back(now.date(), days)]
        for currency, counter in sums.items()
    }


def commission_states(session: Session, payee_ids: Iterable[int]) -> dict[int, CreditState]:
    """{commission id: its state} for the payees' commissions, from all their ledger entries
    (payouts are allocated over a payee's whole history, so none can be left out)."""
    ids = sorted(set(payee_ids))
    if not ids:
        return {}
    by_payee: dict[int, list[Entry]] = defaultdict(list)
    for row in session.execute(
        select(
            LedgerEntry.payee_id,
            LedgerEntry.id,
            LedgerEntry.kind,
            LedgerEntry.bucket,
            LedgerEntry.amount_minor,
            LedgerEntry.created_at,
            LedgerEntry.commission_id,
            LedgerEntry.payout_id,
        ).where(LedgerEntry.payee_id.in_(ids))
    ):
        by_payee[row.payee_id].append(
            Entry(
                id=row.id,
                kind=row.kind,
                bucket=row.bucket,
                amount_minor=row.amount_minor,
                at=row.created_at,
                commission_id=row.commission_id,
                payout_id=row.payout_id,
            )
        )
    states: dict[int, CreditState] = {}
    for entries in by_payee.values():
        states.update(credit_states(entries))
    return states


def my_commissions(
    session: Session, user: User, *, role: str | None = None, limit: int = 50
) -> list[tuple[Commission, OrderLine, Order, CreditState]]:
    query = (
        select(Commission, OrderLine, Order)
        .join(OrderLine, OrderLine.id == Commission.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Commission.user_id == user.id)
        .order_by(Commission.created_at.desc(), Commission.id.desc())
        .limit(limit)
    )
    if role is not None:
        query = query.where(Commission.role == role)
    rows = session.execute(query).all()
    states = commission_states(session, [user.id]) if rows else {}
    return [(c, line, order, state_of(states, c.id)) for c, line, order in rows]


def downstream_tree(session: Session, user: User) -> list[TreeNode]:
    """My shares, each with the re-shares made from it (any depth), breadth first, capped."""
    roots = list(
        session.scalars(
            select(Share).where(Share.sharer_id == user.id).order_by(Share.id).limit(MAX_LINKS)
        )
    )
    names: dict[int, str] = {user.id: user.display_name}
    seen: dict[int, Share] = {}
    level = roots
    while level and len(seen) < MAX_TREE_NODES:
        for share in level:
            seen.setdefault(share.id, share)
        level = [
            s
            for s in session.scalars(
                select(Share)
                .where(Share.parent_id.in_([s.id for s in level]))
                .order_by(Share.id)
                .limit(MAX_TREE_NODES - len(seen))
            )
            if s.id not in seen
        ]
    all_shares = list(seen.values())
    missing = {s.sharer_id for s in all_shares} - names.keys()
    if missing:
        for uid, name in session.execute(
            select(User.id, User.display_name).where(User.id.in_(missing))
        ):
            names[uid] = name
    clicks, orders = _counts_by_share(session, [s.id for s in all_shares])
    nodes = {s.id: TreeNode(s, names[s.sharer_id], clicks[s.id], orders[s.id]) for s in all_shares}
    tops = []
    for share in all_shares:
        if share.parent_id is not None and share.parent_id in nodes:
            nodes[share.parent_id].children.append(nodes[share.id])
        else:
            tops.append(nodes[share.id])  # one of mine, not under another of mine
    return tops


def tree_size(nodes: list[TreeNode]) -> int:
    return sum(1 + tree_size(node.children) for node in nodes)
