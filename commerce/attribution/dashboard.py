"""What the sharer dashboard and the creator's studio show: read-only queries, no writes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution import projection
from commerce.attribution.credit_state import CreditState, state_of
from commerce.attribution.links import find_targets
from commerce.attribution.models import Commission, CommissionCredit, Share, ShareClick
from commerce.orders.models import Order, OrderLine
from commerce.pagination import decode_cursor, encode_cursor

# Pages show a bounded slice, newest first, so their cost does not grow with a person's history.
MAX_TREE_NODES = 100
MAX_TREE_ROOTS = 20
LINKS_PER_PAGE = 20


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


def _clicks_by_share(session: Session, share_ids: list[int]) -> Counter:
    clicks: Counter = Counter()
    if share_ids:
        for share_id, count in session.execute(
            select(ShareClick.share_id, func.count())
            .where(ShareClick.share_id.in_(share_ids))
            .group_by(ShareClick.share_id)
        ):
            clicks[share_id] = int(count)
    return clicks


def _counts_by_share(session: Session, share_ids: list[int]) -> tuple[Counter, Counter]:
    """Clicks per share, and orders won directly through each share's clicks."""
    orders: Counter = Counter()
    if not share_ids:
        return Counter(), orders
    for share_id, count in session.execute(
        select(ShareClick.share_id, func.count(distinct(OrderLine.order_id)))
        .join(OrderLine, OrderLine.click_id == ShareClick.id)
        .where(ShareClick.share_id.in_(share_ids))
        .group_by(ShareClick.share_id)
    ):
        orders[share_id] = int(count)
    return _clicks_by_share(session, share_ids), orders


@dataclass
class LinkPage:
    links: list[LinkStats]
    next_cursor: str | None  # the page of older links, if any


def my_links(
    session: Session, user: User, cursor: str | None = None, per_page: int = LINKS_PER_PAGE
) -> LinkPage:
    """My links, newest first, by keyset after `cursor` (see commerce.pagination)."""
    query = select(Share).where(Share.sharer_id == user.id)
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(Share.created_at < stamp, and_(Share.created_at == stamp, Share.id < ident))
        )
    rows = list(
        session.scalars(
            query.order_by(Share.created_at.desc(), Share.id.desc()).limit(per_page + 1)
        )
    )
    shares = rows[:per_page]
    more = len(rows) > per_page
    next_cursor = encode_cursor(shares[-1].created_at, shares[-1].id) if more else None
    ids = [s.id for s in shares]
    clicks = _clicks_by_share(session, ids)
    orders: Counter = Counter()
    earned: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        # In one pass over the user's commissions through these shares: the orders credited
        # (directly, or as the upline of a re-share) and what they earned, net of refunds and
        # rejections (the ledger's projection), not as frozen at payment.
        for share_id, currency, count, total in session.execute(
            select(
                Commission.share_id,
                Commission.currency,
                func.count(distinct(OrderLine.order_id)),
                func.sum(CommissionCredit.accrued_minor - CommissionCredit.reversed_minor),
            )
            .join(OrderLine, OrderLine.id == Commission.order_line_id)
            .outerjoin(CommissionCredit, CommissionCredit.commission_id == Commission.id)
            .where(Commission.share_id.in_(ids), Commission.user_id == user.id)
            .group_by(Commission.share_id, Commission.currency)
        ):
            orders[share_id] += int(count)
            if total is not None:
                earned[share_id or 0][currency] = int(total)
    links = []
    targets = find_targets(session, [(s.target_kind, s.target_key) for s in shares])
    for share in shares:
        target = targets.get((share.target_kind, share.target_key))
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
    return LinkPage(links, next_cursor)


def days_back(today: date, days: int) -> list[date]:
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _day(value: date | datetime | str) -> date:
    """SQL date() of a timestamp: a date on PostgreSQL, 'YYYY-MM-DD' on SQLite."""
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


def clicks_per_day(
    session: Session, user: User, now: datetime, days: int = 30
) -> list[tuple[date, int]]:
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    day = func.date(ShareClick.at)
    counts: Counter = Counter()
    for value, count in session.execute(
        select(day, func.count())
        .join(Share, Share.id == ShareClick.share_id)
        .where(Share.sharer_id == user.id, ShareClick.at >= since)
        .group_by(day)
    ):
        counts[_day(value)] += int(count)
    return [(day, counts[day]) for day in days_back(now.date(), days)]


def commissions_per_day(
    session: Session, user: User, now: datetime, *, role: str | None = None, days: int = 30
) -> dict[str, list[tuple[date, int]]]:
    """{currency: [(day, minor units earned that day)]}, as frozen at payment (paid ones)."""
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time())
    day = func.date(Commission.created_at)
    query = select(day, Commission.currency, func.sum(Commission.amount_minor)).where(
        Commission.user_id == user.id, Commission.created_at >= since, Commission.amount_minor > 0
    )
    if role is not None:
        query = query.where(Commission.role == role)
    sums: dict[str, Counter] = defaultdict(Counter)
    for value, currency, amount in session.execute(query.group_by(day, Commission.currency)):
        sums[currency][_day(value)] += int(amount)
    return {
        currency: [(day, counter[day]) for day in days_back(now.date(), days)]
        for currency, counter in sums.items()
    }


def commission_states(session: Session, commission_ids: Iterable[int]) -> dict[int, CreditState]:
    """{commission id: its state}, as stored with each ledger append (projection.py)."""
    return projection.states_of(session, commission_ids)


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
    states = commission_states(session, [c.id for c, _line, _order in rows])
    return [(c, line, order, state_of(states, c.id)) for c, line, order in rows]


def downstream_tree(session: Session, user: User) -> list[TreeNode]:
    """My shares, each with the re-shares made from it (any depth), breadth first, capped."""
    roots = list(
        session.scalars(
            select(Share)
            .where(Share.sharer_id == user.id)
            .order_by(Share.created_at.desc(), Share.id.desc())
            .limit(MAX_TREE_ROOTS)
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
