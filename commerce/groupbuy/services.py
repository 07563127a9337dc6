"""Group buying use cases: campaigns, opening and joining groups (holding a seat), and what a
payment or a released order does to the seat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.errors import Conflict, NotFound, ValidationFailed
from commerce.groupbuy import rules
from commerce.groupbuy.broadcast import publish_group
from commerce.groupbuy.models import Group, GroupBuyer, GroupCampaign, GroupSeat
from commerce.groupbuy.schemas import CampaignIn, GroupOrderIn
from commerce.groupbuy.seats import new_public_id
from commerce.money import format_money
from commerce.orders.lifecycle import SHIP_HOLD_GROUP
from commerce.orders.models import Order
from commerce.orders.schemas import OrderIn, OrderItemIn
from commerce.orders.services import Placement, do_place_orders

T = TypeVar("T")


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


# Campaigns -----------------------------------------------------------------------------------


def active_campaign(session: Session, product_id: int) -> GroupCampaign | None:
    return session.scalar(
        select(GroupCampaign)
        .where(GroupCampaign.product_id == product_id, GroupCampaign.active.is_(True))
        .order_by(GroupCampaign.id.desc())
        .limit(1)
    )


def access_campaign_for_merchant(session: Session, campaign_id: int, user: User) -> GroupCampaign:
    campaign = session.get(GroupCampaign, campaign_id)
    if campaign is None or campaign.merchant_id != user.id:
        raise NotFound(_("This group campaign does not exist."))
    return campaign


def campaign_products(session: Session, merchant: User, limit: int = 200) -> list[Product]:
    """The seller's products on sale, newest first: what a new campaign can be about."""
    return list(
        session.scalars(
            select(Product)
            .where(Product.merchant_id == merchant.id, Product.is_active.is_(True))
            .order_by(Product.id.desc())
            .limit(limit)
        )
    )


def do_create_campaign(
    session: Session, merchant: User, product_id: int, data: CampaignIn
) -> GroupCampaign:
    """One active campaign per product; its rules never change afterwards (end it instead)."""
    product = session.get(Product, product_id)
    if product is None or product.merchant_id != merchant.id:
        raise NotFound(_("This product does not exist."))
    if data.price_minor >= product.price_minor:
        raise ValidationFailed(
            _("The group price must be lower than the price."),
            fields={
                "price_minor": _(
                    "Lower than %(price)s.",
                    price=format_money(product.price_minor, product.currency),
                )
            },
        )
    if active_campaign(session, product.id) is not None:
        raise Conflict(
            _("This product already has a group campaign: end it first."), code="campaign_exists"
        )
    campaign = GroupCampaign(product_id=product.id, merchant_id=merchant.id, **data.model_dump())
    session.add(campaign)
    session.flush()
    return campaign


def do_end_campaign(campaign: GroupCampaign) -> GroupCampaign:
    """No new groups; groups already open run to their end under the rules they started with."""
    campaign.active = False
    return campaign


# Groups --------------------------------------------------------------------------------------


def access_group(session: Session, public_id: str, viewer: User | None = None) -> Group:
    """A group that opened; one still waiting for its leader's payment only to that leader."""
    group = session.scalar(select(Group).where(Group.public_id == public_id))
    if group is None or group.state == rules.ABANDONED:
        raise NotFound(_("This group does not exist."))
    if group.state == rules.PENDING and (viewer is None or viewer.id != group.leader_id):
        raise NotFound(_("This group does not exist."))
    return group


def merchant_campaigns(session: Session, merchant_id: int, limit: int = 50) -> list[GroupCampaign]:
    """The seller's campaigns, newest first, with their products: the studio page's list, its
    figures panel and the API's list are of these."""
    return list(
        session.scalars(
            select(GroupCampaign)
            .options(selectinload(GroupCampaign.product))
            .where(GroupCampaign.merchant_id == merchant_id)
            .order_by(GroupCampaign.id.desc())
            .limit(limit)
        )
    )


def open_groups(session: Session, campaign_id: int, now: datetime, limit: int = 10) -> list[Group]:
    """Joinable groups of a campaign, the fullest and soonest to end first."""
    return list(
        session.scalars(
            select(Group)
            .where(
                Group.campaign_id == campaign_id,
                Group.state == rules.OPEN,
                Group.expires_at > now,
                Group.paid + Group.held < Group.size,
            )
            .order_by((Group.paid + Group.held).desc(), Group.expires_at)
            .limit(limit)
        )
    )


