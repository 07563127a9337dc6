"""Socket.IO: a host and viewers in one room; every refusal is an error ack and changes nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from commerce.extensions import db
from commerce.live.models import LiveChatMessage, LivePin, LiveRoom
from tests.commerce.live.conftest import events, received

ADDRESS = {"name": "Li", "phone": "123456", "line1": "1 Road", "city": "Shanghai"}


def join(client, room_id):
    ack = client.emit("live.join", {"room": room_id}, callback=True)
    assert ack["ok"], ack
    return ack["snapshot"]


def act(client, name, **data):
    return client.emit(name, data, callback=True)


def test_join_gives_a_full_snapshot(make_room, connect, create_user, shelf):
    _api, room_id = make_room()
    viewer = connect(create_user())
    snapshot = join(viewer, room_id)
    assert snapshot["room"]["state"] == "live"
    assert [p["title"] for p in snapshot["room"]["shelf"]] == [p.title for p in shelf]
    assert snapshot["pins"]["pins"] == [] and snapshot["chat"] == []
    assert snapshot["viewers"] == 1 and snapshot["hearts"] == 0
    assert snapshot["permissions"] == {
        "role": "viewer",
        "can_chat": True,
        "can_pin": False,
        "can_moderate": False,
        "can_manage": False,
        "muted_until": None,
        "banned": False,
    }
    assert snapshot["settings"] == {"slow_mode_seconds": 0, "keyword_filter": None}
    assert "server_now" in snapshot


def test_join_an_unknown_room_is_an_error_ack(connect):
    ack = act(connect(), "live.join", room="nope")
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    ack = act(connect(), "live.join", room="bad room id!")
    assert ack["error"]["code"] == "invalid"
    assert connect().emit("live.join", "not an object", callback=True)["ok"] is False


def test_pins_reach_the_viewer_and_a_fourth_is_refused(
    app, make_room, connect, host, create_user, shelf
):
    _api, room_id = make_room()
    studio, viewer = connect(host), connect(create_user())
    join(studio, room_id)
    join(viewer, room_id)
    viewer.get_received()
    for product in shelf[:3]:
        assert act(studio, "live.pin", room=room_id, product_id=product.id)["ok"]
    pins = received(viewer, "live.pins")
    assert [len(p["pins"]) for p in pins] == [1, 2, 3]
    card = pins[-1]["pins"][0]["product"]
    assert card["title"] == "Product 1" and card["price_minor"] == 1000 and card["price_display"]
    assert pins[-1]["version"] > pins[0]["version"]

    refused = act(studio, "live.pin", room=room_id, product_id=shelf[3].id)
    assert refused["ok"] is False and refused["error"]["code"] == "too_many_pins"
    assert "3" in refused["error"]["message"]
    assert received(viewer, "live.pins") == []

    assert act(studio, "live.unpin", room=room_id, product_id=shelf[0].id)["ok"]
    assert [p["product"]["id"] for p in received(viewer, "live.pins")[0]["pins"]] == [
        shelf[1].id,
        shelf[2].id,
    ]
    with app.app_context():  # the unpinned one stays in the history, closed
        pins = db.session.scalars(select(LivePin).order_by(LivePin.id)).all()
        assert [p.unpinned_at is not None for p in pins] == [True, False, False]


def test_flash_sale_countdown_and_stock_falling_as_someone_buys(
    app, make_room, connect, host, create_user, shelf, make_api, tick
):
    _api, room_id = make_room()
    studio, viewer = connect(host), connect(create_user())
    join(studio, room_id)
    join(viewer, room_id)
    product = shelf[0]
    assert act(studio, "live.pin", room=room_id, product_id=product.id)["ok"]
    ack = act(
        studio,
        "live.flash_sale",
        room=room_id,
        product_id=product.id,
        price_minor=500,
        duration_seconds=120,
        quantity=5,
        per_buyer_limit=2,
    )
    assert ack["ok"], ack
    flash = received(viewer, "live.pins")[-1]["pins"][0]["flash"]
    assert flash["price_minor"] == 500 and flash["remaining"] == 5 and flash["phase"] == "on"
    assert 119 <= flash["seconds_left"] <= 120 and flash["server_now"] and flash["ends_at"]
    assert flash["per_buyer_limit"] == 2

    buyer = make_api(create_user())
    address = buyer.post("/api/v1/addresses", ADDRESS).get_json()["id"]
    order = buyer.post(
        "/api/v1/orders",
        {
            "address_id": address,
            "items": [
                {
                    "product_id": product.id,
                    "quantity": 2,
                    "source_kind": "live",
                    "source_key": room_id,
                }
            ],
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert order.status_code == 201, order.get_json()
    assert order.get_json()["orders"][0]["lines"][0]["unit_price_minor"] == 500
    viewer.get_received()
    tick()
    counters = received(viewer, "live.counters")
    assert len(counters) == 1
    assert counters[0]["flash"] == [{"id": flash["id"], "sold": 2, "remaining": 3, "over": False}]
    tick()  # nothing changed: nothing sent
    assert received(viewer, "live.counters") == []
    # A late joiner sees the same remaining stock in its snapshot.
    late = join(connect(create_user()), room_id)
    assert late["pins"]["pins"][0]["flash"]["remaining"] == 3


def test_flash_sale_needs_a_pinned_product_the_host_sells(
    make_room, connect, host, create_user, create_product, shelf
):
    foreign = create_product(create_user(merchant=True), title="Not mine")
    _api, room_id = make_room(products=[*shelf, foreign])
    studio = connect(host)
    join(studio, room_id)
    sale = {"price_minor": 1, "duration_seconds": 60, "quantity": 1}
    unpinned = act(studio, "live.flash_sale", room=room_id, product_id=shelf[0].id, **sale)
    assert unpinned["ok"] is False and unpinned["error"]["code"] == "invalid"
    assert act(studio, "live.pin", room=room_id, product_id=foreign.id)["ok"]
    not_mine = act(studio, "live.flash_sale", room=room_id, product_id=foreign.id, **sale)
    assert not_mine["ok"] is False and not_mine["error"]["code"] == "forbidden"


def test_chat_is_escaped_on_output_and_links_render_for_staff_only(
    app, make_room, connect, host, create_user, tick
):
    _api, room_id = make_room()
    studio, viewer = connect(host), connect(create_user())
    join(studio, room_id)
    join(viewer, room_id)
    text = "<script>alert(1)</script> https://evil.test/x"
    ack = act(viewer, "live.send", room=room_id, text=text)
    assert ack["ok"], ack
    assert act(studio, "live.send", room=room_id, text="shop at https://shop.test/p")["ok"]
    studio.get_received()
    tick()
    batches = received(studio, "live.chat")
    assert len(batches) == 1  # both messages in one batch
    viewer_message, host_message = batches[0]["messages"]
    assert viewer_message["text"] == text  # stored and sent as typed
    assert "<script>" not in viewer_message["html"] and "&lt;script&gt;" in viewer_message["html"]
    assert "<a " not in viewer_message["html"]
    assert host_message["author_role"] == "creator"
    assert '<a href="https://shop.test/p"' in host_message["html"]
    with app.app_context():
        assert db.session.scalar(select(LiveChatMessage.text).order_by(LiveChatMessage.id)) == text


def test_anonymous_viewers_watch_but_cannot_chat(make_room, connect):
    _api, room_id = make_room()
    anonymous = connect()
    snapshot = join(anonymous, room_id)
    assert snapshot["permissions"]["role"] == "anonymous"
    ack = act(anonymous, "live.send", room=room_id, text="hi")
    assert ack["ok"] is False and ack["error"]["code"] == "login_required"


def test_hearts_and_viewers_are_coalesced_into_one_event_per_tick(
    app, make_room, connect, host, create_user, tick
):
    _api, room_id = make_room()
    studio, viewer = connect(host), connect(create_user())
    join(studio, room_id)
    join(viewer, room_id)
    for count in (1, 4, 5):
        assert act(viewer, "live.heart", room=room_id, count=count)["ok"]
    assert received(studio, "live.counters") == []  # nothing until the tick
    tick()
    assert received(studio, "live.counters") == [{"room": room_id, "hearts": 10, "viewers": 2}]
    with app.app_context():
        room = db.session.scalar(select(LiveRoom))
        assert (room.hearts_total, room.peak_viewers) == (10, 2)
    viewer.disconnect()
    tick()
    assert received(studio, "live.counters") == [{"room": room_id, "viewers": 1}]


def test_hearts_need_a_joined_room_and_are_capped_per_connection(make_room, connect, create_user):
    _api, room_id = make_room()
    outsider = connect(create_user())
    ack = act(outsider, "live.heart", room=room_id, count=1)
    assert ack["ok"] is False and ack["error"]["code"] == "not_joined"
    join(outsider, room_id)
    counted = [act(outsider, "live.heart", room=room_id, count=50)["counted"] for _ in range(2)]
    assert counted == [50, 0]


def test_reconnecting_client_resyncs_from_the_snapshot(
    make_room, connect, host, create_user, shelf, tick
):
    _api, room_id = make_room()
    studio, user = connect(host), create_user()
    viewer = connect(user)
    join(studio, room_id)
    join(viewer, room_id)
    viewer.disconnect()
    act(studio, "live.pin", room=room_id, product_id=shelf[0].id)
    act(studio, "live.send", room=room_id, text="welcome back")
    tick()
    again = connect(user)
    snapshot = join(again, room_id)
    assert [p["product"]["id"] for p in snapshot["pins"]["pins"]] == [shelf[0].id]
    assert [m["text"] for m in snapshot["chat"]] == ["welcome back"]
    assert snapshot["viewers"] == 2


def test_the_host_ends_the_room_once(app, make_room, connect, host, create_user):
    _api, room_id = make_room()
    studio, viewer = connect(host), connect(create_user())
    join(studio, room_id)
    join(viewer, room_id)
    assert act(studio, "live.end", room=room_id)["ok"]
    assert received(viewer, "live.state")[0]["state"] == "ended"
    again = act(studio, "live.end", room=room_id)
    assert again["ok"] is False and again["error"]["code"] == "illegal_transition"
    assert received(viewer, "live.state") == []


def test_a_viewer_cannot_pin_moderate_or_end(
    app, make_room, connect, host, create_user, shelf, tick
):
    _api, room_id = make_room()
    studio, viewer, victim = connect(host), connect(create_user()), create_user()
    join(studio, room_id)
    join(viewer, room_id)
    assert act(studio, "live.send", room=room_id, text="host says hi")["ok"]
    tick()
    with app.app_context():
        message_id = db.session.scalar(select(LiveChatMessage.id))
    studio.get_received()
    attempts = [
        ("live.pin", {"product_id": shelf[0].id}),
        ("live.unpin", {"product_id": shelf[0].id}),
        (
            "live.flash_sale",
            {"product_id": shelf[0].id, "price_minor": 1, "duration_seconds": 60, "quantity": 1},
        ),
        ("live.end", {}),
        ("live.start", {}),
        ("live.delete_message", {"message_id": message_id}),
        ("live.mute", {"user_id": victim.id, "seconds": 60}),
        ("live.ban", {"user_id": victim.id}),
        ("live.settings", {"slow_mode_seconds": 30}),
    ]
    for name, data in attempts:
        ack = act(viewer, name, room=room_id, **data)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (name, ack)
    tick()
    assert events(studio) == []  # nobody was told anything: nothing happened
    with app.app_context():
        room = db.session.scalar(select(LiveRoom))
        assert room.state == "live" and room.slow_mode_seconds == 0
        assert db.session.scalar(select(func.count()).select_from(LivePin)) == 0
        assert db.session.scalar(select(LiveChatMessage.deleted_at)) is None
