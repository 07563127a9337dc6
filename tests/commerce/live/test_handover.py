"""Who holds a room's ingest: the lease rules, the claim between nodes, the sweep of rooms whose
ingest never came back (both engines; the real processes are in test_ingest_restarts.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from commerce.extensions import db
from commerce.jobs.models import Job
from commerce.live import rules
from commerce.live.handover import (
    do_claim_ingest,
    do_drop_ingest,
    do_end_abandoned_rooms,
    do_heartbeat,
)
from commerce.live.models import LiveRoom
from commerce.live.replay import REPLAY_JOB
from commerce.timeutil import utcnow

T0 = datetime(2026, 1, 1, 20, 0, 0)
LEASE, GRACE = 8.0, 15.0


def ago(seconds: float | None) -> datetime | None:
    return None if seconds is None else T0 - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("seen", "dropped", "status"),
    [
        (None, None, rules.INGEST_NONE),
        (0, None, rules.INGEST_HELD),
        (8, None, rules.INGEST_HELD),  # the lease's last instant
        (9, None, rules.INGEST_WAITING),  # silent (killed): waiting from its last heartbeat
        (15, None, rules.INGEST_WAITING),
        (16, None, rules.INGEST_LAPSED),
        (0, 0, rules.INGEST_WAITING),  # dropped: waiting however fresh the heartbeat
        (0, 15, rules.INGEST_WAITING),
        (0, 16, rules.INGEST_LAPSED),
        (20, 3, rules.INGEST_WAITING),  # stopped (SIGTERM) 3 s ago: its grace counts from then
    ],
)
def test_ingest_status(seen, dropped, status):
    assert rules.ingest_status(ago(seen), ago(dropped), T0, lease_s=LEASE, grace_s=GRACE) == status


@pytest.mark.parametrize(
    ("holder", "status", "allowed"),
    [
        (None, rules.INGEST_NONE, True),
        ("a", rules.INGEST_HELD, True),
        ("b", rules.INGEST_HELD, False),
        ("b", rules.INGEST_WAITING, True),
        ("a", rules.INGEST_WAITING, True),
        ("a", rules.INGEST_LAPSED, False),
    ],
)
def test_may_take_ingest(holder, status, allowed):
    assert rules.may_take_ingest(holder, "a", status) is allowed


@pytest.mark.parametrize(
    ("seen", "dropped", "abandoned"),
    [
        (None, None, False),
        (16, None, True),  # killed, grace over
        (9, None, False),  # killed, within the grace
        (20, 16, True),  # stopped, grace over
        (0, 16, False),  # dropped on a node still alive: its own timer ends the room
    ],
)
def test_ingest_abandoned(seen, dropped, abandoned):
    assert (
        rules.ingest_abandoned(ago(seen), ago(dropped), T0, lease_s=LEASE, grace_s=GRACE)
        is abandoned
    )


def _set(app, public_id: str, **values) -> None:
    with app.app_context():
        db.session.execute(update(LiveRoom).where(LiveRoom.public_id == public_id).values(**values))
        db.session.commit()


def _claim(app, public_id: str, node: str, now: datetime | None = None) -> bool:
    with app.app_context():
        claimed = do_claim_ingest(
            db.session(), public_id, node, now or utcnow(), lease_s=LEASE, grace_s=GRACE
        )
        db.session.commit()
        return claimed


def _row(app, public_id: str) -> LiveRoom:
    with app.app_context():
        room = db.session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
        db.session.expunge(room)
        return room


def test_a_held_room_is_refused_to_another_node_until_it_drops(app, make_room):
    _api, room_id = make_room(live=False)
    assert _claim(app, room_id, "node-a")
    assert not _claim(app, room_id, "node-b")  # node-a streams into it
    assert _claim(app, room_id, "node-a")  # its own reconnect
    with app.app_context():
        dropped = do_drop_ingest(db.session(), [room_id], "node-a", utcnow())
        db.session.commit()
    assert dropped == []  # scheduled: nobody to tell it waits
    assert _row(app, room_id).ingest_dropped_at is not None
    assert _claim(app, room_id, "node-b")  # resumed on another node
    row = _row(app, room_id)
    assert (row.ingest_node, row.ingest_dropped_at) == ("node-b", None)
    with app.app_context():  # node-a's next heartbeat learns it lost the room
        assert do_heartbeat(db.session(), [room_id], "node-a", utcnow()) == [room_id]
        assert do_heartbeat(db.session(), [room_id], "node-b", utcnow()) == []


@pytest.mark.parametrize(
    ("seen_ago", "dropped_ago", "claimed"),
    [
        (LEASE + 1, None, True),  # killed: its lease lapsed, within the grace
        (GRACE + 1, None, False),  # killed and the grace is over
        (1, GRACE + 1, False),  # dropped and the grace is over
    ],
)
def test_a_killed_or_stopped_nodes_room(app, make_room, seen_ago, dropped_ago, claimed):
    _api, room_id = make_room(live=True)
    now = utcnow()
    _set(
        app,
        room_id,
        ingest_node="node-a",
        ingest_seen_at=now - timedelta(seconds=seen_ago),
        ingest_dropped_at=now - timedelta(seconds=dropped_ago) if dropped_ago else None,
    )
    assert _claim(app, room_id, "node-b", now) is claimed


def test_an_ended_room_is_never_claimed(app, make_room):
    api, room_id = make_room(live=True)
    assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
    assert not _claim(app, room_id, "node-a")


@pytest.mark.parametrize(
    ("seen_ago", "dropped_ago", "ends"),
    [
        (None, None, False),  # went live from the API, never streamed: not the sweep's
        (1, None, False),  # held
        (LEASE + 1, None, False),  # killed, within the grace: a broadcaster may come back
        (GRACE + 1, None, True),  # killed, grace over
        (1, 3, False),  # stopped or dropped 3 s ago
        (GRACE + 5, GRACE + 1, True),  # stopped, grace over
        (1, GRACE + 1, False),  # dropped on a node still alive: its own timer ends it
    ],
)
def test_the_sweep_ends_rooms_whose_ingest_stayed_away(
    app, make_room, tmp_path, seen_ago, dropped_ago, ends
):
    _api, room_id = make_room(live=True)
    now = utcnow()
    _set(
        app,
        room_id,
        ingest_node="node-a" if seen_ago is not None else None,
        ingest_seen_at=now - timedelta(seconds=seen_ago) if seen_ago is not None else None,
        ingest_dropped_at=now - timedelta(seconds=dropped_ago) if dropped_ago else None,
    )
    live_root = tmp_path / "live-sweep"
    playlist = live_root / room_id / "360p" / "index.m3u8"
    playlist.parent.mkdir(parents=True)
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg_00001.ts\n")
    (live_root / room_id / "recording").mkdir()
    (live_root / room_id / "recording" / "part_0001.ts").write_bytes(b"\x47" * 188)
    with app.app_context():
        ended = do_end_abandoned_rooms(
            db.session(), now, live_root=str(live_root), lease_s=LEASE, grace_s=GRACE
        )
        db.session.commit()
        assert [room.public_id for room in ended] == ([room_id] if ends else [])
        jobs = db.session.scalars(select(Job).where(Job.kind == REPLAY_JOB)).all()
        assert len(jobs) == (1 if ends else 0)
    assert _row(app, room_id).state == ("ended" if ends else "live")
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST") is ends