def _take_limits(session: Session, campaign: GroupCampaign, buyer: User) -> None:
    """Per person, then in total: each a conditional UPDATE on its counter (a unique row)."""
    if session.get(GroupBuyer, (campaign.id, buyer.id)) is None:
        try:
            with session.begin_nested():
                session.add(GroupBuyer(campaign_id=campaign.id, user_id=buyer.id, taken=0))
        except IntegrityError:
            pass  # another request of this buyer made it first
    taken = session.execute(
        update(GroupBuyer)
        .where(
            GroupBuyer.campaign_id == campaign.id,
            GroupBuyer.user_id == buyer.id,
            GroupBuyer.taken < campaign.per_person_limit,
        )
        .values(taken=GroupBuyer.taken + 1)
        .execution_options(synchronize_session=False)
    )
    if _rows(taken) != 1:
        raise Conflict(
            _(
                "You can take part in this campaign %(n)s times at most.",
                n=campaign.per_person_limit,
            ),
            code="group_person_limit",
        )
    total = session.execute(
        update(GroupCampaign)
        .where(
            GroupCampaign.id == campaign.id,
            or_(
                GroupCampaign.total_limit.is_(None), GroupCampaign.taken < GroupCampaign.total_limit
            ),
        )
        .values(taken=GroupCampaign.taken + 1)
        .execution_options(synchronize_session=False)
    )
    if _rows(total) != 1:
        raise Conflict(_("This group campaign has sold out."), code="group_campaign_sold_out")


def _hold_seat(session: Session, group: Group, buyer: User, now: datetime) -> None:
    """SET held = held + 1 WHERE id = ? AND paid + held < size (open, in its window)."""
    mine = session.scalar(
        select(GroupSeat.id).where(
            GroupSeat.group_id == group.id,
            GroupSeat.user_id == buyer.id,
            GroupSeat.state.in_((rules.HELD, rules.PAID)),
        )
    )
    if mine is not None:
        raise Conflict(_("You are already in this group."), code="already_in_group")
    held = session.execute(
        update(Group)
        .where(
            Group.id == group.id,
            Group.state == rules.OPEN,
            Group.expires_at > now,
            Group.paid + Group.held < Group.size,
        )
        .values(held=Group.held + 1)
        .execution_options(synchronize_session=False)
    )
    if _rows(held) != 1:
        raise Conflict(
            _("This group has no seat left or has ended: open a new group or join another."),
            code="group_full",
        )


def do_place_group_order(
    session: Session, how: Placement, data: GroupOrderIn, present: Callable[[list[Order]], T]
) -> tuple[T, Group, GroupSeat]:
    """Open a group (it opens when this leader pays) or hold a seat in one, then place the
    one-unit order at the group price; any refusal undoes it all."""
    buyer, now = how.buyer, how.now
    campaign = active_campaign(session, data.product_id)
    if campaign is None:
        raise NotFound(_("This product has no group campaign."))
    if campaign.merchant_id == buyer.id:
        raise ValidationFailed(_("You cannot buy your own product."), code="own_product")
    if data.group_id is not None:
        group = session.scalar(select(Group).where(Group.public_id == data.group_id))
        if group is None or group.campaign_id != campaign.id:
            raise NotFound(_("This group does not exist."))
        _hold_seat(session, group, buyer, now)
        role = rules.MEMBER
    else:
        group = Group(
            public_id=new_public_id(),
            campaign_id=campaign.id,
            leader_id=buyer.id,
            state=rules.PENDING,
            size=campaign.group_size,
            held=1,
            created_at=now,
        )
        session.add(group)
        session.flush()
        role = rules.LEADER
    _take_limits(session, campaign, buyer)
    seat = GroupSeat(
        group_id=group.id,
        joined_group_id=group.id,
        campaign_id=campaign.id,
        user_id=buyer.id,
        role=role,
        state=rules.HELD,
        created_at=now,
    )
    session.add(seat)
    session.flush()
    placed: list[Order] = []

    def keep(orders: list[Order]) -> T:
        placed.extend(orders)
        return present(orders)

    order_in = OrderIn(
        items=[
            OrderItemIn(
                product_id=data.product_id,
                quantity=1,
                source_kind=data.source_kind,
                source_key=data.source_key,
            )
        ],
        address_id=data.address_id,
        points_to_use=data.points_to_use,
    )
    grouped = replace(how, group_prices={data.product_id: (campaign.price_minor, seat.id)})
    answer = do_place_orders(session, grouped, order_in, keep)
    [order] = placed
    seat.order_id = order.id
    order.ship_hold = SHIP_HOLD_GROUP
    session.flush()
    if role == rules.MEMBER:
        publish_group(session, group, now)  # a seat taken: one fewer left while they pay
    return answer, group, seat


def my_seats(session: Session, user: User, limit: int = 50) -> list[GroupSeat]:
    return list(
        session.scalars(
            select(GroupSeat)
            .where(
                GroupSeat.user_id == user.id,
                GroupSeat.state.in_((rules.HELD, rules.PAID, rules.REFUNDED)),
            )
            .order_by(GroupSeat.id.desc())
            .limit(limit)
        )
    )
