"""Invite rules as plain functions: the invitation's state machine, who counts as invited, when
the sharer's reward is due, the one-reward-per-person checks and the per-sharer caps."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from commerce.attribution.fraud import normalise_email, normalise_phone

# An invitation's states. JOINED: signed up through a share link, no qualifying paid order yet.
# FIRST_PAID: the first qualifying order is paid; the reward waits for its return window.
# FLAGGED: the one-per-person checks matched; an operator approves (back to FIRST_PAID, checks
# cleared) or rejects (VOID). REWARDED and VOID are final.
JOINED, FIRST_PAID, REWARDED, VOID, FLAGGED = "joined", "first_paid", "rewarded", "void", "flagged"
STATES = (JOINED, FIRST_PAID, REWARDED, VOID, FLAGGED)
TRANSITIONS: dict[str, frozenset[str]] = {
    JOINED: frozenset({FIRST_PAID, VOID}),
    FIRST_PAID: frozenset({REWARDED, VOID, FLAGGED}),
    FLAGGED: frozenset({FIRST_PAID, VOID}),
    REWARDED: frozenset(),
    VOID: frozenset(),
}

# Why an invitation ended without a reward.
EXPIRED, REFUNDED, REJECTED, BELOW_MINIMUM = "expired", "refunded", "rejected", "below_minimum"
APPROVED = "approved"

# What became of the welcome coupon at sign-up.
WELCOME_GIVEN, DEVICE_USED, OWN_DEVICE = "given", "device_used", "own_device"
WELCOME_UNAVAILABLE, WELCOME_OFF = "unavailable", "off"


class IllegalInviteMove(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an invitation cannot go from {current} to {wanted}")
        self.current, self.wanted = current, wanted


def check_move(current: str, wanted: str) -> str:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalInviteMove(current, wanted)
    return wanted


@dataclass(frozen=True)
class Settings:
    """The programme's limits, read from the app's config at the edge (settings_from_config)."""

    order_window: timedelta = timedelta(days=30)
    hold: timedelta = timedelta(days=7)
    min_order_minor: int = 1000
    daily_cap: int = 20  # rewards per sharer per day; 0: no cap
    monthly_cap: int = 100
    ip_signups: int = 3  # invitees of one sharer signing up from one network within ip_window
    ip_window: timedelta = timedelta(hours=24)
    attribution_window: timedelta = timedelta(days=7)
    reward_kind: str = "coupon"


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    return Settings(
        order_window=timedelta(days=config["INVITE_ORDER_WINDOW_DAYS"]),
        hold=timedelta(seconds=config["INVITE_HOLD_SECONDS"]),
        min_order_minor=config["INVITE_MIN_ORDER_MINOR"],
        daily_cap=config["INVITE_SHARER_DAILY_CAP"],
        monthly_cap=config["INVITE_SHARER_MONTHLY_CAP"],
        ip_signups=config["INVITE_IP_SIGNUPS"],
        ip_window=timedelta(hours=config["INVITE_IP_WINDOW_HOURS"]),
        attribution_window=timedelta(days=config["ATTRIBUTION_WINDOW_DAYS"]),
        reward_kind=config["INVITE_SHARER_REWARD"],
    )


# Who counts as invited -----------------------------------------------------------------------


def may_join(
    *,
    sharer_id: int | None,
    invitee_id: int,
    clicked_at: datetime | None,
    signed_up_at: datetime,
    window: timedelta,
    paid_orders_before: int,
    sharer_banned: bool,
) -> str:
    """'ok' or why this sign-up is not an invitation: a new account, after a click on someone
    else's share link within the attribution window, with no paid order before."""
    if sharer_id is None or clicked_at is None:
        return "no_link"
    if sharer_id == invitee_id:
        return "own_link"
    if clicked_at > signed_up_at or signed_up_at - clicked_at > window:
        return "outside_window"
    if paid_orders_before > 0:
        return "not_new"
    if sharer_banned:
        return "sharer_banned"
    return "ok"


