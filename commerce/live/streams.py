"""A room's media over HTTP: live HLS from the room folder, the low-latency FLV feed, and the
browser ingest socket (MediaRecorder chunks in).

WebSockets are plain Flask views on simple_websocket.Server(request.environ): that works
under werkzeug and gunicorn's gthread worker, beside Flask-SocketIO's own endpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import simple_websocket
from flask import Blueprint, Response, current_app, request, send_file
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from werkzeug.security import safe_join
from wtforms import ValidationError

from commerce.accounts.auth import current_user
from commerce.accounts.models import User
from commerce.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from commerce.extensions import db
from commerce.live import relay, rules, services
from commerce.live.ingest import ingest
from commerce.live.models import LiveRoom
from commerce.timeutil import utcnow
from commerce.videos.models import READY, Video
from media.live import IngestRefused, Publisher
from media.live.blocking import (
    BadDirective,
    advertise_blocking_reload,
    parse_directive,
    wait_for_segment,
)
from media.live.commands import Container

bp = Blueprint("live_media", __name__)

# Only what the media layer writes: master.m3u8, <rung>/index.m3u8, <rung>/seg_NNNNN.ts.
HLS_PATH = re.compile(r"master\.m3u8|[A-Za-z0-9]{1,16}/(index\.m3u8|seg_\d{1,10}\.ts)")
HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}
SEGMENT_MAX_AGE = 3600  # a segment's name is never reused within a room
CLOSE_POLICY = 1008  # WebSocket close code: refused by policy (Origin, CSRF)
CLOSE_NORMAL = 1000
INGEST_CONTAINERS = {"webm", "mp4"}  # Chrome/Firefox record WebM, Safari fragmented MP4
POLL_S = 1.0


class SegmentLate(DomainError):
    """A blocked playlist reload waited three target durations for its segment (RFC 8216bis)."""

    status = 503
    code = "late"


class LiveFull(DomainError):
    """No low-latency slot left in this room on this process: the page falls back to HLS."""

    status = 503
    code = "full"


# WebSocket plumbing -------------------------------------------------------------------------------


def is_websocket() -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


class _SocketDone(Response):
    """Returned once the view has used the socket itself: the server must not write a response.

    Werkzeug treats ConnectionError as a dropped connection and gunicorn StopIteration as the
    end of the response (what Flask-Sock does).
    """

    def __init__(self, ws: simple_websocket.Server) -> None:
        super().__init__()
        self._ws = ws

    def __call__(self, environ: Any, start_response: Any) -> Any:
        # End the TCP connection after the close frame (already sent, so it arrives first):
        # otherwise the server's own thread may keep reading the socket as HTTP keep-alive
        # while the client waits for a close that never comes.
        with contextlib.suppress(OSError):
            self._ws.sock.shutdown(socket.SHUT_RDWR)
        if self._ws.mode == "gunicorn":
            raise StopIteration()
        if self._ws.mode == "werkzeug":
            raise ConnectionError()
        return []


def _close(ws: simple_websocket.Server, code: int, message: str) -> None:
    # A close frame carries at most 123 bytes of reason: cut on bytes (Chinese is 3 per char).
    reason = message.encode()[:120].decode(errors="ignore")
    with contextlib.suppress(simple_websocket.ConnectionClosed):
        ws.close(reason=code, message=reason)


def _refuse(code: int, message: str) -> Response:
    """Accept the upgrade only to close with a reason: a browser cannot read a refused handshake."""
    ws = simple_websocket.Server(request.environ)
    _close(ws, code, message)
    return _SocketDone(ws)


def close_code(error: DomainError) -> int:
    """4000 + the HTTP status (4401, 4403, 4404, 4409): private-use WebSocket close codes."""
    return 4000 + error.status


# Live HLS -----------------------------------------------------------------------------------------


def _replay_ready(room: LiveRoom) -> bool:
    if room.replay_video_id is None:
        return False
    video = db.session.get(Video, room.replay_video_id)
    return video is not None and video.state == READY and video.is_published


@bp.get("/live/<public_id>/hls/<path:path>")
def hls(public_id: str, path: str) -> Response:
    """The room folder's playlists and segments: while live, then until the replay is ready."""
    if not HLS_PATH.fullmatch(path):
        raise NotFound(_("Not found."))
    room = services.access_room(db.session(), public_id)
    if room.state == rules.SCHEDULED or _replay_ready(room):
        raise NotFound(_("This live is not on air."))
    folder = safe_join(current_app.config["LIVE_ROOT"], room.public_id)
    full = safe_join(folder, path) if folder else None
    if full is None:
        raise NotFound(_("Not found."))
    if not os.path.exists(full) and (origin := relay.relay_origin(db.session(), room)):
        db.session.remove()  # held by neither the proxied wait nor the transfer
        return relay.proxy_hls(room.public_id, path, origin)  # ingested on another node
    mimetype = HLS_TYPES[os.path.splitext(path)[1]]
    if path.endswith(".m3u8"):
        db.session.remove()  # a blocked reload holds no database connection
        return _playlist(full, mimetype, media=path != "master.m3u8")
    try:
        return send_file(full, mimetype=mimetype, conditional=True, max_age=SEGMENT_MAX_AGE)
    except FileNotFoundError as exc:  # slid out of the live window since the check above
        raise NotFound(_("Not found.")) from exc


