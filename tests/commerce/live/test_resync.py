"""After a message-queue outage each room's viewers on this process get one pushed snapshot."""

from __future__ import annotations

from commerce.live.resync import SNAPSHOT_EVENT, push_snapshots
from tests.commerce.live.conftest import received


def test_each_followed_room_gets_its_snapshot_pushed_without_permissions(
    app, make_room, connect, create_user, shelf
):
    api, room_id = make_room()
    _other_api, quiet_room = make_room()  # nobody follows it here: nothing is built for it
    viewers = [connect(create_user()) for _ in range(2)]
    for viewer in viewers:
        assert viewer.emit("live.join", {"room": room_id}, callback=True)["ok"]
        viewer.get_received()
    pinned = api.post(f"/api/v1/live/rooms/{room_id}/pins", {"product_id": shelf[1].id})
    assert pinned.status_code == 201
    for viewer in viewers:
        viewer.get_received()  # as if the pin event had been lost

    app.config["SERVER_NAME"] = None  # as served: no request here, yet cards need their URLs
    push_snapshots(app)

    for viewer in viewers:
        [snapshot] = received(viewer, SNAPSHOT_EVENT)
        assert snapshot["room"]["id"] == room_id
        [pin] = snapshot["pins"]["pins"]
        assert pin["product"]["id"] == shelf[1].id
        assert pin["product"]["url"] == f"/products/{shelf[1].id}"
        assert snapshot["viewers"] == 2
        assert "permissions" not in snapshot  # each page keeps its own
    assert quiet_room not in app.extensions["live_fanout"].local_rooms()
