"""Invites as the API and pages show them: the rules in the reader's language, the sharer's
list by display name only, the invitee's welcome, and the invite link as a share target."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution.links import Target
from commerce.coupons.claims import effective_state as coupon_state
from commerce.coupons.models import CouponTemplate
from commerce.coupons.present import headline
from commerce.invites import programme, rules, services
from commerce.invites.models import Invitation
from commerce.invites.schemas import (
    InvitationOut,
    InviteRulesOut,
    InvitesOut,
    ShareTargetOut,
    WelcomeOut,
)
from commerce.money import format_money
from commerce.orders.models import Order

TARGET_KIND, TARGET_KEY = "invite", "join"
LANDING_PATH = "/invite"

LABELS = {
    rules.SHOWN_JOINED: _l("Joined · first order by"),
    rules.SHOWN_ORDERED: _l("Ordered · waiting for delivery"),
    rules.SHOWN_REWARD_ON: _l("Ordered · reward on"),
    rules.SHOWN_REWARDED: _l("Rewarded"),
    rules.SHOWN_REVIEW: _l("Under review"),
    rules.SHOWN_VOID: _l("Void"),
}
VOID_REASONS = {
    rules.EXPIRED: _l("Void · no order in time"),
    rules.REFUNDED: _l("Void · first order refunded"),
    rules.REJECTED: _l("Void · not approved"),
    rules.BELOW_MINIMUM: _l("Void · first order below the minimum"),
}

# Why an invitation is held for review (its fraud flags' kinds), for the operator's page.
SIGNAL_LABELS = {
    rules.SAME_EMAIL: _l("Same e-mail"),
    rules.SAME_PHONE: _l("Same phone number"),
    rules.SAME_DEVICE: _l("Same device"),
    rules.SAME_ADDRESS: _l("Same delivery address"),
    rules.IP_BURST: _l("Many sign-ups from one network"),
    rules.SAME_PAYMENT: _l("Same payment card"),
}


def invite_target(_session: Session, key: str) -> Target | None:
    """The invite link's target: the programme's landing, which says who invited and offers
    the welcome coupon (links.EXTRA_TARGETS)."""
    if key != TARGET_KEY:
        return None
    return Target(
        TARGET_KIND,
        TARGET_KEY,
        _("Join LiveShop"),
        _("Sign up through this link and get a welcome coupon."),
        None,
        LANDING_PATH,
        None,
    )


def duration(value: timedelta) -> str:
    return format_timedelta(value, granularity="second", threshold=1.0, add_direction=False)


def rules_lines(
    settings: rules.Settings, welcome: CouponTemplate | None, reward: CouponTemplate | None
) -> list[str]:
    """The full rules, generated from the settings and templates, shown before taking part
    (规范促销行为暂行规定): every limit that can keep a reward from someone is here."""
    lines = [_("Invite people who are new to LiveShop with your link, or any share link of yours.")]
    if welcome is not None:
        lines.append(
            _(
                "Whoever signs up through it gets a welcome coupon: %(coupon)s. One per person "
                "and one per device.",
                coupon=headline(welcome),
            )
        )
    minimum = format_money(settings.min_order_minor, reward.currency if reward else "CNY")
    you_get = headline(reward) if reward is not None else _("a reward")
    lines += [
        _(
            "You get a coupon (%(reward)s) when their first order of at least %(minimum)s is "
            "paid, delivered and past its return window of %(hold)s.",
            reward=you_get,
            minimum=minimum,
            hold=duration(settings.hold),
        ),
        _(
            "Only their first such order counts, placed within %(window)s of signing up. If it "
            "is refunded in full, there is no reward; a later order does not count instead.",
            window=duration(settings.order_window),
        ),
        _("One reward per person you invite, ever."),
    ]
    if settings.daily_cap or settings.monthly_cap:
        lines.append(
            _(
                "At most %(day)s rewards a day and %(month)s a month; more wait for the next "
                "day or month.",
                day=settings.daily_cap or "∞",
                month=settings.monthly_cap or "∞",
            )
        )
    lines += [
        _(
            "Rewards are coupons, never cash. Only the person whose link was used is rewarded: "
            "nobody above them."
        ),
        _(
            "Sharing and sign-ups earn nothing by themselves. If an account looks like yours or "
            "like another person you invited (same device, phone, delivery address or network), "
            "the reward waits for our team's review."
        ),
    ]
    return lines


def rules_out(session: Session, settings: rules.Settings) -> InviteRulesOut:
    welcome, reward = programme.programme_templates(session)
    return InviteRulesOut(
        lines=rules_lines(settings, welcome, reward),
        welcome_headline=headline(welcome) if welcome is not None else None,
        reward_headline=headline(reward) if reward is not None else None,
        reward_kind=settings.reward_kind,
        min_order_minor=settings.min_order_minor,
        order_window_days=settings.order_window.days,
        hold_seconds=int(settings.hold.total_seconds()),
        daily_cap=settings.daily_cap,
        monthly_cap=settings.monthly_cap,
    )


def invitation_out(
    invitation: Invitation,
    name: str,
    order: Order | None,
    now: datetime,
    settings: rules.Settings,
) -> InvitationOut:
    delivered = order.delivered_at if order is not None else None
    shown, date = rules.shown_state(
        invitation.state, invitation.order_by_at, now, rules.reward_due_at(delivered, settings)
    )
    state = rules.effective_state(invitation.state, invitation.order_by_at, now)
    reason = invitation.reason if state == rules.VOID else ""
    if state == rules.VOID and invitation.state == rules.JOINED:
        reason = rules.EXPIRED  # void on read, before the job stored it
    label = VOID_REASONS.get(reason, LABELS[shown]) if shown == rules.SHOWN_VOID else LABELS[shown]
    return InvitationOut(
        id=invitation.id,
        invitee_name=name,
        state=state,
        shown=shown,
        label=str(label),
        date=date,
        joined_at=invitation.created_at,
        rewarded_at=invitation.rewarded_at,
        reason=reason,
    )


def invitations_out(
    session: Session, invitations: list[Invitation], now: datetime, settings: rules.Settings
) -> list[InvitationOut]:
    ids = {i.invitee_id for i in invitations}
    names = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    orders = services.first_orders(session, invitations)
    return [
        invitation_out(
            i, names.get(i.invitee_id, "?"), orders.get(i.first_order_id or 0), now, settings
        )
        for i in invitations
    ]


def welcome_out(
    session: Session, invitation: Invitation | None, now: datetime
) -> WelcomeOut | None:
    if invitation is None:
        return None
    sharer = session.get(User, invitation.sharer_id)
    coupon = services.welcome_coupon(session, invitation)
    return WelcomeOut(
        sharer_name=sharer.display_name if sharer is not None else "?",
        welcome=invitation.welcome,
        coupon_id=coupon.id if coupon is not None else None,
        coupon_headline=headline(coupon.template) if coupon is not None else None,
        coupon_state=coupon_state(coupon, now) if coupon is not None else None,
        coupon_expires_at=coupon.expires_at if coupon is not None else None,
    )


def invites_out(
    session: Session, user: User, now: datetime, settings: rules.Settings
) -> InvitesOut:
    items = invitations_out(session, services.my_invitations(session, user), now, settings)
    counts = {key: 0 for key in LABELS}
    for item in items:
        counts[item.shown] += 1
    return InvitesOut(
        rules=rules_out(session, settings),
        share=ShareTargetOut(target_kind=TARGET_KIND, target_key=TARGET_KEY),
        invitations=items,
        counts=counts,
        invited_by=welcome_out(session, services.open_invitation(session, user.id), now),
        server_now=now,
    )
