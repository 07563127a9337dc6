"""Signed share links: tokens, QR codes, previews for unfurlers, click recording, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from commerce.attribution.links import (
    ASK,
    PREVIEW,
    RECORD,
    make_token,
    navigation_verdict,
    read_token,
)
from commerce.attribution.models import Share, ShareClick
from commerce.extensions import db
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import BROWSER, open_link, token_for


def clicks(app) -> list[ShareClick]:
    with app.app_context():
        rows = list(db.session.scalars(select(ShareClick).order_by(ShareClick.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_token_round_trip_and_forgeries():
    token = make_token("secret", 42)
    assert read_token("secret", token) == 42
    assert read_token("other-secret", token) is None  # forged with another key
    edited = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert read_token("secret", edited) is None  # one character changed
    assert (
        read_token("secret", make_token("secret", 43).split(".")[0] + "." + token.split(".")[1])
        is None
    )
    assert read_token("secret", "not-a-token") is None
    assert read_token("secret", "x" * 500) is None


@pytest.mark.parametrize("token", ["garbage", "MQ.bad-signature", "a" * 300, "%00"])
def test_a_forged_or_edited_link_is_a_404_page(client, token):
    response = client.get(f"/s/{token}", headers=BROWSER)
    assert response.status_code == 404
    assert b"<html" in response.data


def test_a_valid_token_for_a_missing_share_is_a_404(app, client):
    assert client.get(f"/s/{token_for(app, 999)}", headers=BROWSER).status_code == 404


def test_share_links_do_not_expire(app, make_api, create_user, create_video, add_share):
    creator, sharer = create_user(creator=True), create_user()
    video = create_video(creator)
    share_id = add_share(sharer, "video", video.public_id)
    with app.app_context():
        db.session.get(Share, share_id).created_at = utcnow() - timedelta(days=400)
        db.session.commit()
    response = make_api().client.get(f"/s/{token_for(app, share_id)}", headers=BROWSER)
    assert response.status_code == 302
    assert len(clicks(app)) == 1


def test_create_share_gives_a_link_and_its_qr(app, make_api, create_user, create_video, share_link):
    creator, sharer = create_user(creator=True), create_user()
    video = create_video(creator)
    client = make_api(sharer)
    share = share_link(client, "video", video.public_id)
    assert share["url"].startswith("http://localhost/s/")
    assert share["depth"] == 0 and share["parent_id"] is None
    assert share["target_title"] == "Tea ceremony"
    qr = client.get(share["qr_svg_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data and b"xmlns" in qr.data
    # Someone else's QR is not found; the same person sharing again gets the same share.
    assert make_api(create_user()).get(share["qr_svg_url"]).status_code == 404
    assert share_link(client, "video", video.public_id)["id"] == share["id"]


def test_share_needs_login_and_a_public_target(make_api, create_user, create_video, create_product):
    creator = create_user(creator=True)
    draft = create_video(creator, published=False)
    anonymous = make_api()
    body = {"target_kind": "video", "target_key": draft.public_id}
    assert anonymous.post("/api/v1/shares", body).status_code == 401
    client = make_api(create_user())
    assert client.post("/api/v1/shares", body).status_code == 404
    assert (
        client.post("/api/v1/shares", {"target_kind": "page", "target_key": "x"}).status_code == 400
    )
    assert (
        client.post("/api/v1/shares", {"target_kind": "product", "target_key": "99"}).status_code
        == 404
    )
    assert (
        client.post("/api/v1/shares", {"target_kind": "product", "target_key": ""}).status_code
        == 400
    )
    inactive = create_product(create_user(merchant=True), is_active=False)
    body = {"target_kind": "product", "target_key": str(inactive.id)}
    assert client.post("/api/v1/shares", body).status_code == 404


def test_live_rooms_can_be_shared_by_key(make_api, create_user, share_link):
    host = make_api(create_user(creator=True))
    room_id = host.post("/api/v1/live/rooms", {"title": "Tea tasting"}).get_json()["id"]
    share = share_link(make_api(create_user()), "live", room_id)
    assert share["target_kind"] == "live" and share["target_key"] == room_id
    body = {"target_kind": "live", "target_key": "no-such-room"}
    assert make_api(create_user()).post("/api/v1/shares", body).status_code == 404


def test_share_without_csrf_is_refused(make_api, create_user, create_video):
    video = create_video(create_user(creator=True))
    client = make_api(create_user())
    response = client.client.post(
        "/api/v1/shares", json={"target_kind": "video", "target_key": video.public_id}
    )
    assert response.status_code == 400


def test_opening_a_link_records_the_click_then_redirects(
    app, make_api, create_user, create_video, share_link
):
    creator, sharer, viewer = create_user(creator=True), create_user(), create_user()
    video = create_video(creator)
    share = share_link(make_api(sharer), "video", video.public_id)
    browser = make_api(viewer)
    response = open_link(browser, share["url"] + "?fbclid=abc")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/v/{video.public_id}")
    assert "vid=" in response.headers.get("Set-Cookie", "") or browser.client.get_cookie("vid")
    [click] = clicks(app)
    assert click.share_id == share["id"] and click.user_id == viewer.id
    assert click.ad_click_id is True
    assert len(click.visitor_id) >= 16 and len(click.ip_hash) == 64
    assert click.ip_hash != "127.0.0.1" and len(click.user_agent_hash) == 64
    # A second visit from the same browser carries the same visitor id.
    open_link(browser, share["url"])
    assert {c.visitor_id for c in clicks(app)} == {click.visitor_id}
    assert clicks(app)[1].ad_click_id is False


UNFURLERS = [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (Linux; Android 10) MicroMessenger/8.0 Preview",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "",
]


@pytest.mark.parametrize("agent", UNFURLERS)
def test_unfurlers_get_the_preview_and_are_not_counted(
    app, make_api, create_user, create_video, share_link, agent
):
    creator = create_user(creator=True)
    video = create_video(creator)
    share = share_link(make_api(create_user(name="Ann")), "video", video.public_id)
    path = share["url"].split("localhost", 1)[1]
    response = make_api().client.get(path, headers={"User-Agent": agent})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<meta property="og:title" content="Tea ceremony">' in html
    assert 'name="twitter:card"' in html and 'property="og:url"' in html
    assert "may earn a commission" in html and "Ann" in html
    assert clicks(app) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"},  # an <img> pixel
        {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},  # a hidden iframe
        {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},  # fetch()
        {"Sec-Purpose": "prefetch", "Sec-Fetch-Mode": "navigate"},
    ],
)
def test_stuffing_requests_are_not_counted(
    app, make_api, create_user, create_video, share_link, headers
):
    video = create_video(create_user(creator=True))
    share = share_link(make_api(create_user()), "video", video.public_id)
    path = share["url"].split("localhost", 1)[1]
    agent = {"User-Agent": BROWSER["User-Agent"]}
    assert make_api().client.get(path, headers={**agent, **headers}).status_code == 200
    assert make_api().client.head(path, headers=BROWSER).status_code == 200
    assert clicks(app) == []


def test_product_preview_uses_an_absolute_image_url(
    app, make_api, create_user, create_product, share_link
):
    from commerce.catalog.models import ProductImage
    from commerce.files.models import StoredObject

    product = create_product(create_user(merchant=True), description="Fine porcelain")
    with app.app_context():
        obj = StoredObject(
            key="products/cup.jpg", backend="local", content_type="image/jpeg", size=1
        )
        db.session.add(obj)
        db.session.flush()
        db.session.add(ProductImage(product_id=product.id, object_id=obj.id, position=0))
        db.session.commit()
    share = share_link(make_api(create_user()), "product", str(product.id))
    html = (
        make_api()
        .client.get(share["url"].split("localhost", 1)[1], headers={"User-Agent": "Twitterbot/1.0"})
        .get_data(as_text=True)
    )
    assert 'content="http://localhost/media/products/cup.jpg"' in html
    assert "Fine porcelain" in html


def test_clicks_per_network_are_capped(app, make_api, create_user, create_video, share_link):
    app.config["CLICK_RATE_LIMIT"] = 2
    video = create_video(create_user(creator=True))
    share = share_link(make_api(create_user()), "video", video.public_id)
    for _ in range(4):
        assert open_link(make_api(), share["url"]).status_code == 302
    assert len(clicks(app)) == 2


def test_share_creation_per_network_is_capped(app, make_api, create_user, create_video):
    app.config["SHARE_RATE_LIMIT"] = 1
    video = create_video(create_user(creator=True))
    body = {"target_kind": "video", "target_key": video.public_id}
    assert make_api(create_user()).post("/api/v1/shares", body).status_code == 201
    response = make_api(create_user()).post("/api/v1/shares", body)
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"


def test_product_page_has_a_share_button_and_disclosure(make_api, create_user, create_product):
    product = create_product(create_user(merchant=True))
    html = make_api().client.get(f"/products/{product.id}").get_data(as_text=True)
    assert 'class="button share-button"' in html and f'data-target-key="{product.id}"' in html
    assert "may earn a commission" in html and 'id="share-dialog"' in html


# Fetch Metadata of a request to /s/<token> -> what it may do. No gesture, no click.
UA = BROWSER["User-Agent"]
NAV = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
VERDICTS = [
    ("GET", {**NAV, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-User": "?1"}, UA, RECORD),
    ("GET", {**NAV, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-User": "?1"}, UA, RECORD),
    ("GET", {**NAV, "Sec-Fetch-Site": "none", "Sec-Fetch-User": "?1"}, UA, RECORD),  # typed
    ("GET", {**NAV, "Sec-Fetch-Site": "none"}, UA, RECORD),  # opened from another app
    ("GET", {**NAV, "Sec-Fetch-Site": "cross-site"}, UA, ASK),  # top.location on load
    ("GET", {**NAV, "Sec-Fetch-Site": "same-site"}, UA, ASK),
    ("GET", {**NAV, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-User": "?0"}, UA, ASK),
    ("GET", {}, UA, ASK),  # an old browser: cannot tell a tap from a script
    ("GET", {**NAV, "Sec-Fetch-Dest": "iframe", "Sec-Fetch-User": "?1"}, UA, PREVIEW),
    ("GET", {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, UA, PREVIEW),
    ("GET", {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, UA, PREVIEW),
    ("GET", {**NAV, "Sec-Purpose": "prefetch", "Sec-Fetch-User": "?1"}, UA, PREVIEW),
    ("GET", {**NAV, "Sec-Fetch-Site": "none"}, "Twitterbot/1.0", PREVIEW),
    ("HEAD", {**NAV, "Sec-Fetch-Site": "none"}, UA, PREVIEW),
]


@pytest.mark.parametrize(("method", "headers", "agent", "verdict"), VERDICTS)
def test_navigation_verdict(method, headers, agent, verdict):
    assert navigation_verdict(method, headers, agent) == verdict


@pytest.mark.parametrize(
    ("headers", "verdict"), [(headers, verdict) for _, headers, _, verdict in VERDICTS[:11]]
)
def test_only_a_navigation_the_person_made_records_a_click(
    app, make_api, create_user, create_video, share_link, headers, verdict
):
    recorded = verdict == RECORD
    video = create_video(create_user(creator=True))
    share = share_link(make_api(create_user(name="Ann")), "video", video.public_id)
    path = share["url"].split("localhost", 1)[1]
    response = make_api().client.get(path, headers={"User-Agent": UA, **headers})
    assert response.status_code == (302 if recorded else 200)
    assert len(clicks(app)) == (1 if recorded else 0)
    if not recorded:
        html = response.get_data(as_text=True)
        assert "may earn a commission" in html and "Ann" in html
        assert response.headers["X-Frame-Options"] == "DENY"
        policy = response.headers["Content-Security-Policy"]  # the site's policy, unframeable
        assert "frame-ancestors 'none'" in policy and "script-src 'self' 'nonce-" in policy
        assert ('name="csrf_token"' in html) == (verdict == ASK)  # the Continue form


def test_the_one_tap_landing_records_on_continue_with_csrf(
    app, make_api, create_user, create_video, share_link
):
    video = create_video(create_user(creator=True))
    share = share_link(make_api(create_user(name="Ann")), "video", video.public_id)
    path = share["url"].split("localhost", 1)[1] + "?ttclid=x"
    browser = make_api()
    stuffed = {"User-Agent": UA, **NAV, "Sec-Fetch-Site": "cross-site"}
    page = browser.client.get(path, headers=stuffed)
    assert page.status_code == 200 and clicks(app) == []
    assert f'action="{path}"' in page.get_data(as_text=True)
    tap = {"User-Agent": UA, **NAV, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-User": "?1"}
    # A cross-site auto-submitted form has no token; nor does a replay without the session's.
    assert browser.client.post(path, headers=tap).status_code == 400
    framed = {**tap, "Sec-Fetch-Dest": "iframe"}
    form = {"csrf_token": browser.token()}
    assert browser.client.post(path, data=form, headers=framed).status_code == 303
    assert clicks(app) == []
    response = browser.client.post(path, data=form, headers=tap)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/v/{video.public_id}")
    [click] = clicks(app)
    assert click.share_id == share["id"] and click.ad_click_id is True
    with browser.client.session_transaction() as session:
        assert session["referral"] == click.id
