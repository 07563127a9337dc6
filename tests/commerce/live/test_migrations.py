"""Live migrations over rows that exist: the closed-by-end mark is backfilled and taken away."""

from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, update

from commerce.extensions import db
from commerce.live import services
from commerce.live.models import LivePin
from commerce.live.queries import pin_history

ROOMS = "/api/v1/live/rooms"
BEFORE = "5d1e7a9b3c20"


def _marks(room_id: str) -> list[tuple[int, bool]]:
    room = services.access_room(db.session, room_id)
    return sorted((p.product_id, p.closed_by_end) for p in pin_history(db.session, room))


def test_pins_closed_at_the_rooms_end_are_marked_by_the_upgrade(app, make_room, shelf):
    api, room_id = make_room()
    for product in shelf[:3]:
        assert api.post(f"{ROOMS}/{room_id}/pins", {"product_id": product.id}).status_code == 201
    flash = {"product_id": shelf[1].id, "price_minor": 500, "duration_seconds": 60, "quantity": 5}
    assert api.post(f"{ROOMS}/{room_id}/flash-sales", flash).status_code == 201
    assert api.delete(f"{ROOMS}/{room_id}/pins/{shelf[0].id}").status_code == 200
    assert api.post(f"{ROOMS}/{room_id}/end").status_code == 200
    _other_api, live_id = make_room()  # still live: its open pin has no end to match
    assert (
        _other_api.post(f"{ROOMS}/{live_id}/pins", {"product_id": shelf[0].id}).status_code == 201
    )
    with app.app_context():
        room = services.access_room(db.session, room_id)
        victim = pin_history(db.session, room)[2]
        victim.pinned_at -= timedelta(seconds=1)
        victim.unpinned_at = room.ended_at - timedelta(milliseconds=300)  # a racing End's pin
        db.session.execute(update(LivePin).values(closed_by_end=False))  # as before the mark
        db.session.commit()
        db.session.remove()

        downgrade(revision=BEFORE)
        columns = [c["name"] for c in inspect(db.engine).get_columns("live_pins")]
        assert "closed_by_end" not in columns
        upgrade()

        # Only equality can be read back from old rows: the race's victim stays unmarked.
        assert _marks(room_id) == [(shelf[0].id, False), (shelf[1].id, True), (shelf[2].id, False)]
        assert _marks(live_id) == [(shelf[0].id, False)]
        db.session.remove()
