"""The sharer dashboard, the downstream tree, the creator's studio earnings, the credits page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.orders.models import Order


@pytest.fixture
def scenario(app, create_user, create_product, create_video, add_share, add_click, paid_order):
    """A shares a video, B re-shares A's link, C opens B's link and buys (chain C <- B <- A)."""
    creator = create_user(creator=True, name="Cora")
    merchant = create_user(merchant=True, name="Mo")
    a, b, c = create_user(name="Ann"), create_user(name="Bob"), create_user(name="Cat")
    product = create_product(merchant, price_minor=10000, creator_rate_bp=1000, sharer_rate_bp=1000)
    video = create_video(creator)
    share_a = add_share(a, "video", video.public_id)
    share_b = add_share(b, "video", video.public_id, parent=share_a)
    add_click(share_a, visitor="v-b", user_id=b.id)
    add_click(share_a, visitor="v-x")
    add_click(share_a, visitor="v-y")
    add_click(share_b, visitor="v-z")
    add_click(share_b, visitor="v-c", user_id=c.id)
    public_id = paid_order(c, product, video=video, device_id="v-c")
    return {
        "creator": creator,
        "merchant": merchant,
        "a": a,
        "b": b,
        "c": c,
        "share_a": share_a,
        "share_b": share_b,
        "order": public_id,
        "video": video,
    }


def test_chain_and_commissions_are_frozen(app, scenario):
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == scenario["order"]))
        assert order.lines[0].chain == [scenario["b"].id, scenario["a"].id]


def test_sharer_dashboard_numbers(make_api, scenario):
    earnings = make_api(scenario["a"]).get("/api/v1/me/earnings").get_json()
    assert earnings["balances"] == {
        "CNY": {"pending": 250, "available": 0, "paid": 0, "cancelled": 0}
    }
    [link] = earnings["links"]
    assert link["clicks"] == 3 and link["orders"] == 1 and link["earned_minor"] == {"CNY": 250}
    assert sum(day["value"] for day in earnings["clicks_per_day"]) == 3
    assert len(earnings["clicks_per_day"]) == 30
    [commission] = earnings["commissions"]
    assert commission["role"] == "sharer" and commission["level"] == 2
    assert commission["amount_minor"] == 250 and commission["order_public_id"] == scenario["order"]
    [root] = earnings["tree"]
    assert root["sharer_name"] == "Ann" and root["clicks"] == 3 and root["orders"] == 0
    [child] = root["children"]
    assert child["sharer_name"] == "Bob" and child["clicks"] == 2 and child["orders"] == 1
    assert child["depth"] == 1 and child["children"] == []

    bob = make_api(scenario["b"]).get("/api/v1/me/earnings").get_json()
    assert bob["balances"]["CNY"]["pending"] == 1000
    assert bob["links"][0]["clicks"] == 2 and bob["links"][0]["earned_minor"] == {"CNY": 1000}


def test_earnings_page_shows_balances_links_chart_and_tree(make_api, scenario):
    html = make_api(scenario["a"]).client.get("/earnings").get_data(as_text=True)
    assert "Tea ceremony" in html and "<svg" in html and 'class="tree"' in html
    assert "Bob" in html and 'data-bucket="pending">¥2.50' in html.replace("CN¥", "¥")
    # Only pending money: no payout form, and a sentence saying why.
    assert 'name="idempotency_key"' not in html and 'id="payout-blocked"' in html


def test_earnings_page_needs_login(client):
    response = client.get("/earnings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_studio_earnings_plot(make_api, scenario):
    html = make_api(scenario["creator"]).client.get("/studio/earnings").get_data(as_text=True)
    assert 'class="chart"' in html and "<rect" in html and "Tea cup" in html
    assert make_api(scenario["a"]).client.get("/studio/earnings").status_code == 403


def test_the_tree_grows_with_deeper_reshares(app, make_api, create_user, add_share, scenario):
    d = create_user(name="Dee")
    add_share(d, "video", scenario["video"].public_id, parent=scenario["share_b"])
    tree = make_api(scenario["a"]).get("/api/v1/me/earnings").get_json()["tree"]
    grandchild = tree[0]["children"][0]["children"][0]
    assert grandchild["sharer_name"] == "Dee" and grandchild["depth"] == 2


def credits_status(make_api, user, public_id) -> int:
    return make_api(user).client.get(f"/orders/{public_id}/credits").status_code


def test_credits_page_is_for_the_people_involved(app, make_api, create_user, scenario):
    order = scenario["order"]
    for who in ("c", "merchant", "a", "b", "creator"):
        assert credits_status(make_api, scenario[who], order) == 200, who
    admin = create_user()
    with app.app_context():
        db.session.get(User, admin.id).is_admin = True
        db.session.commit()
    assert credits_status(make_api, admin, order) == 200
    stranger = create_user()
    assert credits_status(make_api, stranger, order) == 404
    assert make_api(stranger).get(f"/api/v1/orders/{order}/credits").status_code == 404
    assert credits_status(make_api, stranger, "nope") == 404
    anonymous = make_api().client.get(f"/orders/{order}/credits")
    assert anonymous.status_code == 302


def test_credits_page_explains_each_rule(make_api, scenario):
    html = (
        make_api(scenario["c"])
        .client.get(f"/orders/{scenario['order']}/credits")
        .get_data(as_text=True)
    )
    assert "Cora made the content" in html and "creator fee 10%" in html
    assert "Bob shared the link the buyer opened last" in html
    assert "Ann&#39;s link was re-shared" in html and "25%" in html
    assert "Bob ← Ann" in html
    data = make_api(scenario["c"]).get(f"/api/v1/orders/{scenario['order']}/credits").get_json()
    reasons = [(c["name"], c["level"], c["amount_minor"]) for c in data["lines"][0]["credits"]]
    assert reasons == [("Cora", 0, 1000), ("Bob", 1, 1000), ("Ann", 2, 250)]


def test_beyond_paid_depth_and_own_purchase_are_explained(
    app, make_api, create_user, create_product, add_share, add_click, paid_order, scenario
):
    d = create_user(name="Dee")
    share_d = add_share(d, "video", scenario["video"].public_id, parent=scenario["share_b"])
    add_click(share_d, visitor="v-d2", user_id=scenario["a"].id)  # Ann buys through Dee's link
    product = create_product(scenario["merchant"], price_minor=10000, sharer_rate_bp=1000)
    public_id = paid_order(scenario["a"], product, video=scenario["video"])
    data = make_api(scenario["a"]).get(f"/api/v1/orders/{public_id}/credits").get_json()
    by_name = {c["name"]: c for c in data["lines"][0]["credits"]}
    assert by_name["Dee"]["reason"] == "paid"
    assert by_name["Bob"]["reason"] == "paid" and by_name["Bob"]["level"] == 2
    assert by_name["Ann"]["reason"] == "own_purchase"
    assert "own purchase" in by_name["Ann"]["explanation"]
