"""Search JSON API: videos, creators and products matching Chinese or Latin words."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

from commerce.accounts.api import client_key
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.search import services
from commerce.search.present import hit_out
from commerce.search.schemas import SearchPage, SearchQuery
from commerce.timeutil import utcnow

bp = Blueprint("search_api", __name__, url_prefix="/api/v1")


def limiter() -> services.RateLimiter:
    return current_app.extensions["search_rate_limiter"]


def check_rate() -> None:
    limiter().check(client_key(), utcnow(), current_app.config["SEARCH_RATE_LIMIT"])


@endpoint(
    bp,
    "/search",
    summary="Search published videos, creators or products (Chinese words found inside longer"
    " text); best ranked first, by keyset cursor",
    query=SearchQuery,
    response=SearchPage,
    auth=False,
    errors=(400, 429),
)
def search(query: SearchQuery) -> SearchPage:
    check_rate()
    found, cursor = services.search(
        db.session, query.q, query.kind, cursor=query.cursor, limit=query.limit
    )
    return SearchPage(
        q=query.q, kind=query.kind, items=[hit_out(o) for o in found], next_cursor=cursor
    )


def init_app(app: Flask) -> None:
    app.extensions["search_rate_limiter"] = services.RateLimiter()
