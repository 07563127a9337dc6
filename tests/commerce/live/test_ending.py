"""Ending a show: End closes exactly the open pins and marks them; what races End loses cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.errors import Conflict, NotFound
from commerce.extensions import db
from commerce.flashsales.models import FlashSale
from commerce.live import services
from commerce.live.models import LivePin, LiveRoom
from commerce.live.queries import pin_history
from commerce.live.schemas import LiveFlashSaleIn
from commerce.timeutil import utcnow

ROOMS = "/api/v1/live/rooms"


def _pin(api, room_id: str, product_id: int) -> None:
    assert api.post(f"{ROOMS}/{room_id}/pins", {"product_id": product_id}).status_code == 201


def test_end_closes_and_marks_exactly_the_open_pins(app, make_room, shelf):
    api, room_id = make_room()
    _pin(api, room_id, shelf[0].id)
    _pin(api, room_id, shelf[1].id)
    assert api.delete(f"{ROOMS}/{room_id}/pins/{shelf[0].id}").status_code == 200
    _pin(api, room_id, shelf[2].id)
    _other_api, other_id = make_room()
    _pin(_other_api, other_id, shelf[1].id)

    with app.app_context():
        room = services.access_room(db.session, room_id)
        host_unpinned_at = next(p.unpinned_at for p in pin_history(db.session, room))
        now = utcnow() + timedelta(seconds=1)
        services.do_end_room(db.session, room, now)
        db.session.commit()
        pins = [
            (p.product_id, p.unpinned_at, p.closed_by_end) for p in pin_history(db.session, room)
        ]
        assert pins == [
            (shelf[0].id, host_unpinned_at, False),  # the host's unpin is left as it was
            (shelf[1].id, now, True),
            (shelf[2].id, now, True),
        ]
        assert room.ended_at == now
        other = services.access_room(db.session, other_id)
        [(still_open)] = pin_history(db.session, other)  # another room's pin is not touched
        assert still_open.unpinned_at is None and not still_open.closed_by_end


def test_calling_off_a_scheduled_room_marks_nothing(app, make_room):
    _api, room_id = make_room(live=False)
    with app.app_context():
        room = services.access_room(db.session, room_id)
        services.do_end_room(db.session, room, utcnow())
        db.session.commit()
        assert room.state == "ended"
        assert db.session.scalars(select(LivePin)).all() == []


# A second session that read the room while it was live, before the End below committed: what
# a request running beside End sees (the control page sends End on its ingest socket and to the
# API at the same moment).
@pytest.fixture
def stale(app, make_room, shelf):
    api, room_id = make_room()
    _pin(api, room_id, shelf[0].id)
    with app.test_request_context():  # the refusals' messages are translated
        other = Session(db.engine)
        try:
            room = services.access_room(other, room_id)
            assert room.state == "live"
            ended_at = utcnow()
            services.do_end_room(db.session, services.access_room(db.session, room_id), ended_at)
            db.session.commit()
            yield other, room, ended_at
        finally:
            other.rollback()
            other.close()


def test_a_second_end_racing_the_first_is_refused_and_keeps_its_moment(app, stale):
    other, room, ended_at = stale
    with pytest.raises(Conflict):
        services.do_end_room(other, room, ended_at + timedelta(milliseconds=300))
    other.rollback()
    fresh = db.session.get(LiveRoom, room.id)
    db.session.refresh(fresh)
    [pin] = pin_history(db.session, fresh)
    assert fresh.ended_at == ended_at == pin.unpinned_at and pin.closed_by_end


def test_a_pin_racing_the_end_is_refused(app, stale, shelf):
    other, room, ended_at = stale
    host = other.get(User, room.creator_id)
    with pytest.raises(Conflict) as refused:
        services.do_pin(other, room, host, shelf[1].id, ended_at + timedelta(milliseconds=1))
    assert refused.value.code == "ended"
    other.rollback()
    assert db.session.scalars(select(LivePin).where(LivePin.unpinned_at.is_(None))).all() == []


def test_an_unpin_racing_the_end_finds_the_pin_closed(app, stale, shelf):
    other, room, ended_at = stale
    with pytest.raises(NotFound):
        services.do_unpin(other, room, shelf[0].id, ended_at + timedelta(milliseconds=1))
    other.rollback()
    [pin] = db.session.scalars(select(LivePin)).all()
    assert pin.unpinned_at == ended_at and pin.closed_by_end


def test_a_flash_sale_racing_the_end_is_refused(app, stale, shelf):
    other, room, ended_at = stale
    host = other.get(User, room.creator_id)
    data = LiveFlashSaleIn(product_id=shelf[0].id, price_minor=500, duration_seconds=60, quantity=3)
    with pytest.raises(Conflict) as refused:
        services.do_start_flash_sale(other, room, host, data, ended_at + timedelta(milliseconds=1))
    assert refused.value.code == "not_live"
    other.rollback()
    assert db.session.scalars(select(FlashSale)).all() == []


def test_the_timeline_tells_pins_closed_by_the_end_by_their_mark(app, make_room, shelf, client):
    api, room_id = make_room()
    _pin(api, room_id, shelf[0].id)
    _pin(api, room_id, shelf[1].id)
    assert api.delete(f"{ROOMS}/{room_id}/pins/{shelf[0].id}").status_code == 200
    assert api.post(f"{ROOMS}/{room_id}/end").status_code == 200
    with app.app_context():
        room = services.access_room(db.session, room_id)
        # As a racing second End left it before the fix: the room's moment is not the pins'.
        room.ended_at += timedelta(milliseconds=300)
        by_host, _by_end = pin_history(db.session, room)
        by_host.unpinned_at = room.ended_at  # the host unpinned at End's very moment
        host_s = (by_host.unpinned_at - room.started_at).total_seconds()
        db.session.commit()
    timeline = client.get(f"{ROOMS}/{room_id}/replay-timeline").get_json()
    assert [(p["product"]["id"], p["end_s"]) for p in timeline["pins"]] == [
        (shelf[0].id, pytest.approx(host_s, abs=0.001)),
        (shelf[1].id, None),
    ]
