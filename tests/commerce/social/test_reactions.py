"""Likes and favourites: idempotent, counted right under races, listed; the feed tabs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from commerce.extensions import db
from commerce.orders.lifecycle import do_transition
from commerce.orders.models import Order
from commerce.orders.rules import PAID
from commerce.timeutil import utcnow
from commerce.videos.models import Video, VideoLike
from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.social.test_follows import race


def video_row(app, public_id):
    with app.app_context():
        return db.session.scalar(select(Video).where(Video.public_id == public_id))


def test_like_and_favourite_are_idempotent(app, create_user, create_video, make_api):
    video = create_video(create_user(creator=True))
    viewer = make_api(create_user())
    before = video_row(app, video).rank_score
    for _ in range(2):
        body = viewer.put(f"/api/v1/videos/{video}/like").get_json()
        assert (body["liked"], body["like_count"], body["favourited"]) == (True, 1, False)
    body = viewer.put(f"/api/v1/videos/{video}/favourite").get_json()
    assert (body["favourited"], body["favourite_count"]) == (True, 1)
    assert video_row(app, video).rank_score > before  # engagement lifts the score at once
    for _ in range(2):
        body = viewer.delete(f"/api/v1/videos/{video}/like").get_json()
        assert (body["liked"], body["like_count"]) == (False, 0)
    feed = viewer.get(f"/api/v1/videos/{video}").get_json()
    assert feed["like_count"] == 0 and feed["favourite_count"] == 1


def test_reactions_refuse_drafts_strangers_and_anonymous(create_user, create_video, make_api):
    creator = create_user(creator=True)
    draft = create_video(creator, published=False)
    viewer = make_api(create_user())
    assert viewer.put(f"/api/v1/videos/{draft}/like").status_code == 404
    assert viewer.put("/api/v1/videos/nope/favourite").status_code == 404
    published = create_video(creator)
    assert make_api().put(f"/api/v1/videos/{published}/like").status_code == 401
    assert make_api(creator).put(f"/api/v1/videos/{draft}/like").status_code == 200  # own draft


def test_racing_likes_are_all_counted_once(app, create_user, create_video, make_api):
    video = create_video(create_user(creator=True))
    viewers = [make_api(create_user()) for _ in range(12)]
    same = create_user()
    twins = [make_api(same) for _ in range(8)]  # one viewer in eight tabs
    calls = [lambda v=v: v.put(f"/api/v1/videos/{video}/like").status_code for v in viewers + twins]
    assert race(calls) == [200] * 20
    with app.app_context():
        row = db.session.scalar(select(Video).where(Video.public_id == video))
        likes = db.session.query(VideoLike).filter_by(video_id=row.id).count()
        assert row.like_count == likes == 13
    calls = [lambda v=v: v.delete(f"/api/v1/videos/{video}/like").status_code for v in viewers[:6]]
    calls += [lambda v=v: v.delete(f"/api/v1/videos/{video}/like").status_code for v in twins]
    assert race(calls) == [200] * 14
    with app.app_context():
        row = db.session.scalar(select(Video).where(Video.public_id == video))
        assert row.like_count == db.session.query(VideoLike).filter_by(video_id=row.id).count() == 6


def test_favourites_list_newest_saved_first(create_user, create_video, make_api):
    creator = create_user(creator=True)
    videos = [create_video(creator, title=f"Clip {i}") for i in range(3)]
    viewer = make_api(create_user())
    for public_id in videos:
        viewer.put(f"/api/v1/videos/{public_id}/favourite")
    page = viewer.get("/api/v1/me/favourites?limit=2").get_json()
    assert [v["title"] for v in page["items"]] == ["Clip 2", "Clip 1"]
    assert all(v["favourited"] for v in page["items"])
    rest = viewer.get(f"/api/v1/me/favourites?limit=2&cursor={page['next_cursor']}").get_json()
    assert [v["title"] for v in rest["items"]] == ["Clip 0"] and rest["next_cursor"] is None
    html = viewer.client.get("/me/favourites").get_data(as_text=True)
    assert "Clip 0" in html and "Clip 2" in html
    assert make_api().get("/api/v1/me/favourites").status_code == 401


def test_for_you_ranks_engagement_with_decay(create_user, create_video, make_api, create_product):
    creator = create_user(creator=True)
    product = create_product(create_user(merchant=True))
    fresh = create_video(creator, title="fresh")
    liked_yesterday = create_video(creator, title="liked", age=timedelta(hours=20))
    old_hit = create_video(creator, title="old hit", age=timedelta(days=8), view_count=10)
    shop = create_video(creator, title="shop", age=timedelta(minutes=30), pins=(product.id,))
    viewers = [make_api(create_user()) for _ in range(3)]
    for viewer in viewers:
        viewer.put(f"/api/v1/videos/{liked_yesterday}/like")
    feed = make_api().get("/api/v1/feed?tab=for_you").get_json()
    titles = [v["title"] for v in feed["items"]]
    # 3 likes (12 points) 20 h ago beat nothing now; 10 views 8 days ago sink below all.
    assert titles.index("liked") < titles.index("fresh")
    assert titles[-1] == "old hit"
    assert {v["id"] for v in feed["items"]} == {fresh, liked_yesterday, old_hit, shop}
    shop_item = next(v for v in feed["items"] if v["id"] == shop)
    assert shop_item["product_count"] == 1
    # Keyset pages walk every video once.
    seen, cursor = [], None
    while True:
        url = "/api/v1/feed?tab=for_you&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = make_api().get(url).get_json()
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [v["id"] for v in feed["items"]]
    assert make_api().get("/api/v1/feed?tab=for_you&cursor=eA==").status_code == 400


def test_following_tab_shows_followed_creators_only(create_user, create_video, make_api):
    followed, other = create_user(creator=True), create_user(creator=True)
    mine = [create_video(followed, title=f"F{i}", age=timedelta(minutes=i)) for i in range(3)]
    create_video(other, title="other")
    create_video(followed, title="draft", published=False)
    viewer = make_api(create_user())
    assert viewer.get("/api/v1/feed?tab=following").get_json()["items"] == []
    viewer.put(f"/api/v1/users/{followed.id}/follow")
    page = viewer.get("/api/v1/feed?tab=following&limit=2").get_json()
    assert [v["id"] for v in page["items"]] == mine[:2]
    assert page["items"][0]["creator"]["following"] is True
    rest = viewer.get(f"/api/v1/feed?tab=following&cursor={page['next_cursor']}").get_json()
    assert [v["id"] for v in rest["items"]] == mine[2:]
    response = make_api().get("/api/v1/feed?tab=following")
    assert response.status_code == 401
    assert make_api().get("/api/v1/feed?tab=sideways").status_code == 400
    html = viewer.client.get("/following").get_data(as_text=True)
    assert 'aria-current="page">Following' in html and "F0" in html


def test_unpublishing_takes_a_video_out_of_for_you(app, create_user, create_video, make_api):
    creator = create_user(creator=True)
    video = create_video(creator)
    api = make_api(creator)
    assert api.post(f"/api/v1/videos/{video}/unpublish").status_code == 200
    assert video_row(app, video).rank_score is None
    assert make_api().get("/api/v1/feed?tab=for_you").get_json()["items"] == []


def test_a_paid_order_from_a_video_counts_as_purchases(
    app,
    create_user,
    create_product,
    create_video,
    create_address,
    make_api,
):
    product = create_product(create_user(merchant=True), stock=10)
    video = create_video(create_user(creator=True), pins=(product.id,))
    buyer = create_user()
    api = make_api(buyer)
    body = buy_now(
        product.id, create_address(buyer), quantity=2, source_kind="video", source_key=video
    )
    order_id = place(api, body).get_json()["orders"][0]["id"]
    before = video_row(app, video).rank_score
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == order_id))
        do_transition(db.session, order, PAID, utcnow(), actor_id=None, publish=False)
        db.session.commit()
    row = video_row(app, video)
    assert row.purchase_count == 2 and row.rank_score > before


def count_queries(app, call):
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen = []

    def record(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def test_feed_pages_cost_the_same_queries_for_3_or_10_videos(
    app, create_user, create_product, create_video, make_api
):
    viewer = create_user()
    api = make_api(viewer)
    product = create_product(create_user(merchant=True))

    def add(n):
        for _ in range(n):
            creator = create_user(creator=True)
            create_video(creator, pins=(product.id,))
            api.put(f"/api/v1/users/{creator.id}/follow")

    add(3)
    costs = {}
    for tab in ("for_you", "following", "latest"):
        costs[tab] = count_queries(app, lambda tab=tab: api.get(f"/api/v1/feed?tab={tab}"))
    add(7)
    for tab in ("for_you", "following", "latest"):
        more = count_queries(app, lambda tab=tab: api.get(f"/api/v1/feed?tab={tab}"))
        assert more == costs[tab], (tab, costs[tab], more)
    assert costs["for_you"] <= 14, costs
