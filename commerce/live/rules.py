"""Live-room rules: the state machine, roles, pins, chat admission and rendering. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

SCHEDULED, LIVE, ENDED = "scheduled", "live", "ended"
STATES = (SCHEDULED, LIVE, ENDED)

# A scheduled room can be called off (ended without going live); an ended room never comes back,
# because the media layer refuses to publish to an ended room id again.
TRANSITIONS: dict[str, frozenset[str]] = {
    SCHEDULED: frozenset({LIVE, ENDED}),
    LIVE: frozenset({ENDED}),
    ENDED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a live room cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(current: str, wanted: str) -> str:
    """Return `wanted` if the move is in the table; anything else (ending twice too) is illegal."""
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(current, wanted)
    return wanted


# Roles and what each may do ---------------------------------------------------------------------

CREATOR, MODERATOR, VIEWER, ANONYMOUS = "creator", "moderator", "viewer", "anonymous"


@dataclass(frozen=True)
class Permissions:
    role: str
    can_chat: bool
    can_pin: bool  # pin, unpin, flash sales
    can_moderate: bool  # delete messages, mute, ban, slow mode, keyword filter
    can_manage: bool  # go live, end, stream key, moderators, edit the room


def role_of(user_id: int | None, creator_id: int, moderator_ids: Iterable[int]) -> str:
    if user_id is None:
        return ANONYMOUS
    if user_id == creator_id:
        return CREATOR
    return MODERATOR if user_id in set(moderator_ids) else VIEWER


def permissions_for(role: str, *, banned: bool = False) -> Permissions:
    staff = role in (CREATOR, MODERATOR)
    return Permissions(
        role=role,
        can_chat=role != ANONYMOUS and not banned,
        can_pin=role == CREATOR,
        can_moderate=staff,
        can_manage=role == CREATOR,
    )


def is_exempt_from_limits(role: str) -> bool:
    """The host and their moderators talk as much as the show needs."""
    return role in (CREATOR, MODERATOR)


def may_render_links(author_role: str) -> bool:
    """Only staff messages get clickable links: viewers' links are a spam and phishing vector."""
    return author_role in (CREATOR, MODERATOR)


# Pins ---------------------------------------------------------------------------------------------

MAX_PINS = 3


class PinRefused(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_pin(pinned_product_ids: Sequence[int], product_id: int) -> None:
    """At most MAX_PINS products pinned at once, each at most once."""
    if product_id in pinned_product_ids:
        raise PinRefused("already_pinned")
    if len(pinned_product_ids) >= MAX_PINS:
        raise PinRefused("too_many_pins")


# Chat admission -----------------------------------------------------------------------------------

RATE_LIMIT_MESSAGES = 5
RATE_LIMIT_WINDOW = timedelta(seconds=10)
MAX_KEYWORDS = 200
MAX_KEYWORD_LENGTH = 40


@dataclass(frozen=True)
class ChatRefusal:
    code: str  # rate_limited | slow_mode
    retry_after_s: int


def _ceil_seconds(delta: timedelta) -> int:
    return max(1, -int(-delta.total_seconds() // 1))


def chat_refusal(
    role: str,
    recent: Sequence[datetime],
    now: datetime,
    *,
    slow_mode_s: int,
    limit: int = RATE_LIMIT_MESSAGES,
    window: timedelta = RATE_LIMIT_WINDOW,
) -> ChatRefusal | None:
    """Whether a message may go out now, given the author's recent message times in this room.

    Slow mode allows one message per `slow_mode_s`; the rate limit allows `limit` per `window`.
    Staff are exempt from both.
    """
    if is_exempt_from_limits(role):
        return None
    times = sorted(recent)
    if slow_mode_s > 0 and times:
        next_allowed = times[-1] + timedelta(seconds=slow_mode_s)
        if now < next_allowed:
            return ChatRefusal("slow_mode", _ceil_seconds(next_allowed - now))
    in_window = [t for t in times if t > now - window]
    if len(in_window) >= limit:
        oldest_counted = in_window[-limit]
        return ChatRefusal("rate_limited", _ceil_seconds(oldest_counted + window - now))
    return None


def fold(text: str) -> str:
    """Compare like a reader would: width and compatibility forms unified, case ignored."""
    return unicodedata.normalize("NFKC", text).casefold()


def normalise_keywords(keywords: Iterable[str]) -> list[str]:
    """Trimmed, folded, de-duplicated, in the order given; empty entries dropped."""
    seen: dict[str, None] = {}
    for keyword in keywords:
        folded = fold(keyword.strip())
        if folded:
            seen.setdefault(folded, None)
    return list(seen)


def blocked_keyword(text: str, keywords: Iterable[str]) -> str | None:
    """The first filtered keyword the text contains (ignoring case, width and spacing)."""
    folded = fold(text)
    squeezed = re.sub(r"\s+", "", folded)
    for keyword in keywords:
        if keyword and (keyword in folded or re.sub(r"\s+", "", keyword) in squeezed):
            return keyword
    return None


def muted_until(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)


def is_muted(until: datetime | None, now: datetime) -> bool:
    return until is not None and now < until


# Rendering ----------------------------------------------------------------------------------------

LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?)]}"


