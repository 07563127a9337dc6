"""Share links: signed tokens, what a share points at, and telling real navigations from bots."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

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


def is_real_navigation(method: str, headers: Mapping[str, str], user_agent: str | None) -> bool:
    """A person opening the link in a tab: not a bot, a prefetch, an iframe, an img or a fetch().

    Browsers send Sec-Fetch-* on every request; where they are missing (old browsers) the user
    agent alone decides. Counting only top-level navigations is what keeps cookie stuffing out.
    """
    if method != "GET" or is_bot(user_agent):
        return False
    purpose = (headers.get("Sec-Purpose") or headers.get("Purpose") or "").lower()
    if "prefetch" in purpose or "prerender" in purpose:
        return False
    mode = headers.get("Sec-Fetch-Mode")
    if mode is not None and mode != "navigate":
        return False
    dest = headers.get("Sec-Fetch-Dest")
    return dest is None or dest == "document"


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


def find_target(session: Session, kind: str, key: str) -> Target | None:
    """The shareable thing, or None when it does not exist or is not public."""
    if kind == "video":
        video = session.scalar(select(Video).where(Video.public_id == key))
        if video is None or not video.is_published:
            return None
        return Target(
            kind,
            key,
            video.title or video.creator.display_name,
            video.description[:300],
            object_url(video.poster),
            f"/v/{video.public_id}",
            video.creator_id,
        )
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
