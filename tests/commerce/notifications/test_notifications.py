"""Notifications through the services and the API (SQLite, or PostgreSQL via TEST_DATABASE_URL):
go-live fan-out in batches, reminders, the rate limit, the inbox, preferences and consent."""

from __future__ import annotations

from commerce.extensions import db
from commerce.notifications import fanout, rules
from commerce.notifications.models import EmailConsent, NotificationEvent
from commerce.timeutil import utcnow


def _start(api, room):
    response = api.post(f"/api/v1/live/rooms/{room}/start")
    assert response.status_code == 200, response.get_json()


def test_go_live_tells_followers_and_reminded_once_each_after_the_request(
    create_user, make_api, make_room, follow, jobs, told
):
    creator = create_user(creator=True, name="Tea Maker")
    fans = [create_user() for _ in range(3)]
    stranger = create_user()
    for fan in fans:
        follow(fan, creator)
    room = make_room(creator)
    for person in (fans[0], stranger):  # a follower who also asked, and someone who only asked
        assert make_api(person).put(f"/api/v1/live/rooms/{room}/reminder").status_code == 200

    _start(make_api(creator), room)
    assert told() == {}  # the request only queued the fan-out
    jobs()
    assert told() == {fans[0].id: 1, fans[1].id: 1, fans[2].id: 1, stranger.id: 1}
    page = make_api(fans[0]).get("/api/v1/me/notifications").get_json()
    assert page["unread"] == 1
    assert page["items"][0]["type"] == "live"
    assert "Tea Maker is live now: Tea tasting" in page["items"][0]["text"]
    assert page["items"][0]["url"] == f"/live/{room}"


def test_fan_out_steps_in_batches_and_a_repeated_step_inserts_nothing(
    app, create_user, make_api, make_room, follow, jobs, told, monkeypatch
):
    monkeypatch.setattr(rules, "BATCH_SIZE", 2)
    creator = create_user(creator=True)
    fans = [create_user() for _ in range(5)]
    for fan in fans:
        follow(fan, creator)
    _start(make_api(creator), make_room(creator))
    assert jobs() == 3  # 2 + 2 + 1 recipients: three steps, each queuing the next
    assert told() == {fan.id: 1 for fan in fans}
    with app.app_context():
        event = db.session.query(NotificationEvent).one()
        assert event.fanned_out_at is not None
        # A retried step (as after a crash between its commit and the job's) adds nothing.
        assert fanout.do_fan_out_step(db.session, event.id, 0, utcnow()) == fans[1].id
        db.session.commit()
    assert told() == {fan.id: 1 for fan in fans}


def test_a_second_live_within_the_window_tells_only_who_asked(
    create_user, make_api, make_room, follow, jobs, told
):
    creator = create_user(creator=True)
    fan, asker = create_user(), create_user()
    follow(fan, creator)
    host = make_api(creator)
    first, second = make_room(creator), make_room(creator, "Again")
    assert make_api(asker).put(f"/api/v1/live/rooms/{second}/reminder").status_code == 200
    _start(host, first)
    assert host.post(f"/api/v1/live/rooms/{first}/end").status_code == 200
    _start(host, second)
    jobs()
    assert told() == {fan.id: 1, asker.id: 1}


def test_reminders_only_for_scheduled_rooms_and_idempotent(create_user, make_api, make_room):
    creator, viewer = create_user(creator=True), create_user()
    room = make_room(creator)
    api = make_api(viewer)
    for _ in range(3):
        assert api.put(f"/api/v1/live/rooms/{room}/reminder").get_json() == {
            "reminded": True,
            "reminder_count": 1,
        }
    assert api.delete(f"/api/v1/live/rooms/{room}/reminder").get_json()["reminder_count"] == 0
    _start(make_api(creator), room)
    late = api.put(f"/api/v1/live/rooms/{room}/reminder")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "not_scheduled"


def test_switching_a_type_off_in_the_app_skips_it(
    create_user, make_api, make_room, follow, jobs, told
):
    creator, fan, quiet = create_user(creator=True), create_user(), create_user()
    follow(fan, creator)
    follow(quiet, creator)
    off = {"items": [{"type": "live", "channel": "in_app", "enabled": False}]}
    assert make_api(quiet).put("/api/v1/me/notifications/preferences", off).status_code == 200
    _start(make_api(creator), make_room(creator))
    jobs()
    assert told() == {fan.id: 1}


