"""The search page: one box, tabs for videos, creators and products."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from commerce.errors import DomainError, retry_headers
from commerce.extensions import db
from commerce.search import rules, services
from commerce.search.api import check_rate
from commerce.search.present import hit_out

bp = Blueprint("search", __name__)

PAGE_SIZE = 20


@bp.get("/search")
def search_page() -> tuple[str, int, dict[str, str]]:
    q = request.args.get("q", "")[:1000]
    kind = request.args.get("kind", rules.VIDEO)
    if kind not in rules.KINDS:
        kind = rules.VIDEO
    cursor = request.args.get("cursor") or None
    items, next_cursor, error = [], None, None
    if q.strip():
        try:
            check_rate()
            found, next_cursor = services.search(
                db.session, q, kind, cursor=cursor, limit=PAGE_SIZE
            )
            items = [hit_out(o) for o in found]
        except DomainError as exc:
            error = exc
    page = render_template(
        "search/search.html",
        q=q,
        kind=kind,
        items=items,
        next_cursor=next_cursor,
        error=error,
        searched=bool(q.strip()) and error is None,
    )
    return page, error.status if error else 200, retry_headers(error) if error else {}
