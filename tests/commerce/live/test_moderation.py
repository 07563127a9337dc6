"""Moderation over Socket.IO: delete, mute, ban, slow mode, keyword filter; moderators' rights."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from commerce.extensions import db
from commerce.live.fanout import BAN_SWEEP_SECONDS, LiveFanout, channel
from commerce.live.models import LiveChatMessage
from commerce.timeutil import utcnow
from tests.commerce.live.conftest import received
from tests.commerce.live.test_events import act, join


def room_with_people(make_room, connect, host, create_user, make_api):
    """A live room with the host, a moderator and a viewer, all joined."""
    api, room_id = make_room()
    mod_user, viewer_user = create_user(name="Mod"), create_user(name="Viewer")
    response = api.post(f"/api/v1/live/rooms/{room_id}/moderators", {"user_id": mod_user.id})
    assert response.status_code == 201, response.get_json()
    clients = {"host": connect(host), "mod": connect(mod_user), "viewer": connect(viewer_user)}
    for client in clients.values():
        join(client, room_id)
    return room_id, clients, viewer_user


def test_a_moderator_deletes_a_message_everyone_sees_it_go(
    app, make_room, connect, host, create_user, make_api, tick
):
    room_id, c, _viewer = room_with_people(make_room, connect, host, create_user, make_api)
    assert act(c["viewer"], "live.send", room=room_id, text="spam spam")["ok"]
    tick()
    message_id = received(c["host"], "live.chat")[0]["messages"][0]["id"]
    assert act(c["mod"], "live.delete_message", room=room_id, message_id=message_id)["ok"]
    tick()
    assert received(c["host"], "live.chat_deleted") == [{"room": room_id, "ids": [message_id]}]
    assert join(c["host"], room_id)["chat"] == []
    with app.app_context():
        message = db.session.get(LiveChatMessage, message_id)
        assert message.deleted_at is not None and message.deleted_by_id is not None
    again = act(c["mod"], "live.delete_message", room=room_id, message_id=message_id)
    assert again["error"]["code"] == "not_found"


def test_a_message_deleted_before_its_tick_is_never_sent(
    make_room, connect, host, create_user, make_api, tick
):
    room_id, c, _viewer = room_with_people(make_room, connect, host, create_user, make_api)
    message = act(c["viewer"], "live.send", room=room_id, text="oops")["message"]
    assert act(c["host"], "live.delete_message", room=room_id, message_id=message["id"])["ok"]
    tick()
    assert received(c["mod"], "live.chat") == [] and received(c["mod"], "live.chat_deleted") == []


def test_a_muted_viewer_is_refused_with_a_message_until_unmuted(
    make_room, connect, host, create_user, make_api
):
    room_id, c, viewer = room_with_people(make_room, connect, host, create_user, make_api)
    ack = act(c["mod"], "live.mute", room=room_id, user_id=viewer.id, seconds=600)
    assert ack["ok"] and ack["until"]
    told = received(c["viewer"], "live.permissions")
    assert told[-1]["muted_until"] and told[-1]["can_chat"] is False
    refused = act(c["viewer"], "live.send", room=room_id, text="hello?")
    assert refused["ok"] is False and refused["error"]["code"] == "muted"
    assert "muted" in refused["error"]["message"]
    assert act(c["mod"], "live.unmute", room=room_id, user_id=viewer.id)["ok"]
    assert act(c["viewer"], "live.send", room=room_id, text="hello!")["ok"]


def test_staff_cannot_be_muted_or_banned(make_room, connect, host, create_user, make_api):
    room_id, c, _viewer = room_with_people(make_room, connect, host, create_user, make_api)
    ack = act(c["mod"], "live.ban", room=room_id, user_id=host.id)
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"


def test_a_banned_viewer_leaves_the_room_and_cannot_come_back(
    make_room, connect, host, create_user, make_api, tick
):
    room_id, c, viewer = room_with_people(make_room, connect, host, create_user, make_api)
    assert act(c["host"], "live.ban", room=room_id, user_id=viewer.id)["ok"]
    assert received(c["viewer"], "live.permissions")[-1]["banned"] is True
    act(c["host"], "live.send", room=room_id, text="after the ban")
    tick()
    assert received(c["viewer"], "live.chat") == []  # no longer in the room
    rejoin = act(c["viewer"], "live.join", room=room_id)
    assert rejoin["ok"] is False and rejoin["error"]["code"] == "banned"
    refused = act(c["viewer"], "live.send", room=room_id, text="let me in")
    assert refused["error"]["code"] == "banned"
    assert act(c["mod"], "live.unban", room=room_id, user_id=viewer.id)["ok"]
    assert join(c["viewer"], room_id)["permissions"]["banned"] is False


def test_a_ban_reaches_the_viewers_connections_on_other_processes(
    app, make_room, connect, host, create_user, make_api
):
    """Another web process's fan-out (its own members, its own kicks) sweeps the ban at its tick."""
    room_id, c, viewer = room_with_people(make_room, connect, host, create_user, make_api)
    bystander = create_user(name="Bystander")
    kicked: list[tuple[str, str]] = []
    other = LiveFanout(lambda *_: None, 0, kick=lambda sid, to: kicked.append((sid, to)))
    other.join(room_id, "viewer-on-b", viewer.id)
    other.join(room_id, "bystander-on-b", bystander.id)
    other.join(room_id, "anonymous-on-b", None)

    def tick_other(now) -> None:
        with app.app_context():
            other.flush(db.session(), now)

    tick_other(utcnow())
    assert kicked == []
    assert act(c["host"], "live.ban", room=room_id, user_id=viewer.id)["ok"]
    tick_other(utcnow())
    assert kicked == [("viewer-on-b", channel(room_id))]
    assert not other.is_member(room_id, "viewer-on-b")
    assert other.is_member(room_id, "bystander-on-b") and other.is_member(room_id, "anonymous-on-b")
    # Only recent bans are swept (joins check the ban table themselves): the query stays small.
    other.join(room_id, "viewer-again-on-b", viewer.id)
    tick_other(utcnow() + timedelta(seconds=BAN_SWEEP_SECONDS + 1))
    assert len(kicked) == 1


