"""Notifications as people read them: text in the viewer's language, link, JSON shape."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.routing import BuildError

from commerce.accounts.models import User
from commerce.notifications import rules
from commerce.notifications.models import Notification, NotificationEvent
from commerce.notifications.schemas import NotificationOut

TYPE_LABELS = {
    rules.VIDEO: _l("New videos from creators you follow"),
    rules.LIVE: _l("Lives starting: creators you follow, rooms you asked to be reminded of"),
    rules.REPLY: _l("Replies to your comments"),
    rules.MENTION: _l("Mentions in comments"),
    rules.FOLLOWER: _l("New followers"),
    rules.ORDER: _l("Your orders: paid, shipped, delivered, refunds"),
    rules.COMMISSION: _l("Commissions available to withdraw"),
    rules.PAYOUT: _l("Payouts paid"),
    rules.GROUP: _l("Group buys: a group you joined filled or failed, leader-free rebates"),
    rules.INVITE: _l("Invites: your welcome coupon, rewards for people you invited"),
    rules.POINTS: _l("Points ready to use after the return window"),
}
CHANNEL_LABELS = {rules.IN_APP: _l("In the app"), rules.EMAIL: _l("E-mail")}

ORDER_TEXTS = {
    "paid": _l("Your order %(code)s is paid."),
    "shipped": _l("Your order %(code)s has shipped."),
    "delivered": _l("Your order %(code)s was delivered."),
    "refunded": _l("Your order %(code)s was refunded."),
    "partially_refunded": _l("Part of your order %(code)s was refunded."),
    "refund_declined": _l("Your refund request for order %(code)s was declined."),
}

GROUP_TEXTS = {
    "succeeded": _l("Your group for %(title)s is full: your order will ship."),
    "failed": _l("Your group for %(title)s did not fill in time: you were refunded in full."),
    "rebate": _l(
        "You led a full group for %(title)s: your order was refunded (leader rides free)."
    ),
}


INVITE_TEXTS = {
    "welcome": _l("Your welcome coupon has arrived: see My coupons."),
    "rewarded": _l("Someone you invited made their first order: your reward coupon has arrived."),
}


def consent_wording(address: str) -> str:
    """The consent text of rules.CONSENT_WORDING_VERSION: change both together."""
    return _(
        "Send notification e-mails to %(address)s for the types I switch on. I can unsubscribe "
        "from each type with the link in every e-mail, or here at any time.",
        address=address,
    )


def notification_text(event: NotificationEvent, actor: User | None) -> str:
    p = event.params or {}
    name = actor.display_name if actor is not None else _("Someone")
    title = str(p.get("title") or "")
    if event.type == rules.VIDEO:
        return _("%(name)s posted a new video: %(title)s", name=name, title=title)
    if event.type == rules.LIVE:
        return _("%(name)s is live now: %(title)s", name=name, title=title)
    if event.type == rules.REPLY:
        return _("%(name)s replied to your comment: %(text)s", name=name, text=title)
    if event.type == rules.MENTION:
        return _("%(name)s mentioned you: %(text)s", name=name, text=title)
    if event.type == rules.FOLLOWER:
        return _("%(name)s started following you.", name=name)
    if event.type == rules.ORDER:
        text = ORDER_TEXTS.get(str(p.get("state")), ORDER_TEXTS["paid"])
        return str(text) % {"code": p.get("code", "")}
    if event.type == rules.COMMISSION:
        return _("A commission of %(amount)s is available to withdraw.", amount=p.get("amount", ""))
    if event.type == rules.GROUP:
        text = GROUP_TEXTS.get(str(p.get("state")), GROUP_TEXTS["succeeded"])
        return str(text) % {"title": title}
    if event.type == rules.INVITE:
        return str(INVITE_TEXTS.get(str(p.get("state")), INVITE_TEXTS["rewarded"]))
    if event.type == rules.POINTS:
        amount = int(p.get("amount") or 0)
        return ngettext(
            "%(num)d point is ready to use.", "%(num)d points are ready to use.", amount
        )
    if event.type == rules.PAYOUT:
        return _("Your payout of %(amount)s was paid.", amount=p.get("amount", ""))
    return title


def target_url(event: NotificationEvent, *, external: bool = False) -> str:
    p = event.params or {}
    try:
        return url_for(str(p["endpoint"]), _external=external, **(p.get("args") or {}))
    except (KeyError, BuildError):
        return url_for("notifications.inbox", _external=external)


def notification_out(row: tuple[Notification, NotificationEvent, User | None]) -> NotificationOut:
    notification, event, actor = row
    return NotificationOut(
        id=notification.id,
        type=event.type,
        text=notification_text(event, actor),
        url=target_url(event),
        actor_id=actor.id if actor else None,
        actor_name=actor.display_name if actor else None,
        created_at=notification.created_at,
        read=notification.read_at is not None,
    )


def preference_rows(chosen: dict[tuple[str, str], bool]) -> list[dict[str, Any]]:
    grid = rules.preference_grid(chosen)
    return [
        {"type": kind, "label": TYPE_LABELS[kind], "channels": grid[kind]} for kind in rules.TYPES
    ]