def _playlist(full: str, mimetype: str, *, media: bool) -> Response:
    """Small and rewritten every segment: read whole, never cached. A media playlist honours
    `_HLS_msn` (media/live/blocking.py) while this process has a waiting slot free; without
    one it answers at once, and the player polls as it would without the directive."""
    waits = _blocking_waits()
    try:
        directive = parse_directive(request.args.get("_HLS_msn"), request.args.get("_HLS_part"))
        if not media or waits is None or directive is None:
            text: str | None = Path(full).read_text(encoding="utf-8")
        elif waits.acquire(blocking=False):
            try:
                text = wait_for_segment(full, directive)
            finally:
                waits.release()
        else:
            text = Path(full).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(_("Not found.")) from exc
    except BadDirective as exc:
        raise ValidationFailed(_("Bad playlist request: %(reason)s", reason=str(exc))) from exc
    except ValueError as exc:  # caught mid-write by a writer that does not rename: as if late
        raise SegmentLate(_("The next segment is late: ask again.")) from exc
    if text is None:
        raise SegmentLate(_("The next segment is late: ask again."))
    if media and waits is not None:
        text = advertise_blocking_reload(text)
    response = Response(text, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _blocking_waits() -> threading.BoundedSemaphore | None:
    """This process's slots for blocked playlist reloads (each holds a thread); None when off."""
    size = current_app.config["LIVE_HLS_BLOCKING_WAITS"]
    if size <= 0:
        return None
    waits = current_app.extensions.get("live_hls_waits")
    if waits is None:
        waits = current_app.extensions.setdefault(
            "live_hls_waits", threading.BoundedSemaphore(size)
        )
    return cast(threading.BoundedSemaphore, waits)


# Low-latency FLV ----------------------------------------------------------------------------------


# Werkzeug routes a WebSocket handshake only to rules marked websocket=True (else a 400).
@bp.get("/live/<public_id>/flv")
@bp.get("/live/<public_id>/flv", endpoint="flv_socket", websocket=True)
def flv(public_id: str) -> Response:
    """HTTP-FLV for mpegts.js: a WebSocket of binary FLV chunks, or a chunked HTTP response."""
    websocket = is_websocket()
    room = db.session.scalar(db.select(LiveRoom).where(LiveRoom.public_id == public_id))
    live = ingest()
    on_air = room if room is not None and room.state == rules.LIVE else None
    media = live.media_room(public_id) if on_air else None
    feed = media.low_latency if media is not None else None
    if feed is None and on_air and (origin := relay.relay_origin(db.session(), on_air)):
        feed = relay.relayed_feed(public_id, origin)  # ingested on another node
    if feed is None:
        message = _("This live is not on air.")
        if websocket:
            return _refuse(4404, message)
        raise NotFound(message)
    counted = not relay.from_relay(public_id)  # another node's relay is not a viewer here
    if counted and not live.take_viewer_slot(public_id):
        message = _("This live is full: try the standard player.")
        if websocket:
            return _refuse(4503, message)
        raise LiveFull(message)
    db.session.remove()  # no database connection held for the whole show
    subscription = feed.subscribe()
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            subscription.close()
            if counted:
                live.release_viewer_slot(public_id)

    if not websocket:

        def chunks() -> Iterator[bytes]:
            try:
                yield from subscription
            finally:
                release()

        response = Response(chunks(), mimetype="video/x-flv", direct_passthrough=True)
        response.headers["Cache-Control"] = "no-cache"
        response.call_on_close(release)  # also when the stream never started
        return response
    ws = simple_websocket.Server(request.environ)
    try:
        _send_feed(ws, subscription.get)
        _close(ws, CLOSE_NORMAL, _("This live has ended."))
    except simple_websocket.ConnectionClosed:
        pass
    finally:
        release()
    return _SocketDone(ws)


def _send_feed(ws: simple_websocket.Server, get: Callable[[float], bytes | None]) -> None:
    """Send chunks until the room ends; poll so a viewer who left is noticed while it waits."""
    while ws.connected:
        try:
            chunk = get(POLL_S)
        except queue.Empty:  # nothing new: check the socket again
            continue
        if chunk is None:
            return
        ws.send(chunk)


# Browser ingest -----------------------------------------------------------------------------------


def _check_ingest(public_id: str) -> LiveRoom:
    """Same origin, a valid CSRF token (query ?csrf_token=), the room's creator, not ended."""
    origin = request.headers.get("Origin", "")
    if not origin or urlsplit(origin).netloc != request.host:
        raise Forbidden(_("This page may not stream to this room."), code="origin")
    try:
        validate_csrf(request.args.get("csrf_token", ""))
    except ValidationError as exc:
        raise Forbidden(
            _("Your session expired: reload the page and try again."), code="csrf"
        ) from exc
    user = current_user()
    if user is None:
        raise NotAuthenticated(_("Please log in first."))
    return services.access_room_for_streaming(db.session(), public_id, user)


@bp.get("/live/<public_id>/ingest", websocket=True)
def ingest_socket(public_id: str) -> Response:
    """The studio's camera: binary MediaRecorder chunks in order; {"type": "end"} ends the live."""
    max_size = int(current_app.config["LIVE_INGEST_MAX_MESSAGE_BYTES"])
    # Accepted first, checked after: a refusal is a close code and a reason the page can show.
    ws = simple_websocket.Server(request.environ, max_message_size=max_size)
    try:
        container = request.args.get("container", "webm")
        if container not in INGEST_CONTAINERS:
            raise Conflict(_("Record the camera as WebM or MP4."), code="container")
        room = _check_ingest(public_id)
        room_id, user_id = room.public_id, room.creator_id
        if not ingest().claim(room_id):  # another ingest node is streaming into it
            raise IngestRefused(room_id)
        publisher = ingest().hub.publish(room_id, cast(Container, container))
    except DomainError as error:
        policy = error.code in {"origin", "csrf"}
        _close(ws, CLOSE_POLICY if policy else close_code(error), error.message)
        return _SocketDone(ws)
    except IngestRefused:
        _close(ws, 4409, _("This room is already streaming from elsewhere, or has ended."))
        return _SocketDone(ws)
    finally:
        db.session.remove()  # no database connection held for the whole show
    try:
        _receive_chunks(ws, publisher, room_id, user_id)
    finally:
        publisher.close()  # a drop: the room waits LIVE_GRACE_SECONDS for a reconnect
    return _SocketDone(ws)


def _receive_chunks(
    ws: simple_websocket.Server, publisher: Publisher, room_id: str, user_id: int
) -> None:
    while True:
        try:
            data = ws.receive(timeout=POLL_S)
        except simple_websocket.ConnectionClosed:
            return
        if data is None:
            if publisher.closed:  # cut by the hub: idle, overflow, or the room ended
                _close(ws, 4409, _("The stream stopped: reconnect to continue."))
                return
            continue
        if isinstance(data, bytes):
            publisher.feed(data)
            continue
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("type") == "end":
            _end_live(room_id, user_id)
            _close(ws, CLOSE_NORMAL, _("This live has ended."))
            return


def _end_live(room_id: str, user_id: int) -> None:
    """End the room for the creator, then its media (the recording is finalised here)."""
    session = db.session()
    try:
        room = services.access_room_as_host(session, room_id, session.get(User, user_id))
        if room.state != rules.ENDED:
            services.do_end_room(session, room, utcnow())
            session.commit()
    except DomainError:
        db.session.rollback()
    finally:
        db.session.remove()
    ingest().end_media(room_id, wait=True)