def test_slow_mode_applies_to_viewers_not_to_staff(make_room, connect, host, create_user, make_api):
    room_id, c, _viewer = room_with_people(make_room, connect, host, create_user, make_api)
    assert act(c["mod"], "live.settings", room=room_id, slow_mode_seconds=30)["ok"]
    assert received(c["viewer"], "live.settings") == [
        {"room": room_id, "slow_mode_seconds": 30, "keyword_filter": None}
    ]
    assert act(c["viewer"], "live.send", room=room_id, text="one")["ok"]
    refused = act(c["viewer"], "live.send", room=room_id, text="two")
    assert refused["ok"] is False and refused["error"]["code"] == "slow_mode"
    for text in ("a", "b", "c"):
        assert act(c["mod"], "live.send", room=room_id, text=text)["ok"]


def test_the_rate_limit_stops_a_flood(make_room, connect, host, create_user, make_api):
    room_id, c, _viewer = room_with_people(make_room, connect, host, create_user, make_api)
    acks = [act(c["viewer"], "live.send", room=room_id, text=f"m{n}") for n in range(6)]
    assert [a["ok"] for a in acks] == [True] * 5 + [False]
    assert acks[-1]["error"]["code"] == "rate_limited"
    assert all(act(c["host"], "live.send", room=room_id, text=f"h{n}")["ok"] for n in range(8))


def test_the_keyword_filter_refuses_messages_and_stays_with_the_staff(
    make_room, connect, host, create_user, make_api
):
    room_id, c, _viewer = room_with_people(make_room, connect, host, create_user, make_api)
    ack = act(c["mod"], "live.settings", room=room_id, keyword_filter=[" Rolex ", "rolex", "scam"])
    assert ack["ok"] and ack["keyword_filter"] == ["rolex", "scam"]
    assert received(c["viewer"], "live.settings")[0]["keyword_filter"] is None
    refused = act(c["viewer"], "live.send", room=room_id, text="cheap ＲＯＬＥＸ here")
    assert refused["ok"] is False and refused["error"]["code"] == "filtered"
    assert act(c["viewer"], "live.send", room=room_id, text="lovely tea")["ok"]
    assert join(c["mod"], room_id)["settings"]["keyword_filter"] == ["rolex", "scam"]


def test_a_moderator_may_not_pin_end_or_appoint(
    make_room, connect, host, create_user, make_api, shelf
):
    room_id, c, _viewer = room_with_people(make_room, connect, host, create_user, make_api)
    assert act(c["mod"], "live.pin", room=room_id, product_id=shelf[0].id)["error"]["code"] == (
        "forbidden"
    )
    assert act(c["mod"], "live.end", room=room_id)["error"]["code"] == "forbidden"
    assert join(c["mod"], room_id)["permissions"]["role"] == "moderator"


def test_removing_a_moderator_tells_them(app, make_room, connect, host, create_user, make_api):
    api, room_id = make_room()
    mod_user = create_user()
    assert (
        api.post(f"/api/v1/live/rooms/{room_id}/moderators", {"user_id": mod_user.id}).status_code
        == 201
    )
    mod = connect(mod_user)
    assert api.delete(f"/api/v1/live/rooms/{room_id}/moderators/{mod_user.id}").status_code == 204
    assert received(mod, "live.permissions")[-1]["role"] == "viewer"
    with app.app_context():
        assert db.session.scalars(select(LiveChatMessage)).all() == []
