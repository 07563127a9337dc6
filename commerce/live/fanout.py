"""One background task per process coalesces each room's high-rate streams into a tick.

Hearts, viewer counts, flash-sale stock and chat would otherwise be one event per action per
viewer; with a message queue every emit also crosses Redis (shared/design/performance.md). Each
tick (~150 ms) sends at most one `live.chat` (a batch) and one `live.counters` per room.

Viewer counts come from a `Presence` (presence.py): this process's connections in the embedded
setup, the sum over every process when the app has a Redis. The count sent and the peak recorded
are that total; each process with viewers in a room sends it to its own viewers only (the same
absolute value everywhere: through the message queue, N processes would each reach everyone),
and big rooms get it less often (rules.viewer_count_interval; a joining viewer's snapshot has it).

A ban takes the banned user's connections out of the room at once on the process that made it,
and on every other process at its next tick: the tick looks for bans of the last
BAN_SWEEP_SECONDS among its rooms (one query) and kicks the members they name.

Limits (per process): the buffers themselves (each process sends its own hearts, chat and clicks
to the whole room through the message queue), the hearts cap (per connection, and per browser
session for the HTTP hearts of one process), and the flash-stock polls, which may be repeated
by each process (absolute values, so a repeat is harmless). If Redis cannot be reached, counts
fall back to this process's until it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commerce.live.models import LiveBan, LiveMinute, LiveProductClick, LiveRoom
from commerce.live.presence import InProcessPresence, Presence, make_presence
from commerce.live.rules import viewer_count_interval
from commerce.live.selling import flash_counters
from commerce.locking import insert_ignore
from commerce.timeutil import utcnow

log = logging.getLogger(__name__)

Emit = Callable[[str, dict[str, Any], str], None]
Kick = Callable[[str, str], None]  # (sid, Socket.IO room): that connection leaves the room
# Bans this recent are swept by every process's tick: ticks are ~150 ms apart, the rest is slack
# for a stalled tick and for clocks of other hosts (created_at is the banning host's).
BAN_SWEEP_SECONDS = 10
MAX_HEARTS_PER_CONNECTION_PER_TICK = 50
MAX_CHAT_PER_TICK = 200  # a burst beyond this waits for the next tick


def channel(public_id: str) -> str:
    """The Socket.IO room of a live room."""
    return f"live:{public_id}"


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass
class _RoomBuffer:
    members: dict[str, int | None] = field(default_factory=dict)  # sid -> user id
    chat: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    hearts: int = 0
    clicks: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    flash: dict[int, int | None] = field(default_factory=dict)  # id -> last remaining sent
    sent_viewers: int = 0
    viewers_sent_at: datetime | None = None
    recorded_peak: tuple[datetime, int] | None = None

    def idle(self) -> bool:
        return not (self.members or self.chat or self.deleted or self.hearts or self.clicks)


class LiveFanout:
    """Buffers keyed by the room's public id; emits go to its Socket.IO room (`channel`)."""

    def __init__(
        self,
        emit: Emit,
        interval_s: float,
        presence: Presence | None = None,
        kick: Kick | None = None,
        emit_local: Emit | None = None,
    ) -> None:
        self._emit = emit
        self._emit_local = emit_local  # this process's connections only (None: use emit)
        self._kick = kick or (lambda _sid, _room: None)
        self.interval_s = interval_s
        self._presence = presence or InProcessPresence()
        self._lock = threading.Lock()
        self._rooms: dict[str, _RoomBuffer] = defaultdict(_RoomBuffer)
        self._sid_hearts: dict[str, int] = defaultdict(int)
        self._thread_started = False
        self._stopping = threading.Event()

    # Presence -------------------------------------------------------------------------------------

    def join(self, room: str, sid: str, user_id: int | None) -> int:
        """Count the connection in; returns the room's viewers including it."""
        with self._lock:
            self._rooms[room].members[sid] = user_id
            local = len(self._rooms[room].members)
        return self._presence.totals({room: local})[room]

    def leave(self, room: str, sid: str) -> None:
        with self._lock:
            if room in self._rooms:
                self._rooms[room].members.pop(sid, None)

    def disconnect(self, sid: str) -> None:
        with self._lock:
            for buffer in self._rooms.values():
                buffer.members.pop(sid, None)
            self._sid_hearts.pop(sid, None)

    def is_member(self, room: str, sid: str) -> bool:
        with self._lock:
            return room in self._rooms and sid in self._rooms[room].members

    def viewers(self, room: str) -> int:
        return self.viewers_of([room])[room]

    def viewers_of(self, rooms: list[str]) -> dict[str, int]:
        """Viewers of several rooms (one presence read for a whole page)."""
        with self._lock:
            local = {r: len(self._rooms[r].members) if r in self._rooms else 0 for r in rooms}
        return self._presence.totals(local)

    def local_rooms(self) -> list[str]:
        """Rooms with a viewer connected to this process."""
        with self._lock:
            return [room for room, buffer in self._rooms.items() if buffer.members]

    def sids_of(self, room: str, user_id: int) -> list[str]:
        with self._lock:
            members = self._rooms[room].members if room in self._rooms else {}
            return [sid for sid, uid in members.items() if uid == user_id]

    # What arrives between ticks -------------------------------------------------------------------

    def add_chat(self, room: str, message: dict[str, Any]) -> None:
        with self._lock:
            self._rooms[room].chat.append(message)

    def delete_chat(self, room: str, message_id: int) -> None:
        """Deleted before its tick: never sent. Otherwise clients are told to hide it."""
        with self._lock:
            buffer = self._rooms[room]
            pending = len(buffer.chat)
            buffer.chat = [m for m in buffer.chat if m["id"] != message_id]
            if len(buffer.chat) == pending:
                buffer.deleted.append(message_id)

    def add_hearts(self, room: str, sid: str, count: int) -> int:
        """Count a viewer's taps, capped per connection per tick; returns how many were counted."""
        with self._lock:
            allowed = MAX_HEARTS_PER_CONNECTION_PER_TICK - self._sid_hearts[sid]
            counted = max(0, min(count, allowed))
            self._sid_hearts[sid] += counted
            self._rooms[room].hearts += counted
            return counted

    def add_click(self, room: str, product_id: int) -> None:
        with self._lock:
            self._rooms[room].clicks[product_id] += 1

    def watch_flash(self, room: str, flash_id: int) -> None:
        with self._lock:
            self._rooms[room].flash.setdefault(flash_id, None)

    # The tick -------------------------------------------------------------------------------------

    def _take(self) -> dict[str, _RoomBuffer]:
        """Swap out what accumulated, keeping presence, watches and what was last sent."""
        taken: dict[str, _RoomBuffer] = {}
        with self._lock:
            self._sid_hearts.clear()
            for room, buffer in list(self._rooms.items()):
                if buffer.idle() and not buffer.flash:
                    del self._rooms[room]
                    continue
                snapshot = _RoomBuffer(
                    members=dict(buffer.members),
                    chat=buffer.chat[:MAX_CHAT_PER_TICK],
                    deleted=buffer.deleted,
                    hearts=buffer.hearts,
                    clicks=dict(buffer.clicks),
                    flash=dict(buffer.flash),
                    sent_viewers=buffer.sent_viewers,
                    viewers_sent_at=buffer.viewers_sent_at,
                    recorded_peak=buffer.recorded_peak,
                )
                buffer.chat = buffer.chat[MAX_CHAT_PER_TICK:]
                buffer.deleted, buffer.hearts = [], 0
                buffer.clicks = defaultdict(int)
                taken[room] = snapshot
        return taken

    def flush(self, session: Session, now: datetime) -> None:
        """Write the counters in one transaction, commit, then send one batch per room."""
        taken = self._take()
        # Also with nothing taken: a room this process just emptied must stop counting it.
        viewers = self._presence.sync({room: len(b.members) for room, b in taken.items()})
        if not taken:
            return
        ids = dict(
            session.execute(
                select(LiveRoom.public_id, LiveRoom.id).where(LiveRoom.public_id.in_(list(taken)))
            ).all()
        )
        banned = self._banned_members(session, ids, taken, now)
        counters: dict[str, dict[str, Any]] = {}
        remember: list[tuple[str, int | None, tuple[datetime, int], list[dict[str, Any]]]] = []
        for room, buffer in taken.items():
            room_id = ids.get(room)
            if room_id is None:
                continue
            changed, peak, flash = self._write_counters(
                session, room_id, buffer, viewers[room], now
            )
            counters[room] = changed
            remember.append((room, changed.get("viewers"), peak, flash))
        session.commit()
        for args in remember:
            self._remember(*args, now)
        for room, sid in banned:
            self._kick(sid, channel(room))
            self.leave(room, sid)
        for room, buffer in taken.items():
            if buffer.chat:
                self._emit("live.chat", {"room": room, "messages": buffer.chat}, channel(room))
            if buffer.deleted:
                self._emit(
                    "live.chat_deleted",
                    {"room": room, "ids": buffer.deleted},
                    channel(room),
                )
            self._send_counters(room, counters.get(room) or {})

    def _send_counters(self, room: str, changed: dict[str, Any]) -> None:
        shared = changed
        if self._emit_local is not None and "viewers" in changed:
            shared = {key: value for key, value in changed.items() if key != "viewers"}
            local = {"room": room, "viewers": changed["viewers"]}
            self._emit_local("live.counters", local, channel(room))
        if shared:
            self._emit("live.counters", {"room": room, **shared}, channel(room))

    def _banned_members(
        self, session: Session, ids: dict[str, int], taken: dict[str, _RoomBuffer], now: datetime
    ) -> list[tuple[str, str]]:
        """(room, sid) of connections here whose user was banned lately, wherever the ban was."""
        signed_in = {room: b.members for room, b in taken.items() if any(b.members.values())}
        if not signed_in:
            return []
        rooms = {ids[room]: room for room in signed_in if room in ids}
        bans = session.execute(
            select(LiveBan.room_id, LiveBan.user_id).where(
                LiveBan.room_id.in_(list(rooms)),
                LiveBan.created_at >= now - timedelta(seconds=BAN_SWEEP_SECONDS),
            )
        ).all()
        return [
            (rooms[room_id], sid)
            for room_id, user_id in bans
            for sid, member in signed_in[rooms[room_id]].items()
            if member == user_id
        ]

    def _write_counters(
        self, session: Session, room_id: int, buffer: _RoomBuffer, viewers: int, now: datetime
    ) -> tuple[dict[str, Any], tuple[datetime, int], list[dict[str, Any]]]:
        minute = minute_of(now)
        changed: dict[str, Any] = {}
        if buffer.hearts:
            session.execute(
                update(LiveRoom)
                .where(LiveRoom.id == room_id)
                .values(hearts_total=LiveRoom.hearts_total + buffer.hearts)
            )
            insert_ignore(session, LiveMinute, {"room_id": room_id, "minute": minute})
            session.execute(
                update(LiveMinute)
                .where(LiveMinute.room_id == room_id, LiveMinute.minute == minute)
                .values(hearts=LiveMinute.hearts + buffer.hearts)
            )
            changed["hearts"] = session.scalar(
                select(LiveRoom.hearts_total).where(LiveRoom.id == room_id)
            )
        since = (now - buffer.viewers_sent_at).total_seconds() if buffer.viewers_sent_at else None
        due = since is None or since >= viewer_count_interval(viewers)
        if viewers != buffer.sent_viewers and due:
            changed["viewers"] = viewers
        last_minute, last_peak = buffer.recorded_peak or (None, 0)
        floor = last_peak if last_minute == minute else 0
        if viewers > floor:
            self._record_peak(session, room_id, minute, viewers)
        peak = (minute, max(viewers, floor))
        for product_id, clicks in buffer.clicks.items():
            key = {"room_id": room_id, "product_id": product_id, "minute": minute}
            insert_ignore(session, LiveProductClick, key)
            session.execute(
                update(LiveProductClick)
                .filter_by(**key)
                .values(clicks=LiveProductClick.clicks + clicks)
            )
        flash_changes = []
        for flash_id, sold, quantity, ends_at in flash_counters(session, list(buffer.flash)):
            remaining = max(quantity - sold, 0)
            if remaining != buffer.flash[flash_id] or ends_at <= now:
                flash_changes.append(
                    {"id": flash_id, "sold": sold, "remaining": remaining, "over": ends_at <= now}
                )
        if flash_changes:
            changed["flash"] = flash_changes
        return changed, peak, flash_changes

    def _record_peak(self, session: Session, room_id: int, minute: datetime, viewers: int) -> None:
        session.execute(
            update(LiveRoom)
            .where(LiveRoom.id == room_id, LiveRoom.peak_viewers < viewers)
            .values(peak_viewers=viewers)
        )
        insert_ignore(session, LiveMinute, {"room_id": room_id, "minute": minute})
        session.execute(
            update(LiveMinute)
            .where(
                LiveMinute.room_id == room_id,
                LiveMinute.minute == minute,
                LiveMinute.peak_viewers < viewers,
            )
            .values(peak_viewers=viewers)
        )

    def _remember(
        self,
        room: str,
        viewers: int | None,
        peak: tuple[datetime, int],
        flash: list[dict[str, Any]],
        now: datetime,
    ) -> None:
        """Write back what was sent, to the live buffer (the tick worked on a copy)."""
        with self._lock:
            buffer = self._rooms.get(room)
            if buffer is None:
                return
            if viewers is not None:
                buffer.sent_viewers, buffer.viewers_sent_at = viewers, now
            buffer.recorded_peak = peak
            for change in flash:
                if change["over"]:
                    buffer.flash.pop(change["id"], None)
                elif change["id"] in buffer.flash:
                    buffer.flash[change["id"]] = change["remaining"]

    # The background loop --------------------------------------------------------------------------

    def start(self, app: Flask, spawn: Callable[..., Any]) -> None:
        """Start the loop once, on the first join (so tests and CLI commands never start it)."""
        with self._lock:
            if self._thread_started or self.interval_s <= 0:
                return
            self._thread_started = True
        spawn(self._run, app)

    def stop(self) -> None:
        """End the loop after its current tick (tests; a clean shutdown)."""
        self._stopping.set()

    def _run(self, app: Flask) -> None:
        from commerce.extensions import db

        pause = 0.0
        while not self._stopping.wait(pause):
            started = time.monotonic()
            with app.app_context():
                try:
                    self.flush(db.session(), utcnow())
                except Exception:  # the loop must outlive one bad tick
                    log.exception("live fan-out tick failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            pause = max(0.0, self.interval_s - (time.monotonic() - started))
        self._presence.withdraw()  # other processes stop counting ours now, not at expiry


def init_app(app: Flask) -> None:
    """One fan-out per app; its loop starts with the first viewer (see LiveFanout.start)."""
    from commerce.extensions import socketio

    def emit(event: str, payload: dict[str, Any], room: str) -> None:
        socketio.emit(event, payload, to=room)

    def emit_local(event: str, payload: dict[str, Any], room: str) -> None:
        socketio.emit(event, payload, to=room, ignore_queue=True)

    def kick(sid: str, room: str) -> None:
        socketio.server.leave_room(sid, room, namespace="/")  # sids of this process only

    app.extensions["live_fanout"] = LiveFanout(
        emit,
        app.config["LIVE_FANOUT_INTERVAL_MS"] / 1000,
        make_presence(app.config),
        kick,
        emit_local if app.config["SOCKETIO_MESSAGE_QUEUE"] else None,
    )
