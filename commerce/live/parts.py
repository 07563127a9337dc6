"""A show's recording parts in storage, so a show that moved between nodes is replayed whole.

Nodes share no disk: each records the parts of its ingest connections in its own LIVE_ROOT.
Each closed part goes to the storage backend under `live/<room>/parts/`, stored by the node that
recorded it: when the part closes and the room goes on (a drop, a graceful stop, a takeover), at
the room's end, and by a node's periodic sweep for parts left in its folder (a killed process's,
or a failed upload: the part stays local until it is stored, never lost). The object's name is
the part's start (epoch milliseconds) and its number on its node: names from different nodes
never collide and sort in show order. The replay job assembles every stored part and any local
one, in show order, and deletes the stored ones once the replay is published.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.extensions import db
from commerce.files.services import storage
from commerce.live.models import LiveRoom
from media.live import room_folder
from media.live.commands import RECORDING_DIR
from media.live.folders import ROOM_ID
from media.live.recording import (
    RecordingPart,
    finalise_recording,
    forget_part_start,
    part_number,
    part_start,
    recorded_parts,
    write_part_start,
)
from media.storage import Storage

log = logging.getLogger(__name__)

SETTLE_S = 2.0  # beyond the idle timeout: a part not written to for that long is closed
STORED_SUFFIX = ".stored"  # beside a part kept locally once stored
_STORED = re.compile(r"(\d{13})-(\d{4,})\.ts")


@dataclass(frozen=True)
class StoredPart:
    key: str
    started_ms: int


def parts_prefix(public_id: str) -> str:
    return f"live/{public_id}/parts/"


def part_key(public_id: str, started_at: float, number: int) -> str:
    return f"{parts_prefix(public_id)}{round(started_at * 1000):013d}-{number:04d}.ts"


def stored_parts(backend: Storage, public_id: str) -> list[StoredPart]:
    """The room's parts in storage, in show order."""
    found = []
    for key in backend.list_keys(parts_prefix(public_id)):
        match = _STORED.fullmatch(key.rsplit("/", 1)[-1])
        if match:
            found.append(StoredPart(key, int(match.group(1))))
    return sorted(found, key=lambda part: (part.started_ms, part.key))


# On the ingest node -------------------------------------------------------------------------------


def _stored_marker(path: str) -> str:
    return path + STORED_SUFFIX


