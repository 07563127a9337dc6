"""The app shell: the phone's bottom tabs and which one a page belongs to."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from commerce.orders.present import history_note, order_state_label, order_strings
from commerce.timeutil import rfc3339

INBOX_ENDPOINT = "notifications.inbox"


@dataclass(frozen=True)
class Tab:
    key: str
    endpoint: str
    label: Any  # a lazy string: translated when the page renders
    icon: str  # an SVG path drawn with the text colour
    anchor: str = ""


ICONS = {
    "home": "M3 11 12 3l9 8v10h-6v-6H9v6H3z",
    "shop": "M5 8h14l-1 13H6L5 8zm4 0V7a3 3 0 0 1 6 0v1",
    "create": "M4 4h16v16H4zM12 8v8M8 12h8",
    "inbox": "M6 16v-5a6 6 0 0 1 12 0v5l2 2H4zM10 21h4",
    "me": "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 4-6 8-6s8 2 8 6",
}


def tabs_for(*, is_creator: bool, endpoints: Collection[str]) -> list[Tab]:
    """Home, Shop, Create, Inbox (once notifications exist), Me."""
    create = (
        Tab("create", "videos.studio", _l("Create"), ICONS["create"], "#upload")
        if is_creator
        else Tab("create", "accounts.create", _l("Create"), ICONS["create"])
    )
    tabs = [
        Tab("home", "videos.feed_page", _l("Home"), ICONS["home"]),
        Tab("shop", "catalog.product_list", _l("Shop"), ICONS["shop"]),
        create,
    ]
    if INBOX_ENDPOINT in endpoints:
        tabs.append(Tab("inbox", INBOX_ENDPOINT, _l("Inbox"), ICONS["inbox"]))
    tabs.append(Tab("me", "accounts.me", _l("Me"), ICONS["me"]))
    return tabs


# Which tab lights up for a page: by blueprint, then by endpoint; the rest belong to "Me".
TAB_OF_ENDPOINT = {
    "videos.feed_page": "home",
    "videos.watch": "home",
    "live.room_page": "home",
    "videos.studio": "create",
    "videos.studio_video": "create",
    "accounts.create": "create",
    "live.studio_rooms": "create",
    "live.new_room": "create",
    "live.edit_room": "create",
    "live.control": "create",
}
MERCHANT_PAGES = frozenset({"catalog.my_products", "catalog.new_product", "catalog.edit_product"})
TAB_OF_BLUEPRINT = {"catalog": "shop", "notifications": "inbox"}


def active_tab(endpoint: str | None) -> str:
    if not endpoint:
        return ""
    if endpoint in TAB_OF_ENDPOINT:
        return TAB_OF_ENDPOINT[endpoint]
    if endpoint in MERCHANT_PAGES:
        return "me"  # a merchant manages their own products from "Me", not from the shop
    return TAB_OF_BLUEPRINT.get(endpoint.split(".", 1)[0], "me")


def local_time(value: datetime | None, style: str = "datetime") -> Markup:
    """A stored UTC time as <time>: UTC text without JS, the viewer's zone with (localtime.js)."""
    if value is None:
        return Markup("—")
    text = value.strftime("%Y-%m-%d" if style == "date" else "%Y-%m-%d %H:%M") + " UTC"
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(
        rfc3339(value), style, text
    )


def init_app(app: Flask) -> None:
    def shell_tabs(user: Any) -> list[Tab]:
        return tabs_for(
            is_creator=bool(user and user.is_creator), endpoints=current_app.view_functions
        )

    app.jinja_env.globals.update(
        shell_tabs=shell_tabs,
        shell_active_tab=lambda: active_tab(request.endpoint),
        local_time=local_time,
        order_state_label=order_state_label,
        history_note=history_note,
        order_strings=order_strings,
    )
