"""Campaigns and groups as the API and the pages show them; a group as a share target."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.attribution.links import Target
from commerce.files.services import object_url
from commerce.groupbuy import rules
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.groupbuy.schemas import CampaignOut, GroupOut, MemberOut
from commerce.money import format_money


def group_url(group: Group) -> str:
    return f"/groups/{group.public_id}"


def campaign_rules(campaign: GroupCampaign) -> list[str]:
    """The full rules, shown before anyone takes part (规范促销行为暂行规定)."""
    currency = campaign.product.currency
    hours = campaign.window_minutes / 60
    lines = [
        _(
            "Group price %(price)s instead of %(list)s, one unit per order.",
            price=format_money(campaign.price_minor, currency),
            list=format_money(campaign.product.price_minor, currency),
        ),
        _("A group needs %(n)s paid buyers, the leader included.", n=campaign.group_size),
        _(
            "The group opens when its leader has paid and has %(hours)s hours to fill.",
            hours=f"{hours:g}",
        ),
        _(
            "If it does not fill in time, every member is refunded in full automatically.",
        ),
        _("Orders ship once the group is full."),
        _("At most %(n)s orders per person in this campaign.", n=campaign.per_person_limit),
    ]
    if campaign.total_limit is not None:
        lines.append(_("At most %(n)s orders in total.", n=campaign.total_limit))
    if campaign.leader_free:
        lines.append(
            _(
                "Leader rides free: the leader of a full group is refunded after the return "
                "window, for the first %(n)s groups (budget %(budget)s).",
                n=campaign.free_quota,
                budget=format_money(campaign.free_budget_minor, currency),
            )
        )
    lines.append(_("No virtual members: every member is a real buyer who paid."))
    return lines


def campaign_out(campaign: GroupCampaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        product_id=campaign.product_id,
        price_minor=campaign.price_minor,
        price_display=format_money(campaign.price_minor, campaign.product.currency),
        list_price_minor=campaign.product.price_minor,
        group_size=campaign.group_size,
        window_minutes=campaign.window_minutes,
        per_person_limit=campaign.per_person_limit,
        total_limit=campaign.total_limit,
        taken=campaign.taken,
        leader_free=campaign.leader_free,
        free_quota=campaign.free_quota,
        free_used=campaign.free_used,
        free_budget_minor=campaign.free_budget_minor,
        free_spent_minor=campaign.free_spent_minor,
        active=campaign.active,
        rules=campaign_rules(campaign),
    )


def members(session: Session, group: Group) -> list[GroupSeat]:
    return list(
        session.scalars(
            select(GroupSeat)
            .where(
                GroupSeat.group_id == group.id,
                GroupSeat.state.in_((rules.PAID, rules.REFUNDED)),
            )
            .order_by(GroupSeat.paid_at, GroupSeat.id)
        )
    )


def group_out(session: Session, group: Group, now: datetime) -> GroupOut:
    state = rules.effective_state(group.state, group.expires_at, now)
    left = 0
    if state == rules.OPEN and group.expires_at is not None:
        left = max(int((group.expires_at - now).total_seconds()), 0)
    return GroupOut(
        id=group.public_id,
        product_id=group.campaign.product_id,
        campaign_id=group.campaign_id,
        leader_id=group.leader_id,
        leader_name=group.leader.display_name,
        state=state,
        size=group.size,
        paid=group.paid,
        held=group.held,
        seats_left=rules.seats_left(group.size, group.paid, group.held)
        if state == rules.OPEN
        else 0,
        opened_at=group.opened_at,
        expires_at=group.expires_at,
        seconds_left=left,
        server_now=now,
        rebate_state=group.rebate_state,
        members=[
            MemberOut(
                user_id=s.user_id,
                name=s.user.display_name,
                avatar_url=object_url(s.user.avatar) if s.user.avatar else None,
                role=s.role,
                state=s.state,
            )
            for s in members(session, group)
        ],
        url=group_url(group),
    )


def group_target(session: Session, key: str) -> Target | None:
    """A group as a share link lands on it: its page, with the product's picture."""
    group = session.scalar(select(Group).where(Group.public_id == key)) if len(key) <= 24 else None
    if group is None or group.state in (rules.PENDING, rules.ABANDONED):
        return None
    product = group.campaign.product
    image = product.images[0].object if product.images else None
    return Target(
        "group",
        key,
        _("Join %(name)s's group: %(title)s", name=group.leader.display_name, title=product.title),
        product.description[:300],
        object_url(image),
        group_url(group),
        group.leader_id,
    )


STATE_LABELS = {
    rules.OPEN: _l("filling"),
    rules.SUCCEEDED: _l("succeeded"),
    rules.FAILED: _l("failed, refunded"),
    rules.PENDING: _l("waiting for the leader to pay"),
    rules.ABANDONED: _l("not opened"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def live_strings(size: int) -> dict[str, dict[str, str]]:
    """What group-live.js shows as the group changes, in the page's language: state labels and
    "N seats left" for every N the group can have (plural rules stay on the server)."""
    return {
        "states": {state: str(label) for state, label in STATE_LABELS.items()},
        "seats_left": {
            str(n): ngettext("%(num)d seat left", "%(num)d seats left", n) for n in range(size + 1)
        },
    }
