"""Search over real HTTP against the served app: concurrent searches against the rate limit,
concurrent edits of one product leaving one current document, and both read paths in order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from commerce.extensions import db
from commerce.search import services
from commerce.search.models import SearchDocument
from tests.live import LiveServer


@pytest.fixture
def served(make_app):
    def serve(**settings):
        app = make_app(**settings)
        app.config["SERVER_NAME"] = None
        return LiveServer(app)

    return serve


def test_concurrent_searches_admit_exactly_the_limit(served, create_user, create_video):
    create_video(create_user(creator=True), title="碧螺春")
    with served(SEARCH_RATE_LIMIT=10) as server:
        url = f"{server.url}/api/v1/search?q=碧螺春"
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(lambda _: requests.get(url, timeout=20).status_code, range(24)))
        assert codes.count(200) == 10 and codes.count(429) == 14
        assert requests.get(url, timeout=20).headers["Retry-After"]


def test_concurrent_edits_of_a_product_leave_one_current_document(
    app, served, create_user, create_product
):
    merchant = create_user(merchant=True)
    product = create_product(merchant, title="龙井")
    with served() as server:
        sessions = [server.login(merchant.email) for _ in range(4)]
        tokens = [
            s.get(f"{server.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
            for s in sessions
        ]

        def edit(n: int) -> int:
            body = {"title": f"龙井 {n}", "price_minor": 1000, "currency": "CNY", "stock": 1}
            return (
                sessions[n % 4]
                .put(
                    f"{server.url}/api/v1/products/{product.id}",
                    json=body,
                    headers={"X-CSRFToken": tokens[n % 4]},
                    timeout=30,
                )
                .status_code
            )

        with ThreadPoolExecutor(max_workers=4) as pool:
            assert set(pool.map(edit, range(12))) == {200}
        hits = requests.get(f"{server.url}/api/v1/search?q=龙井&kind=product", timeout=10).json()[
            "items"
        ]
    with app.app_context():
        docs = db.session.scalars(
            select(SearchDocument).where(SearchDocument.kind == "product")
        ).all()
        title = db.session.get(type(product), product.id).title
    assert len(docs) == 1 and title.split()[1] in docs[0].body.split()
    assert [h["title"] for h in hits] == [title]


@pytest.mark.parametrize("few", [1000, 2])
def test_both_read_paths_page_in_rank_order(api, create_user, create_video, monkeypatch, few):
    """Few matches are sorted, many are read along the rank index: the pages are the same."""
    monkeypatch.setattr(services, "FEW_MATCHES", few)
    creator = create_user(creator=True)
    for n in range(7):
        create_video(creator, title=f"白茶 {n}", view_count=n * 10)
    create_video(creator, title="红茶")
    seen, cursor = [], None
    while True:
        query = {"q": "白茶", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/search", query_string=query).get_json()
        seen += [hit["title"] for hit in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"白茶 {n}" for n in range(6, -1, -1)]
