"""Reviews through the app: write with photos, edit, delete, reply, report and hide, the
product page, the order page and the pin cards."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from commerce.extensions import db
from commerce.moderation.models import ModerationAction
from commerce.reviews.models import Review
from tests.conftest import png_bytes


def _storage_files(app, prefix: str = "reviews") -> list[str]:
    root = Path(app.config["STORAGE_LOCAL_ROOT"]) / prefix
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _post_review(api, line_id: int, *, stars: int = 5, text: str = "", photos=()):
    data = {"stars": str(stars), "text": text}
    if photos:
        data["photos"] = [(p, f"photo{n}.png") for n, p in enumerate(photos)]
    return api.post(
        f"/api/v1/order-lines/{line_id}/review", data=data, content_type="multipart/form-data"
    )


def test_a_delivered_buyer_reviews_with_a_photo_and_it_shows_everywhere(
    app, make_api, create_user, create_product, create_order, create_video
):
    merchant = create_user(merchant=True, name="Tea Shop")
    product = create_product(merchant, title="Jasmine tea")
    buyer = create_user(name="Mei")
    order = create_order(buyer, product)
    video = create_video(create_user(creator=True), pins=(product.id,))
    api = make_api(buyer)

    response = _post_review(
        api, order["lines"][0], stars=4, text="Lovely <b>smell</b>", photos=[png_bytes()]
    )
    assert response.status_code == 201, response.get_json()
    review = response.get_json()
    assert review["stars"] == 4 and review["mine"] and review["can_edit"]
    assert len(review["photos"]) == 1 and review["photos"][0]["url"].startswith("/media/reviews/")
    assert api.get(review["photos"][0]["url"]).status_code == 200  # served as a JPEG
    assert len(_storage_files(app)) == 1

    page = make_api().get(f"/api/v1/products/{product.id}/reviews").get_json()
    assert page["summary"] == {
        "average": 4.0,
        "count": 1,
        "histogram": {"5": 0, "4": 1, "3": 0, "2": 0, "1": 0},
    }
    assert [r["text"] for r in page["items"]] == ["Lovely <b>smell</b>"]

    html = make_api().get(f"/products/{product.id}").get_data(as_text=True)
    assert "Lovely &lt;b&gt;smell&lt;/b&gt;" in html and "★★★★☆" in html  # escaped
    assert "4.0 · 1 review" in html  # beside the title
    feed = make_api().get("/api/v1/feed?tab=for_you").get_json()
    card = next(v for v in feed["items"] if v["id"] == video)["pins"][0]["product"]
    assert card["rating"] == {"average": 4.0, "count": 1}

    order_html = api.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert "Your review" in order_html


def test_only_the_buyer_of_a_delivered_line_reviews_it_once(
    app, make_api, create_user, create_product, create_order
):
    merchant = create_user(merchant=True)
    product = create_product(merchant)
    buyer = create_user()
    delivered = create_order(buyer, product)
    shipped = create_order(buyer, product, delivered=False)
    api = make_api(buyer)

    html = api.get(f"/orders/{delivered['id']}").get_data(as_text=True)
    assert "Write a review" in html
    assert "Write a review" not in api.get(f"/orders/{shipped['id']}").get_data(as_text=True)

    not_yet = _post_review(api, shipped["lines"][0])
    assert not_yet.status_code == 409 and not_yet.get_json()["error"]["code"] == "not_delivered"
    stranger = _post_review(make_api(create_user()), delivered["lines"][0])
    assert stranger.status_code == 404
    assert _post_review(api, delivered["lines"][0], stars=5).status_code == 201
    again = _post_review(api, delivered["lines"][0], stars=1)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reviewed"
    bad = _post_review(api, delivered["lines"][0], stars=6)
    assert bad.status_code == 400 and "stars" in bad.get_json()["error"]["fields"]


def test_a_bad_photo_refuses_the_review_and_stores_nothing(
    app, make_api, create_user, create_product, create_order
):
    product = create_product(create_user(merchant=True))
    buyer = create_user()
    order = create_order(buyer, product)
    api = make_api(buyer)
    import io

    fake = io.BytesIO(b"<?php echo 'not an image'; ?>")
    response = _post_review(api, order["lines"][0], photos=[png_bytes(), fake])
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "not_an_image"
    seven = _post_review(api, order["lines"][0], photos=[png_bytes() for _ in range(7)])
    assert seven.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Review)) == 0
    assert _storage_files(app) == []


def test_the_author_edits_within_the_window_and_deletes(
    app, make_api, create_user, create_product, create_order
):
    product = create_product(create_user(merchant=True))
    buyer = create_user()
    order = create_order(buyer, product)
    api = make_api(buyer)
    review = _post_review(api, order["lines"][0], stars=2, photos=[png_bytes()]).get_json()

    other = make_api(create_user()).patch(f"/api/v1/reviews/{review['id']}", {"stars": 1})
    assert other.status_code == 404
    edited = api.patch(f"/api/v1/reviews/{review['id']}", {"stars": 5, "text": "Better now"})
    assert edited.status_code == 200 and edited.get_json()["stars"] == 5
    summary = api.get(f"/api/v1/products/{product.id}/reviews").get_json()["summary"]
    assert summary["average"] == 5.0 and summary["count"] == 1

    with app.app_context():  # 31 days later: the window has closed
        row = db.session.get(Review, review["id"])
        row.created_at = row.created_at - timedelta(days=31)
        db.session.commit()
    late = api.patch(f"/api/v1/reviews/{review['id']}", {"stars": 1})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "edit_window_over"

    assert len(_storage_files(app)) == 1
    assert api.delete(f"/api/v1/reviews/{review['id']}").status_code == 204
    assert _storage_files(app) == []  # the photo's bytes went with it
    summary = api.get(f"/api/v1/products/{product.id}/reviews").get_json()["summary"]
    assert summary["count"] == 0 and summary["average"] is None
    assert _post_review(api, order["lines"][0]).status_code == 409  # reviewed once, for good


def test_the_seller_answers_once(app, make_api, create_user, create_product, create_order):
    merchant = create_user(merchant=True)
    product = create_product(merchant)
    buyer = create_user()
    order = create_order(buyer, product)
    review = _post_review(make_api(buyer), order["lines"][0], text="Arrived late").get_json()
    seller = make_api(merchant)

    assert (
        make_api(buyer).put(f"/api/v1/reviews/{review['id']}/reply", {"text": "Hi"}).status_code
        == 403
    )
    answered = seller.put(f"/api/v1/reviews/{review['id']}/reply", {"text": "Sorry, fixed"})
    assert answered.status_code == 200 and answered.get_json()["reply"]["text"] == "Sorry, fixed"
    twice = seller.put(f"/api/v1/reviews/{review['id']}/reply", {"text": "Again"})
    assert twice.status_code == 409
    html = make_api().get(f"/products/{product.id}/reviews").get_data(as_text=True)
    assert "Sorry, fixed" in html and "The seller answered" in html


def test_a_reported_review_is_hidden_by_an_admin_with_an_audit_entry(
    app, make_api, create_user, create_product, create_order, make_admin
):
    product = create_product(create_user(merchant=True))
    buyer = create_user()
    order = create_order(buyer, product)
    review = _post_review(make_api(buyer), order["lines"][0], stars=1, text="spam spam").get_json()
    reporter = make_api(create_user())
    report = reporter.post(
        "/api/v1/reports",
        {"target_type": "review", "target_id": str(review["id"]), "reason": "spam"},
    )
    assert report.status_code == 201, report.get_json()
    admin = make_api(make_admin(create_user()))
    decided = admin.post(
        f"/api/v1/admin/reports/{report.get_json()['id']}/decision",
        {"decision": "hide", "reason": "advertising"},
    )
    assert decided.status_code == 200 and decided.get_json()["action"] == "hide_review"
    page = make_api().get(f"/api/v1/products/{product.id}/reviews").get_json()
    assert page["items"] == [] and page["summary"]["count"] == 0
    with app.app_context():
        assert db.session.scalar(select(ModerationAction.action)) == "hide_review"
    console = admin.get("/admin/reports?state=actioned").get_data(as_text=True)
    assert "spam spam" in console


def test_reviews_page_by_keyset(app, make_api, create_user, create_product, create_order):
    product = create_product(create_user(merchant=True))
    buyer = create_user()
    order = create_order(buyer, product, lines=12)
    api = make_api(buyer)
    for n, line in enumerate(order["lines"]):
        assert _post_review(api, line, stars=1 + n % 5, text=f"r{n}").status_code == 201
    first = make_api().get(f"/api/v1/products/{product.id}/reviews").get_json()
    assert len(first["items"]) == 10 and first["next_cursor"]
    second = (
        make_api()
        .get(f"/api/v1/products/{product.id}/reviews?cursor={first['next_cursor']}")
        .get_json()
    )
    assert len(second["items"]) == 2 and second["next_cursor"] is None and second["summary"] is None
    texts = {r["text"] for r in first["items"] + second["items"]}
    assert texts == {f"r{n}" for n in range(12)}
    assert make_api().get(f"/api/v1/products/{product.id}/reviews?cursor=junk").status_code == 400
    html = (
        make_api()
        .get(f"/products/{product.id}/reviews?cursor={first['next_cursor']}")
        .get_data(as_text=True)
    )
    assert html.count('class="review"') == 2


def test_the_review_and_watch_endpoints_are_in_the_openapi_document(make_api):
    paths = make_api().get("/api/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/order-lines/{line_id}/review"]) == {"post"}
    assert set(paths["/api/v1/reviews/{review_id}"]) == {"patch", "delete"}
    assert set(paths["/api/v1/reviews/{review_id}/reply"]) == {"put"}
    assert set(paths["/api/v1/products/{product_id}/reviews"]) == {"get"}
    assert set(paths["/api/v1/videos/{public_id}/watch"]) == {"post"}
    body = paths["/api/v1/order-lines/{line_id}/review"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
