"""Live media across web nodes, with no shared disk.

- The node whose hub ingests a room records itself as the room's origin (its
  LIVE_INTERNAL_URL) when the room's media becomes playable.
- A web node asked for a room's FLV feed or HLS files it does not hold fetches them from the
  origin: the FLV feed through one relay per room per node (media/live/relay.py), HLS files
  by a streamed proxy. Nodes show each other a token signed with the shared SECRET_KEY; a
  request bearing it is served from the node's own media only (never relayed again) and takes
  no low-latency viewer slot there.
- The finished recording goes to the storage backend (S3 when configured) under the room's
  prefix, and the replay job reads it from there: the worker needs no live folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime

from flask import Flask, Response, current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commerce.errors import NotFound
from commerce.extensions import db
from commerce.files.services import storage
from commerce.live.models import LiveRoom
from commerce.timeutil import utcnow
from commerce.videos.models import READY, Video
from media.live import remove_room_folder, room_folder
from media.live.commands import RECORDING_DIR
from media.live.folders import ROOM_ID
from media.live.recording import recorded_parts
from media.live.relay import RelayedFeed, RelayHub, UpstreamError, fetch

log = logging.getLogger(__name__)

RELAY_HEADER = "X-Live-Relay"
TOKEN_SALT = "liveshop.live-relay"
TOKEN_MAX_AGE_S = 30  # a token only opens the request it came with
FETCH_TIMEOUT_S = 10.0  # a blocked playlist reload on the origin waits up to 3 segments
RECORDING_OBJECT = "recording.mp4"
SWEEP_BATCH = 500  # room ids per query when an origin looks for folders it may remove
EXTENSION = "live_relays"
_PASSED_HEADERS = ("Content-Type", "Cache-Control", "Content-Length", "ETag", "Last-Modified")


class LiveMediaOrigin(db.Model):
    """The node that holds a room's live media (HLS folder, FLV feed): where others fetch it."""

    __tablename__ = "live_media_origins"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True
    )
    base_url: Mapped[str] = mapped_column(String(255))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)


# Use cases ----------------------------------------------------------------------------------------


def do_claim_origin(session: Session, room: LiveRoom, base_url: str, now: datetime) -> None:
    """This node ingests the room now: other nodes fetch its media here (the last claim wins)."""
    origin = session.get(LiveMediaOrigin, room.id)
    if origin is None:
        session.add(LiveMediaOrigin(room_id=room.id, base_url=base_url, claimed_at=now))
    else:
        origin.base_url, origin.claimed_at = base_url, now


def claim_origin(session: Session, room: LiveRoom | None, config: dict) -> None:
    """The ingest's hook when a room becomes playable here; nothing without LIVE_INTERNAL_URL."""
    base_url = config.get("LIVE_INTERNAL_URL")
    if room is not None and base_url:
        do_claim_origin(session, room, base_url.rstrip("/"), utcnow())


def origin_url(session: Session, room: LiveRoom) -> str | None:
    origin = session.get(LiveMediaOrigin, room.id)
    return origin.base_url if origin is not None else None


# The token nodes show each other ------------------------------------------------------------------


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT)


def relay_token(secret: str, public_id: str) -> str:
    return _serializer(secret).dumps({"room": public_id})


def token_opens(secret: str, token: str | None, public_id: str) -> bool:
    """A fresh token signed with our secret, for this room."""
    if not token:
        return False
    try:
        claims = _serializer(secret).loads(token, max_age=TOKEN_MAX_AGE_S)
    except BadSignature:  # also expired (SignatureExpired is one)
        return False
    return isinstance(claims, dict) and claims.get("room") == public_id


def from_relay(public_id: str) -> bool:
    """This request comes from another node of the deployment, for this room."""
    token = request.headers.get(RELAY_HEADER)
    return token_opens(current_app.config["SECRET_KEY"], token, public_id)


def relay_origin(session: Session, room: LiveRoom) -> str | None:
    """Where to fetch the room's media this node lacks; None: nowhere (answer from here)."""
    if from_relay(room.public_id):
        return None  # one hop only: a node asked by another never asks a third
    base_url = origin_url(session, room)
    own = (current_app.config.get("LIVE_INTERNAL_URL") or "").rstrip("/")
    return base_url if base_url and base_url != own else None


def _headers(public_id: str) -> dict[str, str]:
    return {RELAY_HEADER: relay_token(current_app.config["SECRET_KEY"], public_id)}


# Serving another node's media ---------------------------------------------------------------------


def relays() -> RelayHub:
    """This process's FLV relays (made on first use)."""
    hub = current_app.extensions.get(EXTENSION)
    if hub is None:
        hub = current_app.extensions.setdefault(EXTENSION, RelayHub())
    return hub


