"""Share links: signed tokens, what a share points at, and telling real navigations from bots."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from commerce.catalog.models import Product
from commerce.files.services import object_url
from commerce.live.models import LiveRoom
from commerce.videos.models import Video

TOKEN_SALT = "liveshop.share-link"
LIVE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

# Link unfurlers and crawlers: they fetch the page for its preview, which is never a click.
BOT_AGENTS = re.compile(
    r"facebookexternalhit|facebot|twitterbot|slackbot|slack-imgproxy|whatsapp|telegrambot|"
    r"discordbot|linkedinbot|micromessenger.*(preview|crawler)|wechatbot|skypeuripreview|"
    r"pinterest|redditbot|embedly|iframely|applebot|googlebot|bingbot|yandex|baiduspider|"
    r"bytespider|vkshare|kakaotalk-scrap|(^|[^a-z])bot([^a-z]|$)|[a-z]bot/|crawler|spider|"
    r"link ?preview|curl/|wget/|python-requests|go-http-client",
    re.IGNORECASE,
)
AD_CLICK_IDS = ("gclid", "fbclid", "ttclid", "msclkid", "wbraid", "gbraid")


def serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=TOKEN_SALT)


def make_token(secret_key: str, share_id: int) -> str:
    """The token carries only the share id, signed: nobody can edit it to insert themselves."""
    return serializer(secret_key).dumps(share_id)


def read_token(secret_key: str, token: str) -> int | None:
    """The share id in a genuine token; None for a forged, edited or malformed one."""
    if len(token) > 200:
        return None
    try:
        value = serializer(secret_key).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def is_bot(user_agent: str | None) -> bool:
    return not user_agent or bool(BOT_AGENTS.search(user_agent))


# What a request to /s/<token> may do (navigation_verdict).
RECORD = "record"  # a navigation the person made: record the click, redirect to the target
ASK = "ask"  # a navigation nobody is known to have made: the one-tap landing, nothing recorded
PREVIEW = "preview"  # not a person opening a page (bot, prefetch, iframe, img, fetch): preview only

FETCH_METADATA = ("Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User")


def _not_a_page_view(method: str, headers: Mapping[str, str], user_agent: str | None) -> bool:
    if method != "GET" or is_bot(user_agent):
        return True
    purpose = (headers.get("Sec-Purpose") or headers.get("Purpose") or "").lower()
    if "prefetch" in purpose or "prerender" in purpose:
        return True
    mode = headers.get("Sec-Fetch-Mode")
    dest = headers.get("Sec-Fetch-Dest")
    return (mode is not None and mode != "navigate") or (dest is not None and dest != "document")


def navigation_verdict(method: str, headers: Mapping[str, str], user_agent: str | None) -> str:
    """Record only a top-level navigation the person made; this is what keeps cookie stuffing out.

    Bots, prefetches, iframes, images and fetch() never count (PREVIEW). A browser that sends
    Fetch Metadata proves a gesture with `Sec-Fetch-User: ?1` (a click or tap on a link,
    followed through redirects) or `Sec-Fetch-Site: none` (typed, a bookmark, opened from
    another app): RECORD. Anything else, such as a third-party page setting `top.location`
    on load, gets the one-tap landing (ASK), which records only when the person taps Continue.

    Browsers that send no Fetch Metadata at all (Safari before 16.4, Firefox before 90) cannot
    tell a tap from a script, so they get the one-tap landing too: one more tap for a few
    people, rather than a door left open to stuffing. The limits: a person can be talked into
    tapping Continue, and an app that opens the link for them (Sec-Fetch-Site: none) counts.
    """
    if _not_a_page_view(method, headers, user_agent):
        return PREVIEW
    if not any(headers.get(name) is not None for name in FETCH_METADATA):
        return ASK
    if headers.get("Sec-Fetch-User") == "?1" or headers.get("Sec-Fetch-Site") == "none":
        return RECORD
    return ASK


def is_confirmation(headers: Mapping[str, str], user_agent: str | None) -> bool:
    """The landing's Continue form, submitted in a tab from our own page (CSRF checks the rest).

    Submitted inside a frame (Sec-Fetch-Dest: iframe), it is a clickjacking attempt: refused.
    """
    if _not_a_page_view("GET", headers, user_agent):
        return False
    site = headers.get("Sec-Fetch-Site")
    return site is None or site == "same-origin"


def has_ad_click_id(args: Mapping[str, str]) -> bool:
    return any(args.get(name) for name in AD_CLICK_IDS)


@dataclass(frozen=True)
class Target:
    """What a share points at, as a landing page shows it."""

    kind: str
    key: str
    title: str
    description: str
    image_url: str | None
    path: str  # where a click lands
    owner_id: int | None  # the creator or merchant


def video_target(video: Video | None) -> Target | None:
    if video is None or not video.is_published:
        return None
    return Target(
        "video",
        video.public_id,
        video.title or video.creator.display_name,
        video.description[:300],
        object_url(video.poster),
        f"/v/{video.public_id}",
        video.creator_id,
    )


def find_targets(session: Session, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], Target]:
    """find_target for many (kind, key) pairs: videos in one query (a page of links)."""
    keys = [key for kind, key in wanted if kind == "video"]
    videos = (
        {
            video.public_id: video
            for video in session.scalars(
                select(Video).where(Video.public_id.in_(keys)).options(selectinload(Video.poster))
            )
        }
        if keys
        else {}
    )
    found: dict[tuple[str, str], Target] = {}
    for kind, key in wanted:
        target = (
            video_target(videos.get(key)) if kind == "video" else find_target(session, kind, key)
        )
        if target is not None:
            found[(kind, key)] = target
    return found


# Shareable things of areas above this one (a group-buying group): kind -> finder, registered
# by that area at start-up, so one signed link can carry both the thing and the attribution.
EXTRA_TARGETS: dict[str, Callable[[Session, str], Target | None]] = {}


def find_target(session: Session, kind: str, key: str) -> Target | None:
    """The shareable thing, or None when it does not exist or is not public."""
    if kind in EXTRA_TARGETS:
        return EXTRA_TARGETS[kind](session, key)
    if kind == "video":
        return video_target(session.scalar(select(Video).where(Video.public_id == key)))
    if kind == "product":
        product = session.get(Product, int(key)) if key.isdigit() and len(key) < 12 else None
        if product is None or not product.is_active:
            return None
        image = product.images[0].object if product.images else None
        return Target(
            kind,
            key,
            product.title,
            product.description[:300],
            object_url(image),
            f"/products/{product.id}",
            product.merchant_id,
        )
    if kind == "live" and LIVE_KEY.match(key):
        # Rooms are public from the moment they are scheduled, ended ones too (they lead to
        # the replay).
        room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == key))
        if room is None:
            return None
        return Target(
            kind,
            key,
            room.title or _("Live room"),
            room.description[:300],
            object_url(room.cover),
            f"/live/{room.public_id}",
            room.creator_id,
        )
    return None
