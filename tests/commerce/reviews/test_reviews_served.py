"""Reviews over real HTTP against the served app: racing submissions of one order line give
exactly one review, and the losers leave no photo behind; the write page in the browser's way
(a multipart form with its CSRF token)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.files.models import StoredObject
from commerce.reviews.models import Review
from tests.conftest import png_bytes
from tests.live import LiveServer

RACERS = 8


@pytest.fixture
def server(app):
    app.config["SERVER_NAME"] = None
    with LiveServer(app) as served:
        yield served


def _csrf(http: requests.Session, url: str) -> str:
    return http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]


def test_racing_submissions_of_one_line_make_exactly_one_review(
    app, server, create_user, create_product, create_order
):
    product = create_product(create_user(merchant=True))
    buyer = create_user()
    line = create_order(buyer, product)["lines"][0]
    # Each racer is its own browser session of the buyer (two tabs, a double tap, a retry).
    sessions = [server.login(buyer.email) for _ in range(RACERS)]
    tokens = [_csrf(http, server.url) for http in sessions]
    barrier = threading.Barrier(RACERS)
    codes: list[int] = [0] * RACERS

    def submit(n: int) -> None:
        photo = png_bytes(colour="blue").getvalue()
        barrier.wait()
        codes[n] = (
            sessions[n]
            .post(
                f"{server.url}/api/v1/order-lines/{line}/review",
                data={"stars": str(1 + n % 5), "text": f"racer {n}"},
                files={"photos": ("p.png", photo, "image/png")},
                headers={"X-CSRFToken": tokens[n]},
                timeout=60,
            )
            .status_code
        )

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert sorted(codes) == [201] + [409] * (RACERS - 1), codes
    with app.app_context():
        reviews = db.session.scalars(select(Review)).all()
        assert len(reviews) == 1
        counted = db.session.get(Product, product.id)
        assert (counted.review_count, counted.review_star_sum) == (1, reviews[0].stars)
        assert db.session.scalar(select(func.count()).select_from(StoredObject)) == 1
    stored = [
        p for p in (Path(app.config["STORAGE_LOCAL_ROOT"]) / "reviews").rglob("*") if p.is_file()
    ]
    assert len(stored) == 1  # the losers stored nothing, or took back what they stored


def test_the_write_page_posts_a_review_with_a_photo(
    app, server, create_user, create_product, create_order
):
    product = create_product(create_user(merchant=True), title="Oolong")
    buyer = create_user()
    order = create_order(buyer, product)
    line = order["lines"][0]
    http = server.login(buyer.email)
    url = f"{server.url}/orders/{order['id']}/lines/{line}/review"
    form = http.get(url, timeout=10)
    assert form.status_code == 200 and "Write a review" in form.text
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    sent = http.post(
        url,
        data={"csrf_token": token, "stars": "5", "text": "Smooth"},
        files={"photos": ("p.png", png_bytes().getvalue(), "image/png")},
        headers={"Origin": server.url},
        timeout=30,
    )
    assert sent.status_code == 200 and sent.url.endswith(f"/products/{product.id}#reviews")
    assert "Smooth" in sent.text and "/media/reviews/" in sent.text
    # The form again: now it edits the review (the photo can be removed).
    again = http.get(url, timeout=10).text
    assert "Your review" in again and 'name="remove_photo"' in again