def relayed_feed(public_id: str, base_url: str) -> RelayedFeed | None:
    """The room's FLV feed relayed from its origin; None when the origin does not have it."""
    try:
        return relays().feed(public_id, f"{base_url}/live/{public_id}/flv", _headers(public_id))
    except UpstreamError as exc:
        log.info("no low-latency relay for room %s: %s", public_id, exc)
        return None


def proxy_hls(public_id: str, path: str, base_url: str) -> Response:
    """The origin's answer for one HLS file, streamed through (blocking reloads included)."""
    url = f"{base_url}/live/{public_id}/hls/{path}"
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    try:
        upstream = fetch(url, _headers(public_id), timeout=FETCH_TIMEOUT_S)
    except UpstreamError as exc:  # the origin is gone: for the viewer, the live is
        log.warning("live HLS of room %s unreachable: %s", public_id, exc)
        raise NotFound(_("This live is not on air.")) from exc
    response = Response(upstream.chunks(), status=upstream.status, direct_passthrough=True)
    for name in _PASSED_HEADERS:
        if (value := upstream.headers.get(name.lower())) is not None:
            response.headers[name] = value
    response.call_on_close(upstream.close)
    return response


# Recordings in storage ----------------------------------------------------------------------------


def recording_key(public_id: str) -> str:
    return f"live/{public_id}/{RECORDING_OBJECT}"


def store_recording(
    app: Flask, public_id: str, recording: str | None, *, in_parts: bool = False
) -> None:
    """The ingest's hook when a room ended: its recording to storage, the local copy removed.

    Runs before the replay job is queued, so the job finds the recording there. If storage
    fails the file stays in the live folder, where a worker sharing it can still read it.
    `in_parts`: the show is in stored parts (parts.py), the replay is made from them: the MP4
    of this node's parts is not needed.
    """
    made = recording if recording is not None and os.path.exists(recording) else None
    if made is None and not in_parts:
        return
    root = app.config["LIVE_ROOT"]
    if made is not None and not in_parts:
        with app.app_context():
            try:
                storage().save_file(recording_key(public_id), made, "video/mp4", move=True)
            except Exception:
                log.exception("recording of room %s not stored: kept in the live folder", public_id)
                return
    if recording is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(recording)  # the local backend may have copied across file systems
    folder = room_folder(root, public_id)
    # The parts are in the stored MP4, or stored themselves; a part whose upload failed stays.
    if not in_parts or not recorded_parts(folder):
        shutil.rmtree(os.path.join(folder, RECORDING_DIR), ignore_errors=True)
    # The replay job removes the live folder of the machine it runs on, not this one's: the
    # folders of this node's earlier rooms whose replays are out go now (this room's HLS, with
    # its ENDLIST, is served until its own replay is out, and goes at a later room's end).
    with app.app_context():
        try:
            sweep_ended_folders(db.session(), root)
        finally:
            db.session.remove()


def sweep_ended_folders(session: Session, root: str) -> list[str]:
    """Remove this node's live folders of rooms whose replay is published; their ids."""
    try:
        names = [name for name in os.listdir(root) if ROOM_ID.fullmatch(name)]
    except FileNotFoundError:
        return []
    done: list[str] = []
    for start in range(0, len(names), SWEEP_BATCH):
        done += session.scalars(
            select(LiveRoom.public_id)
            .join(Video, Video.id == LiveRoom.replay_video_id)
            .where(
                LiveRoom.public_id.in_(names[start : start + SWEEP_BATCH]),
                Video.state == READY,
                Video.published_at.is_not(None),
            )
        )
    for public_id in done:
        try:
            remove_room_folder(root, public_id)
        except (OSError, ValueError):
            log.exception("live folder of room %s not removed", public_id)
    return done


@contextlib.contextmanager
def recording_file(local_path: str, room: LiveRoom) -> Iterator[str]:
    """The room's recording on this machine: the live folder's, or a copy from storage."""
    if os.path.exists(local_path):
        yield local_path
        return
    key = recording_key(room.public_id)
    backend = storage()
    if not backend.exists(key):
        yield local_path  # neither: the probe reports the missing file
        return
    work = current_app.config["WORK_DIR"]
    os.makedirs(work, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix=f"live-{room.public_id}-") as folder:
        copy = os.path.join(folder, RECORDING_OBJECT)
        backend.download_to(key, copy)
        yield copy


def recording_stored(room: LiveRoom) -> bool:
    """Whether the ingest node that ended the room put its recording in storage."""
    return storage().exists(recording_key(room.public_id))


def forget_recording(room: LiveRoom) -> None:
    """The replay is published (it holds its own copy): the stored recording goes."""
    try:
        storage().delete(recording_key(room.public_id))
    except Exception:  # the replay is safe: an object left over is an operator's
        log.exception("stored recording of room %s not deleted", room.public_id)
