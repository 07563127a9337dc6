"""The seller's campaign page: groups formed, succeeded, failed, GMV and the leader-free cost."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commerce.groupbuy import rules
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.groupbuy.present import campaign_out
from commerce.groupbuy.schemas import CampaignStatsOut
from commerce.orders.models import Order


def campaign_stats(session: Session, campaigns: list[GroupCampaign]) -> list[CampaignStatsOut]:
    ids = [c.id for c in campaigns]
    counts: dict[tuple[int, str], int] = {}
    for campaign_id, state, count in session.execute(
        select(Group.campaign_id, Group.state, func.count())
        .where(Group.campaign_id.in_(ids))
        .group_by(Group.campaign_id, Group.state)
    ):
        counts[(campaign_id, state)] = count
    gmv = dict(
        session.execute(  # type: ignore[arg-type]
            select(
                GroupSeat.campaign_id,
                func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0),
            )
            .join(Order, Order.id == GroupSeat.order_id)
            .where(GroupSeat.campaign_id.in_(ids), GroupSeat.state == rules.PAID)
            .group_by(GroupSeat.campaign_id)
        ).all()
    )
    out = []
    for c in campaigns:
        formed = sum(counts.get((c.id, s), 0) for s in (rules.OPEN, rules.SUCCEEDED, rules.FAILED))
        out.append(
            CampaignStatsOut(
                campaign=campaign_out(c),
                title=c.product.title,
                formed=formed,
                succeeded=counts.get((c.id, rules.SUCCEEDED), 0),
                failed=counts.get((c.id, rules.FAILED), 0),
                open=counts.get((c.id, rules.OPEN), 0),
                gmv_minor=int(gmv.get(c.id, 0)),
                cost_minor=c.free_spent_minor,
                currency=c.product.currency,
            )
        )
    return out