def render_chat_html(text: str, *, links: bool) -> str:
    """The message as safe HTML: everything escaped; http(s) links made clickable when allowed.

    Stored text stays as typed; escaping happens here, on the way out.
    """
    if not links:
        return str(escape(text))
    parts: list[str] = []
    position = 0
    for match in LINK.finditer(text):
        url = match.group(0).rstrip(TRAILING_PUNCTUATION)
        end = match.start() + len(url)
        parts.append(str(escape(text[position : match.start()])))
        parts.append(
            str(
                Markup('<a href="{0}" rel="nofollow noopener ugc" target="_blank">{0}</a>').format(
                    url
                )
            )
        )
        position = end
    parts.append(str(escape(text[position:])))
    return "".join(parts)


# Flash-sale countdown -----------------------------------------------------------------------------

UPCOMING, ON, SOLD_OUT, OVER = "upcoming", "on", "sold_out", "over"


def flash_phase(now: datetime, starts_at: datetime, ends_at: datetime, remaining: int) -> str:
    """What a card shows: counting down to the start, on, sold out, or over (the server decides)."""
    if now >= ends_at:
        return OVER
    if remaining <= 0:
        return SOLD_OUT
    return UPCOMING if now < starts_at else ON


def seconds_until(now: datetime, moment: datetime) -> float:
    return max(0.0, (moment - now).total_seconds())


# Who holds a room's ingest ------------------------------------------------------------------------

INGEST_NONE, INGEST_HELD, INGEST_WAITING, INGEST_LAPSED = "none", "held", "waiting", "lapsed"


def ingest_status(
    seen_at: datetime | None,
    dropped_at: datetime | None,
    now: datetime,
    *,
    lease_s: float,
    grace_s: float,
) -> str:
    """none: no ingest ever; held: a node streams (heartbeat within the lease, no drop);
    waiting: dropped, or its node went silent (killed), within the grace; lapsed: grace over.

    A killed node writes no drop: its grace counts from its last heartbeat.
    """
    if seen_at is None:
        return INGEST_NONE
    if dropped_at is None and now - seen_at <= timedelta(seconds=lease_s):
        return INGEST_HELD
    since = dropped_at or seen_at
    return INGEST_WAITING if now - since <= timedelta(seconds=grace_s) else INGEST_LAPSED


def may_take_ingest(holder: str | None, node: str, status: str) -> bool:
    """A node may stream into a room no other node holds, until its grace is over (the room
    then ends; handover.py mirrors this in SQL)."""
    if status == INGEST_HELD:
        return holder in (None, node)
    return status != INGEST_LAPSED


def ingest_abandoned(
    seen_at: datetime | None,
    dropped_at: datetime | None,
    now: datetime,
    *,
    lease_s: float,
    grace_s: float,
    ended: bool = False,
) -> bool:
    """No node renews the room any more and nobody will finish it: the deployment's sweep does.

    A live room once its grace is over (a live node's dropped room is left to that node's own
    timer, which finalises the recording); an ended room (End pressed while its ingest was
    away) as soon as its lease lapsed. The ingest's end clears seen_at, so neither is swept twice.
    """
    if seen_at is None or now - seen_at <= timedelta(seconds=lease_s):
        return False
    if ended:
        return True
    return ingest_status(seen_at, dropped_at, now, lease_s=lease_s, grace_s=grace_s) == (
        INGEST_LAPSED
    )


# A room's viewer count goes out at most this often, by audience: every update is one message
# per viewer, so a room of 5,000 updated each 150 ms tick while people come and go would cost
# 33,000 messages a second, for a number shown as "5.0k". Small rooms see every change.
VIEWER_COUNT_CADENCE = ((100, 0.0), (1000, 1.0))  # (up to this many viewers, seconds apart)
BIG_ROOM_VIEWER_COUNT_SECONDS = 3.0


def viewer_count_interval(viewers: int) -> float:
    """Seconds between two viewer-count updates of a room with this audience."""
    for ceiling, seconds in VIEWER_COUNT_CADENCE:
        if viewers <= ceiling:
            return seconds
    return BIG_ROOM_VIEWER_COUNT_SECONDS


def obs_server_url(configured: str | None, rtmp_port: int, host: str) -> str | None:
    """The RTMP server a creator types into OBS. LIVE_RTMP_URL wins (RTMP on an ingest node or
    behind a balancer); else this node's own RTMP port; None when this node runs no RTMP
    (LIVE_RTMP_PORT=0) and nobody said where it runs: the page then offers the browser camera."""
    if configured:
        return configured
    if rtmp_port <= 0:
        return None
    return f"rtmp://{host}:{rtmp_port}/live"
