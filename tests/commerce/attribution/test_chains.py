"""Re-sharing makes child shares (the chain); clicks survive sign-up and login."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from commerce.attribution.models import Share, ShareClick
from commerce.extensions import db
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import open_link
from tests.conftest import PASSWORD


def share_row(app, share_id: int) -> Share:
    with app.app_context():
        share = db.session.get(Share, share_id)
        db.session.expunge(share)
        return share


def test_resharing_builds_the_chain(app, make_api, create_user, create_video, share_link):
    creator = create_user(creator=True)
    a, b, c = create_user(name="A"), create_user(name="B"), create_user(name="C")
    video = create_video(creator)
    share_a = share_link(make_api(a), "video", video.public_id)

    browser_b = make_api(b)
    open_link(browser_b, share_a["url"])
    share_b = share_link(browser_b, "video", video.public_id)
    assert share_b["parent_id"] == share_a["id"]
    assert share_b["depth"] == 1 and share_b["root_id"] == share_a["id"]
    # Same person, same target, same parent: the same share back.
    assert share_link(browser_b, "video", video.public_id)["id"] == share_b["id"]

    browser_c = make_api(c)
    open_link(browser_c, share_b["url"])
    share_c = share_link(browser_c, "video", video.public_id)
    assert share_c["parent_id"] == share_b["id"]
    assert share_c["depth"] == 2 and share_c["root_id"] == share_a["id"]


def test_a_share_of_another_target_has_no_parent(
    app, make_api, create_user, create_video, share_link
):
    creator, a, b = create_user(creator=True), create_user(), create_user()
    first, second = create_video(creator), create_video(creator, title="Other")
    share_a = share_link(make_api(a), "video", first.public_id)
    browser_b = make_api(b)
    open_link(browser_b, share_a["url"])
    assert share_link(browser_b, "video", second.public_id)["parent_id"] is None


def test_opening_your_own_link_does_not_make_you_your_parent(
    make_api, create_user, create_video, share_link
):
    video = create_video(create_user(creator=True))
    browser = make_api(create_user())
    share = share_link(browser, "video", video.public_id)
    open_link(browser, share["url"])
    assert share_link(browser, "video", video.public_id) == share


def test_a_click_outside_the_window_is_no_parent(
    app, make_api, create_user, create_video, share_link
):
    video = create_video(create_user(creator=True))
    share_a = share_link(make_api(create_user()), "video", video.public_id)
    browser_b = make_api(create_user())
    open_link(browser_b, share_a["url"])
    with app.app_context():
        for click in db.session.scalars(select(ShareClick)):
            click.at = utcnow() - timedelta(days=app.config["ATTRIBUTION_WINDOW_DAYS"] + 1)
        db.session.commit()
    assert share_link(browser_b, "video", video.public_id)["parent_id"] is None


def test_the_latest_click_wins_the_parent(make_api, create_user, create_video, share_link):
    video = create_video(create_user(creator=True))
    share_a = share_link(make_api(create_user()), "video", video.public_id)
    share_x = share_link(make_api(create_user()), "video", video.public_id)
    browser = make_api(create_user())
    open_link(browser, share_a["url"])
    open_link(browser, share_x["url"])
    assert share_link(browser, "video", video.public_id)["parent_id"] == share_x["id"]


def test_clicks_are_claimed_on_sign_up_and_the_referral_survives(
    app, make_api, create_user, create_video, create_product, share_link, paid_order
):
    creator, a = create_user(creator=True), create_user(name="A")
    merchant = create_user(merchant=True)
    product = create_product(merchant, creator_rate_bp=1000, sharer_rate_bp=1000)
    video = create_video(creator)
    share_a = share_link(make_api(a), "product", str(product.id))

    browser = make_api()  # not logged in yet
    assert open_link(browser, share_a["url"]).status_code == 302
    page = browser.client.get("/signup")
    assert page.status_code == 200
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = browser.client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": "new@example.com",
            "display_name": "New",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        [click] = db.session.scalars(select(ShareClick)).all()
        assert click.user_id is not None
        from commerce.accounts.models import User

        buyer = db.session.get(User, click.user_id)
        assert buyer.email == "new@example.com"
        db.session.expunge(buyer)
    # On another device (no visitor id) the account alone finds the referral.
    public_id = paid_order(buyer, product, video=video, device_id=None)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == public_id))
        assert order.lines[0].chain == [a.id]


def test_clicks_are_claimed_on_login(app, make_api, create_user, create_video, share_link):
    video = create_video(create_user(creator=True))
    share_a = share_link(make_api(create_user()), "video", video.public_id)
    returning = create_user()
    browser = make_api()
    open_link(browser, share_a["url"])
    with app.app_context():
        assert db.session.scalar(select(ShareClick.user_id)) is None
    browser.login(returning)
    with app.app_context():
        assert db.session.scalar(select(ShareClick.user_id)) == returning.id
    # Claiming never moves a click that already belongs to someone.
    browser.post("/api/v1/auth/logout")
    browser._token = None  # the session (and its CSRF token) is gone
    browser.login(create_user())
    with app.app_context():
        assert db.session.scalar(select(ShareClick.user_id)) == returning.id


def test_a_failed_login_claims_nothing(app, make_api, create_user, create_video, share_link):
    video = create_video(create_user(creator=True))
    share_a = share_link(make_api(create_user()), "video", video.public_id)
    victim = create_user()
    browser = make_api()
    open_link(browser, share_a["url"])
    response = browser.post(
        "/api/v1/auth/login", {"email": victim.email, "password": "wrong-pass-1"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(ShareClick.user_id)) is None
