"""Comments through the JSON API: threads, mentions, likes, removal, moderation, limits."""

from __future__ import annotations

from datetime import timedelta

from commerce.comments.models import CommentMention
from commerce.extensions import db
from commerce.live.models import LiveBan, LiveModerator, LiveMute
from commerce.timeutil import utcnow


def _post(api, video, text, **extra):
    return api.post(f"/api/v1/videos/{video}/comments", {"text": text, **extra})


def test_thread_with_replies_shown_under_the_top_comment(create_user, make_api, create_video):
    creator = create_user(creator=True)
    ann, bob = create_user(name="Ann"), create_user(name="Bob")
    video = create_video(creator)
    top = _post(make_api(ann), video, "Lovely tea").get_json()
    reply = _post(make_api(bob), video, "@Ann agreed", parent_id=top["id"]).get_json()
    # Answering a reply stays in the same thread, addressed to the reply's author.
    again = _post(make_api(ann), video, "thanks", parent_id=reply["id"]).get_json()
    assert reply["parent_id"] == top["id"] and again["parent_id"] == top["id"]
    assert again["reply_to"]["display_name"] == "Bob"

    page = make_api().get(f"/api/v1/videos/{video}/comments").get_json()
    assert [c["id"] for c in page["items"]] == [top["id"]]  # replies are not top comments
    assert page["items"][0]["reply_count"] == 2 and page["total"] == 3
    replies = make_api().get(f"/api/v1/comments/{top['id']}/replies").get_json()
    assert [c["id"] for c in replies["items"]] == [reply["id"], again["id"]]
    assert replies["items"][0]["segments"] == [
        {"text": "@Ann", "user_id": ann.id},
        {"text": " agreed", "user_id": None},
    ]


def test_mentions_are_stored_by_picked_id_or_unique_name(app, create_user, make_api, create_video):
    creator = create_user(creator=True)
    spaced, single = create_user(name="Tea Lover"), create_user(name="Zoe")
    create_user(name="Twin"), create_user(name="twin")  # ambiguous: not resolved
    video = create_video(creator)
    made = _post(
        make_api(create_user()),
        video,
        "@Tea Lover and @zoe and @Twin and @Nobody",
        mention_ids=[spaced.id],
    ).get_json()
    with app.app_context():
        users = set(
            db.session.scalars(
                db.select(CommentMention.user_id).where(CommentMention.comment_id == made["id"])
            )
        )
    assert users == {spaced.id, single.id}
    linked = [s["user_id"] for s in made["segments"] if s["user_id"]]
    assert linked == [spaced.id, single.id]


def test_likes_are_idempotent(create_user, make_api, create_video):
    video = create_video(create_user(creator=True))
    comment = _post(make_api(create_user()), video, "hi").get_json()
    fan = make_api(create_user())
    url = f"/api/v1/comments/{comment['id']}/like"
    assert fan.put(url).get_json() == {"liked": True, "like_count": 1}
    assert fan.put(url).get_json() == {"liked": True, "like_count": 1}
    other = make_api(create_user())
    assert other.put(url).get_json()["like_count"] == 2
    assert fan.delete(url).get_json() == {"liked": False, "like_count": 1}
    assert fan.delete(url).get_json() == {"liked": False, "like_count": 1}
    listed = other.get(f"/api/v1/videos/{video}/comments").get_json()["items"][0]
    assert listed["liked"] is True and listed["like_count"] == 1


def test_who_may_delete(app, create_user, make_api, create_video, create_room, make_admin):
    creator = create_user(creator=True)
    author, stranger, moderator = create_user(), create_user(), create_user()
    room = create_room(creator)
    with app.app_context():
        db.session.add(LiveModerator(room_id=room.id, user_id=moderator.id))
        db.session.commit()
    video = create_video(creator)
    ids = [_post(make_api(author), video, f"c{i}").get_json()["id"] for i in range(4)]
    assert make_api(stranger).delete(f"/api/v1/comments/{ids[0]}").status_code == 403
    for who, cid in zip((author, creator, moderator, make_admin()), ids, strict=True):
        assert make_api(who).delete(f"/api/v1/comments/{cid}").status_code == 204
    again = make_api(author).delete(f"/api/v1/comments/{ids[0]}")
    assert again.status_code == 409
    items = make_api().get(f"/api/v1/videos/{video}/comments").get_json()
    assert all(c["state"] == "deleted" and c["text"] == "" for c in items["items"])
    assert items["total"] == 0


def test_deleted_top_comment_keeps_its_thread(create_user, make_api, create_video):
    video = create_video(create_user(creator=True))
    author = make_api(create_user())
    top = _post(author, video, "top").get_json()
    _post(make_api(create_user()), video, "reply", parent_id=top["id"])
    author.delete(f"/api/v1/comments/{top['id']}")
    shown = make_api().get(f"/api/v1/videos/{video}/comments").get_json()["items"][0]
    assert shown["state"] == "deleted" and shown["author"] is None and shown["reply_count"] == 1
    replies = make_api().get(f"/api/v1/comments/{top['id']}/replies").get_json()["items"]
    assert [r["text"] for r in replies] == ["reply"]
    refused = _post(author, video, "more", parent_id=top["id"])
    assert refused.status_code == 409