def test_inbox_pages_by_keyset_and_marks_read(create_user, make_api, follow, jobs, monkeypatch):
    creator = create_user(creator=True)
    fan = create_user()
    follow(fan, creator)
    api_creator, api = make_api(creator), make_api(fan)
    for _ in range(5):  # five "new follower" notices for the creator
        follower = create_user()
        assert make_api(follower).put(f"/api/v1/users/{creator.id}/follow").status_code == 200
    jobs()
    first = api_creator.get("/api/v1/me/notifications?limit=2").get_json()
    assert first["unread"] == 5 and len(first["items"]) == 2 and first["next_cursor"]
    second = api_creator.get(
        f"/api/v1/me/notifications?limit=2&cursor={first['next_cursor']}"
    ).get_json()
    third = api_creator.get(
        f"/api/v1/me/notifications?limit=2&cursor={second['next_cursor']}"
    ).get_json()
    ids = [i["id"] for p in (first, second, third) for i in p["items"]]
    assert len(ids) == len(set(ids)) == 5 and third["next_cursor"] is None
    assert all(i["type"] == "follower" for i in first["items"])

    one = ids[0]
    assert api.post(f"/api/v1/me/notifications/{one}/read").status_code == 404  # not theirs
    assert api_creator.post(f"/api/v1/me/notifications/{one}/read").get_json()["read"] is True
    assert api_creator.get("/api/v1/me/notifications/unread").get_json() == {
        "unread": 4,
        "label": "4",
    }
    marked = api_creator.post("/api/v1/me/notifications/read-all").get_json()
    assert marked == {"marked": 4, "unread": 0}
    unread_only = api_creator.get("/api/v1/me/notifications?unread=true").get_json()
    assert unread_only["items"] == []


def test_follow_again_tells_nobody_twice(create_user, make_api, jobs, told):
    creator, fan = create_user(creator=True), create_user()
    api = make_api(fan)
    for _ in range(2):
        assert api.put(f"/api/v1/users/{creator.id}/follow").status_code == 200
        assert api.delete(f"/api/v1/users/{creator.id}/follow").status_code == 200
    jobs()
    assert told() == {creator.id: 1}


def test_unread_count_reaches_the_followers_socket_after_the_fan_out(
    create_user, make_api, make_room, follow, jobs, connect
):
    creator, fan = create_user(creator=True), create_user()
    follow(fan, creator)
    socket = connect(fan)
    socket.get_received()
    _start(make_api(creator), make_room(creator))
    assert [e for e in socket.get_received() if e["name"] == "notifications.unread"] == []
    jobs()
    got = [e["args"][0] for e in socket.get_received() if e["name"] == "notifications.unread"]
    assert got and got[-1]["unread"] == 1 and got[-1]["latest"]["type"] == "live"


def test_email_needs_consent_which_is_recorded_and_withdrawn(app, create_user, make_api):
    user = create_user()
    api = make_api(user)
    on = {"items": [{"type": "order", "channel": "email", "enabled": True}]}
    refused = api.put("/api/v1/me/notifications/preferences", on)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "consent_required"
    assert api.get("/api/v1/me/notifications/preferences").get_json()["email_consent"] is None

    agreed = api.put("/api/v1/me/notifications/preferences", {**on, "email_consent": True})
    body = agreed.get_json()
    assert body["email_consent"]["wording_version"] == rules.CONSENT_WORDING_VERSION
    assert body["email_consent"]["method"] == "api"
    assert {"type": "order", "channel": "email", "enabled": True} in body["items"]

    withdrawn = api.put("/api/v1/me/notifications/preferences", {"email_consent": False})
    body = withdrawn.get_json()
    assert body["email_consent"] is None
    assert not [i for i in body["items"] if i["channel"] == "email" and i["enabled"]]
    with app.app_context():
        (record,) = db.session.query(EmailConsent).all()
        assert record.withdrawn_at is not None and record.address == user.email


def test_settings_page_records_consent_and_unknown_cells_are_refused(create_user, make_api):
    user = create_user()
    api = make_api(user)
    page = api.client.get("/me/notifications")
    assert page.status_code == 200 and b"pref-live-email" in page.data
    token = api.token()
    form = {"csrf_token": token, "live.in_app": "on", "live.email": "on"}
    refused = api.client.post("/me/notifications", data=form)
    assert refused.status_code == 400
    saved = api.client.post("/me/notifications", data={**form, "email_consent": "on"})
    assert saved.status_code == 302
    prefs = api.get("/api/v1/me/notifications/preferences").get_json()
    assert prefs["email_consent"]["method"] == "settings_page"
    assert {"type": "live", "channel": "email", "enabled": True} in prefs["items"]
    assert {"type": "video", "channel": "in_app", "enabled": False} in prefs["items"]
    bad = {"items": [{"type": "likes", "channel": "email", "enabled": True}]}
    assert api.put("/api/v1/me/notifications/preferences", bad).status_code == 400