def welcome_verdict(*, programme_ready: bool, own_device: bool, device_free: bool) -> str:
    """The welcome coupon: one per person (the account) and one per device."""
    if not programme_ready:
        return WELCOME_OFF
    if own_device:
        return OWN_DEVICE
    if not device_free:
        return DEVICE_USED
    return WELCOME_GIVEN


def effective_state(state: str, order_by_at: datetime, now: datetime) -> str:
    """The check on read: a joined invitation past its order window is void before the job runs."""
    return VOID if state == JOINED and now >= order_by_at else state


def counts_as_first_order(paid_minor: int, settings: Settings) -> bool:
    """Orders below the minimum do not count: a coupon must not buy a reward for ¥0.01."""
    return paid_minor >= settings.min_order_minor


# When the reward is due ----------------------------------------------------------------------

WAIT, DUE, END = "wait", "due", "end"


@dataclass(frozen=True)
class Verdict:
    action: str  # WAIT, DUE or END (void)
    reason: str


def reward_verdict(
    *,
    order_state: str,
    delivered_at: datetime | None,
    total_minor: int,
    refunded_minor: int,
    refund_open: bool,
    now: datetime,
    settings: Settings,
) -> Verdict:
    """The first order must be delivered and past its return window (the commission hold), with
    no refund asked; refunded in full, or below the minimum after refunds, it voids the reward."""
    if order_state in ("refunded", "cancelled"):
        return Verdict(END, REFUNDED)
    if not counts_as_first_order(total_minor - refunded_minor, settings):
        return Verdict(END, BELOW_MINIMUM)
    if delivered_at is None or order_state not in ("delivered", "completed", "partially_refunded"):
        return Verdict(WAIT, "not_delivered")
    if refund_open:
        return Verdict(WAIT, "refund_open")
    if now < delivered_at + settings.hold:
        return Verdict(WAIT, "return_window_open")
    return Verdict(DUE, "ok")


def reward_due_at(delivered_at: datetime | None, settings: Settings) -> datetime | None:
    return delivered_at + settings.hold if delivered_at is not None else None


# One reward per person -----------------------------------------------------------------------

SAME_EMAIL, SAME_PHONE, SAME_DEVICE = "invite_same_email", "invite_same_phone", "invite_same_device"
SAME_ADDRESS, IP_BURST = "invite_same_address", "invite_ip_burst"
SAME_PAYMENT = "invite_same_payment"  # the same card (the provider's instrument fingerprint)
SIGNALS = (SAME_EMAIL, SAME_PHONE, SAME_DEVICE, SAME_ADDRESS, IP_BURST, SAME_PAYMENT)


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_ABBREVIATIONS = {"road": "rd", "street": "st", "avenue": "ave", "building": "bldg", "room": "rm"}


def normalise_address(address: Mapping[str, Any]) -> str:
    """One comparable text for a delivery address: width-folded (全角 -> ASCII), lower case,
    punctuation and spaces gone, common English abbreviations folded. The recipient's name and
    phone are left out: the same flat under another name is still the same flat."""
    parts = []
    for name in ("country", "region", "city", "line1", "line2", "postal_code"):
        text = unicodedata.normalize("NFKC", str(address.get(name) or "")).lower()
        words = [_ABBREVIATIONS.get(w, w) for w in _NOT_WORD.split(text) if w]
        parts.append("".join(words))
    return "|".join(parts)


def address_key(address: Mapping[str, Any]) -> str | None:
    """A digest of the normalised address (None without a first line): compared, never shown."""
    text = normalise_address(address)
    if not address.get("line1"):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    """What the checks compare about one account: normalised e-mail, phones, devices, addresses,
    payment instruments (card fingerprints)."""

    email: str = ""
    phones: frozenset[str] = field(default_factory=frozenset)
    devices: frozenset[str] = field(default_factory=frozenset)
    addresses: frozenset[str] = field(default_factory=frozenset)
    instruments: frozenset[str] = field(default_factory=frozenset)


