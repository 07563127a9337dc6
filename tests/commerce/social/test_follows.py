"""Following creators and shops: the API, its refusals, counts under races, pages."""

from __future__ import annotations

import threading

from commerce.extensions import db
from commerce.social.models import Follow
from commerce.social.services import follower_count


def race(calls):
    """Start every call at the same moment; return their results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_follow_and_unfollow_are_idempotent(create_user, make_api):
    creator = create_user(creator=True)
    viewer = make_api(create_user())
    url = f"/api/v1/users/{creator.id}/follow"
    for _ in range(2):
        response = viewer.put(url)
        assert response.status_code == 200
        assert response.get_json() == {
            "user_id": creator.id,
            "following": True,
            "follower_count": 1,
        }
    profile = viewer.get(f"/api/v1/users/{creator.id}/profile").get_json()
    assert (profile["follower_count"], profile["following"]) == (1, True)
    for _ in range(2):
        response = viewer.delete(url)
        assert response.get_json() == {
            "user_id": creator.id,
            "following": False,
            "follower_count": 0,
        }


def test_shops_can_be_followed_and_plain_viewers_cannot(create_user, make_api):
    shop, plain = create_user(merchant=True), create_user()
    viewer = make_api(create_user())
    assert viewer.put(f"/api/v1/users/{shop.id}/follow").status_code == 200
    response = viewer.put(f"/api/v1/users/{plain.id}/follow")
    assert response.status_code == 404
    assert "no creator or shop" in response.get_json()["error"]["message"]
    assert viewer.put("/api/v1/users/999999/follow").status_code == 404


def test_nobody_follows_themselves(app, create_user, make_api):
    creator = create_user(creator=True)
    response = make_api(creator).put(f"/api/v1/users/{creator.id}/follow")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "self_follow"
    with app.app_context():
        assert db.session.query(Follow).count() == 0


def test_follow_needs_login_and_csrf(app, create_user, make_api):
    creator = create_user(creator=True)
    assert make_api().put(f"/api/v1/users/{creator.id}/follow").status_code == 401
    client = make_api(create_user()).client  # no X-CSRFToken header
    response = client.put(f"/api/v1/users/{creator.id}/follow")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(Follow).count() == 0


def test_follows_are_rate_limited(app, create_user, make_api):
    app.config["SOCIAL_RATE_LIMIT"] = 3
    creator = create_user(creator=True)
    viewer = make_api(create_user())
    codes = [viewer.put(f"/api/v1/users/{creator.id}/follow").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = viewer.delete(f"/api/v1/users/{creator.id}/follow")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_many_followers_at_once_are_all_counted(app, create_user, make_api):
    creator = create_user(creator=True)
    viewers = [make_api(create_user()) for _ in range(16)]
    url = f"/api/v1/users/{creator.id}/follow"
    codes = race([lambda v=v: v.put(url).status_code for v in viewers])
    assert codes == [200] * 16
    with app.app_context():
        assert follower_count(db.session, creator.id) == 16
    # Half leave while the other half follow again (a no-op): 8 stay.
    calls = [lambda v=v: v.delete(url).status_code for v in viewers[:8]]
    calls += [lambda v=v: v.put(url).status_code for v in viewers[8:]]
    assert race(calls) == [200] * 16
    with app.app_context():
        assert follower_count(db.session, creator.id) == 8


def test_one_viewer_racing_follow_requests_follows_once(app, create_user, make_api):
    creator = create_user(creator=True)
    viewer = create_user()
    browsers = [make_api(viewer) for _ in range(12)]
    url = f"/api/v1/users/{creator.id}/follow"
    assert race([lambda b=b: b.put(url).status_code for b in browsers]) == [200] * 12
    with app.app_context():
        assert db.session.query(Follow).count() == 1
    mixed = [lambda b=b: b.delete(url).status_code for b in browsers[:6]]
    mixed += [lambda b=b: b.put(url).status_code for b in browsers[6:]]
    assert race(mixed) == [200] * 12
    with app.app_context():
        assert db.session.query(Follow).count() in (0, 1)  # whichever came last


def test_following_list_pages_newest_first(create_user, make_api):
    viewer_user = create_user()
    viewer = make_api(viewer_user)
    creators = [create_user(creator=True, name=f"Maker {i}") for i in range(5)]
    for creator in creators:
        assert viewer.put(f"/api/v1/users/{creator.id}/follow").status_code == 200
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = viewer.get("/api/v1/me/following" + query).get_json()
        seen += [item["display_name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Maker {i}" for i in reversed(range(5))]
    assert viewer.get("/api/v1/me/following?cursor=bm9wZQ==").status_code == 400
    html = viewer.client.get("/me/following").get_data(as_text=True)
    assert "Maker 4" in html and "You follow 5 creators and shops." in html


def test_creator_and_shop_pages_show_counts_and_escaped_bio(app, create_user, make_api):
    creator = create_user(creator=True, merchant=True)
    with app.app_context():
        from commerce.accounts.models import User

        db.session.get(User, creator.id).bio = "<script>alert(1)</script> tea"
        db.session.commit()
    viewer = make_api(create_user())
    viewer.put(f"/api/v1/users/{creator.id}/follow")
    for url in (f"/c/{creator.id}", f"/shop/{creator.id}"):
        html = viewer.client.get(url).get_data(as_text=True)
        assert "1 follower" in html
        assert 'aria-pressed="true"' in html  # the viewer already follows
        assert "&lt;script&gt;alert(1)&lt;/script&gt; tea" in html
        assert "<script>alert(1)" not in html
    assert viewer.client.get(f"/shop/{create_user().id}").status_code == 404


def test_pages_in_chinese(create_user, make_api):
    creator = create_user(creator=True)
    viewer = make_api(create_user())
    viewer.put(f"/api/v1/users/{creator.id}/follow")
    headers = {"Accept-Language": "zh-Hans"}
    html = viewer.client.get(f"/c/{creator.id}", headers=headers).get_data(as_text=True)
    assert "1 位粉丝" in html and "已关注" in html
    html = viewer.client.get("/me/following", headers=headers).get_data(as_text=True)
    assert "关注" in html


def test_following_tab_and_creator_page_show_live_rooms(app, create_user, make_api):
    from commerce.live.models import LiveRoom
    from commerce.timeutil import utcnow

    followed, other = create_user(creator=True), create_user(creator=True)
    with app.app_context():
        for creator, title in ((followed, "Tasting live"), (other, "Elsewhere live")):
            db.session.add(
                LiveRoom(
                    public_id=f"room{creator.id}",
                    creator_id=creator.id,
                    title=title,
                    state="live",
                    started_at=utcnow(),
                )
            )
        db.session.commit()
    viewer = make_api(create_user())
    viewer.put(f"/api/v1/users/{followed.id}/follow")
    html = viewer.client.get("/following").get_data(as_text=True)
    assert "Tasting live" in html and "Elsewhere live" not in html
    assert "Elsewhere live" in viewer.client.get("/").get_data(as_text=True)  # For you: all
    page = viewer.client.get(f"/c/{followed.id}").get_data(as_text=True)
    assert 'class="profile-avatar is-live"' in page and 'href="/live/room' in page


def test_an_account_that_stopped_selling_can_still_be_unfollowed(app, create_user, make_api):
    from commerce.accounts.models import User

    shop = create_user(merchant=True)
    viewer = make_api(create_user())
    viewer.put(f"/api/v1/users/{shop.id}/follow")
    with app.app_context():
        db.session.get(User, shop.id).is_merchant = False
        db.session.commit()
    assert viewer.put(f"/api/v1/users/{shop.id}/follow").status_code == 404
    response = viewer.delete(f"/api/v1/users/{shop.id}/follow")
    assert response.status_code == 200 and response.get_json()["follower_count"] == 0
