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
    ("seen", "dropped", "ended", "abandoned"),
    [
        (None, None, False, False),
        (16, None, False, True),  # killed, grace over
        (9, None, False, False),  # killed, within the grace
        (20, 16, False, True),  # stopped, grace over
        (0, 16, False, False),  # dropped on a node still alive: its own timer ends the room
        (9, 3, True, True),  # End pressed while the ingest was away: finish it at once
        (1, None, True, False),  # ended, its node finalising the recording (still renewing)
        (None, None, True, False),  # ended and finished (the ingest's end clears seen_at)
    ],
)
def test_ingest_abandoned(seen, dropped, ended, abandoned):
    found = rules.ingest_abandoned(
        ago(seen), ago(dropped), T0, lease_s=LEASE, grace_s=GRACE, ended=ended
    )
    assert found is abandoned


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


# (seen ago, dropped ago, End pressed, swept), one room each, all in one sweep.
SWEEP_CASES = [
    (None, None, False, False),  # went live from the API, never streamed: not the sweep's
    (1, None, False, False),  # held
    (LEASE + 1, None, False, False),  # killed, within the grace: it may come back
    (GRACE + 1, None, False, True),  # killed, grace over
    (1, 3, False, False),  # stopped or dropped 3 s ago
    (GRACE + 5, GRACE + 1, False, True),  # stopped, grace over
    (1, GRACE + 1, False, False),  # dropped on a node still alive: its own timer ends it
    (LEASE + 1, 3, True, True),  # End pressed while nobody held the ingest
    (1, None, True, False),  # End pressed; its node is finalising the recording
]


def test_the_sweep_ends_rooms_whose_ingest_stayed_away(app, make_room, tmp_path):
    now = utcnow()
    live_root = tmp_path / "live-sweep"
    rooms = []
    for seen_ago, dropped_ago, ended, _swept in SWEEP_CASES:
        api, room_id = make_room(live=True)
        if ended:
            assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
        _set(
            app,
            room_id,
            ingest_node="node-a" if seen_ago is not None else None,
            ingest_seen_at=now - timedelta(seconds=seen_ago) if seen_ago is not None else None,
            ingest_dropped_at=now - timedelta(seconds=dropped_ago) if dropped_ago else None,
        )
        playlist = live_root / room_id / "360p" / "index.m3u8"
        playlist.parent.mkdir(parents=True)
        playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg_00001.ts\n")
        (live_root / room_id / "recording").mkdir()
        (live_root / room_id / "recording" / "part_0001.ts").write_bytes(b"\x47" * 188)
        rooms.append(room_id)
    with app.app_context():
        swept = do_end_abandoned_rooms(
            db.session(), now, live_root=str(live_root), lease_s=LEASE, grace_s=GRACE
        )
        swept_ids = sorted(room.public_id for room in swept)
        db.session.commit()
        jobs = db.session.scalars(select(Job).where(Job.kind == REPLAY_JOB)).all()
        queued = {job.payload["room_id"] for job in jobs}
    expected = [room_id for room_id, case in zip(rooms, SWEEP_CASES, strict=True) if case[3]]
    assert swept_ids == sorted(expected)
    for room_id, (seen_ago, _dropped, ended, was_swept) in zip(rooms, SWEEP_CASES, strict=True):
        row = _row(app, room_id)
        assert row.state == ("ended" if was_swept or ended else "live"), room_id
        playlist = live_root / room_id / "360p" / "index.m3u8"
        assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST") is was_swept
        assert (row.id in queued) is was_swept
        assert (row.ingest_seen_at is None) is (was_swept or seen_ago is None)  # swept once
    with app.app_context():  # a second turn finds nothing more to do
        again = do_end_abandoned_rooms(
            db.session(), now, live_root=str(live_root), lease_s=LEASE, grace_s=GRACE
        )
        assert again == []