def _clean(values: Iterable[str | None]) -> frozenset[str]:
    return frozenset(v for v in values if v)


def person(
    email: str | None = None,
    phones: Iterable[str | None] = (),
    devices: Iterable[str | None] = (),
    addresses: Iterable[str | None] = (),
    instruments: Iterable[str | None] = (),
) -> Person:
    return Person(
        normalise_email(email),
        _clean(normalise_phone(p) for p in phones),
        _clean(devices),
        _clean(addresses),
        _clean(instruments),
    )


def person_signals(
    invitee: Person,
    sharer: Person,
    other_invitees: Iterable[Person],
    rewarded_invitees: Iterable[Person],
    *,
    signups_from_network: int,
    settings: Settings,
) -> list[tuple[str, str]]:
    """(signal, detail) pairs that make this look like the sharer, or like another invitee of
    the same sharer, rather than a new person. Any one holds the reward for review."""
    found: list[tuple[str, str]] = []
    if invitee.email and invitee.email == sharer.email:
        found.append((SAME_EMAIL, "invitee and sharer"))
    rewarded, others = list(rewarded_invitees), list(other_invitees)
    if invitee.phones & sharer.phones:
        found.append((SAME_PHONE, "invitee and sharer"))
    elif any(invitee.phones & other.phones for other in rewarded):
        found.append((SAME_PHONE, "another rewarded invitee"))
    if invitee.devices & sharer.devices:
        found.append((SAME_DEVICE, "invitee and sharer"))
    elif any(invitee.devices & other.devices for other in others):
        found.append((SAME_DEVICE, "another invitee of this sharer"))
    if invitee.addresses & sharer.addresses:
        found.append((SAME_ADDRESS, "invitee and sharer"))
    elif any(invitee.addresses & other.addresses for other in rewarded):
        found.append((SAME_ADDRESS, "another rewarded invitee"))
    # A card is one person's, like a browser: shared with the sharer or with any other live
    # invitee of hers (rewarded or not yet), it holds the reward. A household sharing a card
    # is what the review is for.
    if invitee.instruments & sharer.instruments:
        found.append((SAME_PAYMENT, "invitee and sharer"))
    elif any(invitee.instruments & other.instruments for other in others):
        found.append((SAME_PAYMENT, "another invitee of this sharer"))
    if settings.ip_signups and signups_from_network > settings.ip_signups:
        found.append((IP_BURST, f"{signups_from_network} invitees signed up from one network"))
    return found


# Caps ----------------------------------------------------------------------------------------


def cap_periods(now: datetime, settings: Settings) -> list[tuple[str, int]]:
    """(period key, cap) of each cap in force: the day's and the month's counters."""
    periods = []
    if settings.daily_cap > 0:
        periods.append((now.strftime("d%Y-%m-%d"), settings.daily_cap))
    if settings.monthly_cap > 0:
        periods.append((now.strftime("m%Y-%m"), settings.monthly_cap))
    return periods


# What the sharer's list shows ----------------------------------------------------------------

SHOWN_JOINED, SHOWN_ORDERED, SHOWN_REWARD_ON = "joined", "ordered", "reward_on"
SHOWN_REWARDED, SHOWN_VOID, SHOWN_REVIEW = "rewarded", "void", "review"


def shown_state(
    state: str, order_by_at: datetime, now: datetime, due_at: datetime | None
) -> tuple[str, datetime | None]:
    """(label key, date): joined (order by <date>), ordered (not delivered yet), reward on
    <date>, rewarded, void, under review."""
    current = effective_state(state, order_by_at, now)
    if current == JOINED:
        return SHOWN_JOINED, order_by_at
    if current == FIRST_PAID:
        return (SHOWN_REWARD_ON, due_at) if due_at is not None else (SHOWN_ORDERED, None)
    if current == FLAGGED:
        return SHOWN_REVIEW, None
    return (SHOWN_REWARDED, None) if current == REWARDED else (SHOWN_VOID, None)