def _forget_local(path: str) -> None:
    for name in (path, _stored_marker(path)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    forget_part_start(path)


def store_local_parts(
    backend: Storage,
    live_root: str,
    public_id: str,
    *,
    upto: int | None = None,
    settled_before: float | None = None,
    keep: bool = False,
) -> int:
    """Store the room's closed parts: numbers up to `upto` (all when None), last written before
    `settled_before` (epoch seconds) when given. `keep`: the local file stays, marked stored (the
    room may go on here, and its end makes its recording from them); else it goes (a part
    already stored only goes). Returns how many are still local and unstored (the upload failed:
    kept for a later try)."""
    kept = 0
    for path in recorded_parts(room_folder(live_root, public_id)):
        number = part_number(path) or 0
        if upto is not None and number > upto:
            continue
        try:
            if settled_before is not None and os.path.getmtime(path) >= settled_before:
                continue
        except FileNotFoundError:
            continue  # stored meanwhile
        if os.path.exists(_stored_marker(path)):
            if not keep:
                _forget_local(path)
            continue
        started = part_start(path)
        if started is None:  # nothing readable: stored all the same, at its last write
            started = os.path.getmtime(path)
        key = part_key(public_id, started, number)
        try:
            backend.save_file(key, path, "video/mp2t", move=not keep)
        except Exception:
            log.exception("recording part %s not stored: kept for a later try", path)
            kept += 1
            continue
        if keep:
            with open(_stored_marker(path), "w", encoding="ascii") as fh:
                fh.write(key)
        else:
            _forget_local(path)  # a copy across file systems may leave the file
    return kept


def store_parts(app: Flask, public_id: str, *, upto: int | None = None, keep: bool = False) -> int:
    """store_local_parts from a hub thread; never raises (a failure keeps the parts local)."""
    with app.app_context():
        try:
            return store_local_parts(
                storage(), os.fspath(app.config["LIVE_ROOT"]), public_id, upto=upto, keep=keep
            )
        except Exception:  # storage misconfigured or away: everything stays local
            log.exception("recording parts of room %s not stored", public_id)
            return -1


def has_stored_parts(public_id: str) -> bool:
    try:
        return bool(stored_parts(storage(), public_id))
    except Exception:
        log.exception("stored parts of room %s not listed", public_id)
        return False


def folders_with_parts(live_root: str, held: Collection[str]) -> list[str]:
    """Room folders here holding recording parts, but none this node streams into."""
    try:
        names = [name for name in os.listdir(live_root) if ROOM_ID.fullmatch(name)]
    except FileNotFoundError:
        return []
    return [
        name for name in names if name not in held and recorded_parts(room_folder(live_root, name))
    ]


def do_sweep_parts(
    session: Session,
    backend: Storage,
    live_root: str,
    held: Collection[str],
    *,
    settled_before: float,
) -> list[str]:
    """Store the parts this node's folder holds for rooms it does not stream into: left by a
    killed process, or kept after a failed upload. Only parts not written to since
    `settled_before` are taken: in a folder shared with other nodes, one of them may be
    recording the room's current part here. A room whose replay is made is left alone (too
    late; its folder goes with sweep_ended_folders). Returns the rooms whose parts all went."""
    names = folders_with_parts(live_root, held)
    if not names:
        return []
    rooms = session.execute(
        select(LiveRoom.public_id, LiveRoom.replay_video_id).where(LiveRoom.public_id.in_(names))
    ).all()
    done = []
    for public_id, replay in rooms:
        if replay is not None:
            continue
        store_local_parts(backend, live_root, public_id, settled_before=settled_before)
        if not recorded_parts(room_folder(live_root, public_id)):
            done.append(public_id)
    return done


def sweep_parts(app: Flask, held: Collection[str]) -> None:
    """The node's periodic turn (its reconcile loop): never raises.

    A part unwritten for longer than LIVE_IDLE_TIMEOUT_SECONDS (and a margin) is closed: a live
    ingest that stalls that long is cut.
    """
    config = app.config
    settle = float(config["LIVE_IDLE_TIMEOUT_SECONDS"]) + SETTLE_S
    with app.app_context():
        try:
            do_sweep_parts(
                db.session(),
                storage(),
                os.fspath(config["LIVE_ROOT"]),
                held,
                settled_before=time.time() - settle,
            )
        except Exception:
            log.exception("recording parts sweep failed")
        finally:
            db.session.remove()


# In the replay job --------------------------------------------------------------------------------


@contextlib.contextmanager
def assembled_recording(
    backend: Storage, public_id: str, live_folder: str, work_dir: str
) -> Iterator[tuple[str | None, tuple[RecordingPart, ...]]]:
    """The show's recording from its stored parts and the live folder's own, in show order:
    (the MP4 in a temporary folder, or None when nothing is readable; the parts' timeline)."""
    os.makedirs(work_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=f"parts-{public_id}-") as folder:
        os.makedirs(os.path.join(folder, RECORDING_DIR))
        # The folder first, then storage: a part a sweep moves meanwhile is found in one.
        local: dict[int, tuple[str, str]] = {}  # start (ms) -> (path, the key it goes to)
        for path in recorded_parts(live_folder):  # not stored (yet): a shared folder sees them
            started = part_start(path)
            if started is not None:
                key = part_key(public_id, started, part_number(path) or 0)
                local.setdefault(round(started * 1000), (path, key))
        sources = {part.started_ms: part.key for part in stored_parts(backend, public_id)}
        for started_ms, (path, _key) in local.items():
            if started_ms not in sources:
                sources[started_ms] = path
        for index, started_ms in enumerate(sorted(sources), start=1):
            source = sources[started_ms]
            target = os.path.join(folder, RECORDING_DIR, f"part_{index:04d}.ts")
            if source.startswith(parts_prefix(public_id)):
                backend.download_to(source, target)
            else:
                try:
                    shutil.copyfile(source, target)
                except FileNotFoundError:  # stored since it was listed
                    backend.download_to(local[started_ms][1], target)
            write_part_start(folder, index, started_ms / 1000)
        yield finalise_recording(folder)


def missing_parts(timeline: list[dict] | None, present_ms: Collection[int]) -> int:
    """How many parts the ending node recorded (the room's media timeline) are neither stored
    nor local: their upload failed and may yet succeed. Starts match within 2 ms (rounding)."""
    missing = 0
    for part in timeline or ():
        ms = _start_ms(part)
        if not any(abs(ms - other) <= 2 for other in present_ms):
            missing += 1
    return missing


def _start_ms(part: dict) -> int:
    started = datetime.fromisoformat(part["started_at"])
    return round((started - datetime(1970, 1, 1)).total_seconds() * 1000)


def same_timeline(known: list[dict] | None, assembled: list[dict] | None) -> bool:
    """Whether the room's timeline (exact starts, from the ending node) describes the assembled
    parts (starts to the millisecond, from their names)."""
    if not known or not assembled or len(known) != len(assembled):
        return False
    return all(
        abs(_start_ms(a) - _start_ms(b)) <= 2 and abs(a["duration_ms"] - b["duration_ms"]) <= 2
        for a, b in zip(known, assembled, strict=True)
    )


def present_starts(backend: Storage, public_id: str, live_folder: str) -> set[int]:
    starts = {part.started_ms for part in stored_parts(backend, public_id)}
    for path in recorded_parts(live_folder):
        started = part_start(path)
        if started is not None:
            starts.add(round(started * 1000))
    return starts


def forget_parts(backend: Storage, public_id: str) -> None:
    """The replay is published: the stored parts go (an object left over is an operator's)."""
    try:
        backend.delete_prefix(parts_prefix(public_id))
    except Exception:
        log.exception("stored parts of room %s not deleted", public_id)
