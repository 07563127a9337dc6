"""The order's credit explanation: who was credited for each line, how much, and by which rule."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution import rules
from commerce.attribution.credit_state import CreditState, state_of
from commerce.attribution.dashboard import commission_states
from commerce.attribution.models import (
    REVIEW_HELD,
    REVIEW_REJECTED,
    Commission,
    ShareClick,
)
from commerce.attribution.rules import CommissionPolicy
from commerce.catalog.rates import bp_to_percent
from commerce.coupons.checkout import coupons_of_order
from commerce.errors import NotFound
from commerce.money import format_money
from commerce.orders.models import Order, OrderLine


def percent(bp: int) -> str:
    """Basis points as a percentage: 1000 -> '10%', 250 -> '2.5%'."""
    return bp_to_percent(bp) + "%"


def access_order_credits(session: Session, public_id: str, user: User) -> Order:
    """The buyer, the merchant, each credited person and admins; anyone else gets a 404."""
    order = session.scalar(select(Order).where(Order.public_id == public_id))
    if order is None:
        raise NotFound(_("This order does not exist."))
    if user.is_admin or user.id in (order.buyer_id, order.merchant_id):
        return order
    credited = session.scalar(
        select(Commission.id)
        .join(OrderLine, OrderLine.id == Commission.order_line_id)
        .where(OrderLine.order_id == order.id, Commission.user_id == user.id)
        .limit(1)
    )
    if credited is None:
        raise NotFound(_("This order does not exist."))
    return order


@dataclass
class CreditRow:
    commission: Commission
    name: str
    sentence: str
    review_note: str
    state: CreditState  # what happened to it since, from the ledger


@dataclass
class LineExplanation:
    line: OrderLine
    creator_name: str | None
    chain_names: list[str]  # nearest first
    arrived_through_share: bool
    credits: list[CreditRow]
    coupon_notes: list[str]  # which coupon changed what on this line


def sentence(c: Commission, name: str, policy: CommissionPolicy) -> str:
    """One plain sentence per reason code, with the numbers that produced it."""
    base = format_money(c.base_minor, c.currency)
    amount = format_money(c.amount_minor, c.currency)
    rate = percent(c.rate_bp)
    if c.reason == rules.OWN_PURCHASE:
        return _(
            "%(name)s bought this themselves: nobody earns a commission on their own purchase.",
            name=name,
        )
    if c.reason == rules.ALREADY_CREDITED:
        return _("%(name)s appears earlier for this line and is paid only once.", name=name)
    if c.reason == rules.BEYOND_PAID_DEPTH:
        return _(
            "%(name)s is level %(level)s of the sharer chain. Only %(levels)s sharer levels are "
            "paid (paying more levels would be pyramid selling), so this is credit without pay.",
            name=name,
            level=c.level,
            levels=policy.paid_levels,
        )
    if c.reason == rules.ZERO_RATE:
        return _("%(name)s has a rate of 0%% on this product, so nothing is due.", name=name)
    if c.reason == rules.CAP_REACHED:
        return _(
            "All commissions on a line together are capped at %(cap)s of its price; the cap "
            "was used up before %(name)s's %(rate)s.",
            cap=percent(policy.cap_bp),
            name=name,
            rate=rate,
        )
    if c.role == rules.CREATOR:
        text = _(
            "%(name)s made the content this was bought from: creator fee %(rate)s of "
            "%(base)s = %(amount)s.",
            name=name,
            rate=rate,
            base=base,
            amount=amount,
        )
    elif c.level == 1:
        text = _(
            "%(name)s shared the link the buyer opened last: direct sharer, %(rate)s of "
            "%(base)s = %(amount)s.",
            name=name,
            rate=rate,
            base=base,
            amount=amount,
        )
    else:
        text = _(
            "%(name)s's link was re-shared by the next person in the chain: upline, "
            "%(share)s of the sharer rate, %(rate)s of %(base)s = %(amount)s.",
            name=name,
            share=percent(policy.upline_share_bp),
            rate=rate,
            base=base,
            amount=amount,
        )
    if c.amount_minor < rules.rate_amount(c.base_minor, c.rate_bp):
        text += " " + _(
            "Reduced to fit the cap of %(cap)s of the line's price.", cap=percent(policy.cap_bp)
        )
    return text


def coupon_notes(line: OrderLine, titles: dict[str, str], currency: str) -> list[str]:
    """What each coupon did to the line's commission base (promotions.md, principle 6)."""
    notes = []
    if line.merchant_discount_minor:
        notes.append(
            _(
                "Shop coupon %(title)s took %(amount)s off this line. The shop funds it, so it "
                "lowers the commission base.",
                title=titles.get("merchant", "?"),
                amount=format_money(line.merchant_discount_minor, currency),
            )
        )
    if line.platform_discount_minor:
        notes.append(
            _(
                "Platform coupon %(title)s took %(amount)s off this line. The platform pays it "
                "to the shop, so the commission base stays %(base)s.",
                title=titles.get("platform", "?"),
                amount=format_money(line.platform_discount_minor, currency),
                base=format_money(line.commission_base_minor, currency),
            )
        )
    if line.points_discount_minor:
        notes.append(
            _(
                "%(points)s points took %(amount)s off this line. The platform pays it to the "
                "shop, so the commission base stays %(base)s.",
                points=line.points_used,
                amount=format_money(line.points_discount_minor, currency),
                base=format_money(line.commission_base_minor, currency),
            )
        )
    return notes


def explain_order(
    session: Session, order: Order, policy: CommissionPolicy
) -> list[LineExplanation]:
    commissions = list(
        session.scalars(
            select(Commission)
            .join(OrderLine, OrderLine.id == Commission.order_line_id)
            .where(OrderLine.order_id == order.id)
            .order_by(Commission.order_line_id, Commission.level, Commission.id)
        )
    )
    user_ids = {c.user_id for c in commissions}
    for line in order.lines:
        user_ids.update(line.chain or [])
        if line.creator_id:
            user_ids.add(line.creator_id)
    names = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
    )
    states = commission_states(session, [c.id for c in commissions])
    titles = {c.template.funded_by: c.template.title for c in coupons_of_order(session, order.id)}
    result = []
    for line in order.lines:
        rows = []
        for c in (c for c in commissions if c.order_line_id == line.id):
            name = names.get(c.user_id, "?")
            note = ""
            if c.review == REVIEW_HELD:
                note = _("Held for review by the platform: not paid until approved.")
            elif c.review == REVIEW_REJECTED:
                note = _("Rejected after review: not paid.")
            rows.append(CreditRow(c, name, sentence(c, name, policy), note, state_of(states, c.id)))
        click = session.get(ShareClick, line.click_id) if line.click_id else None
        result.append(
            LineExplanation(
                line,
                names.get(line.creator_id) if line.creator_id else None,
                [names.get(uid, "?") for uid in (line.chain or [])],
                click is not None,
                rows,
                coupon_notes(line, titles, order.currency),
            )
        )
    return result