def test_keyword_filter_holds_for_review(create_user, make_api, create_video, create_room):
    creator = create_user(creator=True)
    create_room(creator, keyword_filter=["cheap watches"])
    video = create_video(creator)
    author = make_api(create_user())
    held = _post(author, video, "Buy CHEAP  watches here").get_json()
    assert held["state"] == "held"
    assert make_api(create_user()).get(f"/api/v1/videos/{video}/comments").get_json()["items"] == []
    own = author.get(f"/api/v1/videos/{video}/comments").get_json()["items"]
    assert [c["state"] for c in own] == ["held"]
    host = make_api(creator)
    listed = host.get(f"/api/v1/videos/{video}/comments").get_json()["items"][0]
    assert listed["can_approve"] is True
    assert author.post(f"/api/v1/comments/{held['id']}/approve").status_code == 403
    stranger = make_api(create_user())
    for method, path in (("PUT", "/like"), ("GET", "/replies"), ("DELETE", "")):
        answer = stranger.request(method, f"/api/v1/comments/{held['id']}{path}")
        assert answer.status_code == 404, (method, path)  # held: as if it did not exist
    assert host.post(f"/api/v1/comments/{held['id']}/approve").get_json()["state"] == "visible"
    assert make_api().get(f"/api/v1/videos/{video}/comments").get_json()["total"] == 1


def test_banned_or_muted_by_the_creator_cannot_comment(
    app, create_user, make_api, create_video, create_room
):
    creator = create_user(creator=True)
    room = create_room(creator, state="ended")
    video = create_video(creator)
    muted, banned = create_user(), create_user()
    with app.app_context():
        db.session.add(LiveBan(room_id=room.id, user_id=banned.id, by_id=creator.id))
        db.session.add(
            LiveMute(
                room_id=room.id,
                user_id=muted.id,
                by_id=creator.id,
                until=utcnow() + timedelta(hours=1),
            )
        )
        db.session.commit()
    refused = _post(make_api(banned), video, "hi")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "banned"
    assert _post(make_api(muted), video, "hi").get_json()["error"]["code"] == "muted"
    other = create_video(create_user(creator=True))  # another creator's video: no effect
    assert _post(make_api(banned), other, "hi").status_code == 201


def test_posting_is_rate_limited(create_user, make_api, create_video):
    video = create_video(create_user(creator=True))
    api = make_api(create_user())
    codes = [_post(api, video, f"n{i}").status_code for i in range(6)]
    assert codes == [201] * 5 + [429]
    last = _post(api, video, "again")
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0


def test_text_is_stored_as_written_and_never_markup(create_user, make_api, create_video):
    video = create_video(create_user(creator=True))
    attack = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    made = _post(make_api(create_user()), video, attack).get_json()
    assert made["text"] == attack  # the client renders text nodes; the page test checks it


def test_bad_input_and_hidden_videos(create_user, make_api, create_video):
    creator = create_user(creator=True)
    draft = create_video(creator, published=False)
    api = make_api(create_user())
    assert _post(api, draft, "hi").status_code == 404
    assert make_api().get(f"/api/v1/videos/{draft}/comments").status_code == 404
    video = create_video(creator)
    assert _post(api, video, "").status_code == 400
    assert _post(api, video, "x" * 501).status_code == 400
    assert _post(api, video, "hi", parent_id=999999).status_code == 404
    assert make_api().get(f"/api/v1/videos/{video}/comments?cursor=nope").status_code == 400
    assert _post(make_api(), video, "hi").status_code == 401
    assert make_api().get("/api/v1/comments/counts?videos=,").status_code == 400


def test_keyset_pages_walk_every_comment_once(app, create_user, make_api, create_video):
    from commerce.comments.models import Comment

    video = create_video(create_user(creator=True))
    author = create_user()
    with app.app_context():
        from commerce.videos.models import Video

        vid = db.session.scalar(db.select(Video.id).where(Video.public_id == video))
        same = utcnow()
        db.session.add_all(
            Comment(video_id=vid, author_id=author.id, text=f"c{i}", created_at=same)
            for i in range(45)
        )
        db.session.commit()
    seen, cursor, client = [], None, make_api()
    while True:
        url = f"/api/v1/videos/{video}/comments" + (f"?cursor={cursor}" if cursor else "")
        page = client.get(url).get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 45 == len(set(seen)) and seen == sorted(seen, reverse=True)
    counts = client.get(f"/api/v1/comments/counts?videos={video},nope").get_json()
    assert counts == {"counts": {video: 45}}


def test_replay_videos_take_comments(app, create_user, make_api, create_video, create_room):
    creator = create_user(creator=True)
    video = create_video(creator)
    with app.app_context():
        from commerce.videos.models import Video

        vid = db.session.scalar(db.select(Video.id).where(Video.public_id == video))
    create_room(creator, state="ended", replay_video_id=vid)
    assert _post(make_api(create_user()), video, "great live").status_code == 201


def test_a_page_costs_the_same_queries_whatever_its_size(app, create_user, make_api, create_video):
    from sqlalchemy import event

    from commerce.comments.models import Comment
    from commerce.videos.models import Video

    video = create_video(create_user(creator=True))
    viewer = make_api(create_user())

    def page_queries(authors: int) -> int:
        with app.app_context():
            vid = db.session.scalar(db.select(Video.id).where(Video.public_id == video))
            for _ in range(authors):
                author = create_user()
                db.session.add(Comment(video_id=vid, author_id=author.id, text="hi"))
            db.session.commit()
            engine = db.engine
        seen: list[str] = []

        def count(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert viewer.get(f"/api/v1/videos/{video}/comments").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    assert page_queries(2) == page_queries(15)
