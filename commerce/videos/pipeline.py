"""Background jobs that turn an upload into streamable media, and re-render the poster."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from commerce.files.models import StoredObject
from commerce.files.services import object_url, storage
from commerce.jobs.registry import MEDIA
from commerce.jobs.runner import JobContext, job_handler, periodic
from commerce.realtime import publish, user_room
from commerce.timeutil import utcnow
from commerce.videos.models import FAILED, OUT_OF_SPACE, READY, Rendition, Video
from commerce.videos.present import error_message_for_creator
from commerce.videos.uploads import sweep_stale_uploads
from media.diskspace import is_out_of_space
from media.ladder import Rung
from media.probe import probe_video
from media.storage import LocalStorage, Storage
from media.transcode import TranscodeResult, make_poster, transcode_video

log = logging.getLogger(__name__)
PROGRESS_EVENT = "video.progress"
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
}


def progress_payload(video: Video) -> dict[str, Any]:
    return {
        "id": video.public_id,
        "state": video.state,
        "progress": video.progress,
        "playable": video.playable,
        "error": error_message_for_creator(video, current_app.config["BABEL_DEFAULT_LOCALE"]),
        "poster_url": object_url(video.poster),
    }


def announce(session: Session, video: Video) -> None:
    publish(session, PROGRESS_EVENT, progress_payload(video), room=user_room(video.creator_id))


@contextmanager
def work_dir(name: str) -> Iterator[Path]:
    path = Path(current_app.config["WORK_DIR"]) / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def local_source(backend: Storage, key: str, into: Path) -> Path:
    """The source file on local disk: the stored file itself when local, else a download."""
    if isinstance(backend, LocalStorage):
        return Path(backend.path(key))
    target = into / "source"
    backend.download_to(key, target)
    return target


class OutputPublisher:
    """Copies finished outputs to storage: media files once, playlists whenever they change."""

    def __init__(self, backend: Storage, out_dir: Path, prefix: str) -> None:
        self.backend, self.out_dir, self.prefix = backend, out_dir, prefix
        self.sent: dict[str, int] = {}  # relative path -> mtime_ns when sent

    def key(self, relative: str) -> str:
        return self.prefix + relative

    def send_all(self, master: str = "master.m3u8") -> None:
        files = sorted(
            p
            for p in self.out_dir.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-") and not p.name.endswith(".tmp")
        )
        # Segments before the playlists naming them, the master last: a player never sees a
        # file listed before it is there. A growing playlist is sent again each time it grows.
        playlists = [p for p in files if p.suffix == ".m3u8" and p.name != master]
        for path in [p for p in files if p.suffix != ".m3u8"] + playlists:
            relative = path.relative_to(self.out_dir).as_posix()
            stamp = path.stat().st_mtime_ns
            if self.sent.get(relative) == stamp or (
                path.suffix != ".m3u8" and relative in self.sent
            ):
                continue
            self.backend.save_file(self.key(relative), path, CONTENT_TYPES.get(path.suffix))
            self.sent[relative] = stamp
        master_path = self.out_dir / master
        if master_path.exists():
            self.backend.save_file(self.key(master), master_path, CONTENT_TYPES[".m3u8"])


def _discard_outputs(session: Session, backend: Storage, video: Video) -> None:
    """Nothing of a failed attempt stays playable: its stored files and their rows go."""
    prefix = video.storage_prefix + "hls/"
    try:
        backend.delete_prefix(prefix)
    except Exception:  # storage away: the next attempt (or a sweep) deletes them
        log.exception("video %s: outputs of a failed attempt left in storage", video.public_id)
    video.playable = False
    video.master_key = video.fallback_key = None
    video.renditions = []
    for name in ("poster", "sprite"):
        obj = getattr(video, name)
        if obj is not None and obj.key.startswith(prefix):
            setattr(video, name, None)
            session.delete(obj)


def _undo_attempt(session: Session, video_id: int, error: BaseException) -> None:
    """After a failed attempt: drop its outputs and say why, before the runner retries."""
    session.rollback()
    video = session.get(Video, video_id, populate_existing=True)
    if video is None:
        return
    _discard_outputs(session, storage(), video)
    video.error = OUT_OF_SPACE if is_out_of_space(error) else None
    announce(session, video)
    session.commit()


def _mark_failed(session: Session, payload: dict[str, Any], error: str) -> None:
    video = session.get(Video, payload.get("video_id"))
    if video is None:
        return
    _discard_outputs(session, storage(), video)  # also when the worker died mid-way
    video.state = FAILED
    if video.error != OUT_OF_SPACE:
        video.error = error.splitlines()[-1][:500] if error else "processing failed"
    announce(session, video)


def _store_object(session: Session, backend: Storage, key: str, content_type: str) -> StoredObject:
    obj = StoredObject(
        backend=backend.backend, key=key, content_type=content_type, size=backend.size(key)
    )
    session.add(obj)
    return obj


def _apply_result(
    session: Session,
    backend: Storage,
    video: Video,
    result: TranscodeResult,
    publisher: OutputPublisher,
) -> None:
    video.renditions = [
        Rendition(
            name=r.name,
            width=r.width,
            height=r.height,
            bandwidth=r.bandwidth,
            playlist_key=publisher.key(r.playlist),
        )
        for r in result.renditions
    ]
    video.master_key = publisher.key(result.master)
    video.fallback_key = publisher.key(result.fallback) if result.fallback else None
    video.poster = _store_object(session, backend, publisher.key(result.poster), "image/jpeg")
    if result.sprite:
        video.sprite = _store_object(session, backend, publisher.key(result.sprite), "image/jpeg")
        video.sprite_tiles = result.sprite_tiles
        video.sprite_interval_ms = int(result.sprite_interval_s * 1000)


@job_handler("video.transcode", queue=MEDIA, on_failure=_mark_failed)
def transcode(payload: dict[str, Any], ctx: JobContext) -> None:
    """Source -> HLS ladder + MP4 fallback + poster + sprite; playable after the first rung."""
    session = ctx.session
    video = session.get(Video, payload["video_id"])
    if video is None or video.source is None:
        return  # deleted while queued
    backend = storage()
    backend.delete_prefix(video.storage_prefix + "hls/")  # a retry starts clean
    video.error, video.playable = None, False
    session.commit()
    try:
        _transcode(session, ctx, video, backend, payload)
    except Exception as exc:
        try:
            _undo_attempt(session, payload["video_id"], exc)
        except Exception:  # the database went away too: the runner records the first error
            log.exception("video %s: could not undo a failed attempt", payload["video_id"])
            session.rollback()
        raise


def _transcode(
    session: Session, ctx: JobContext, video: Video, backend: Storage, payload: dict[str, Any]
) -> None:
    config = current_app.config
    assert video.source is not None  # checked by the caller
    with work_dir(f"transcode-{video.public_id}") as work:
        source = local_source(backend, video.source.key, work)
        # A live replay is as long as its show: its job passes a larger limit than uploads get.
        max_seconds = payload.get("max_seconds") or config["MAX_VIDEO_SECONDS"]
        # Checked whole (its end decoded) when stored: not again, a second before anyone plays.
        probe = probe_video(source, max_duration_s=max_seconds + 5, check_end=False)
        out_dir = work / "out"
        out_dir.mkdir()
        publisher = OutputPublisher(backend, out_dir, video.storage_prefix + "hls/")
        last = {"pct": -1, "at": 0.0}

        def on_progress(fraction: float) -> None:
            pct = min(99, int(fraction * 100))
            now = time.monotonic()
            if pct == last["pct"] or now - last["at"] < 0.5:
                return
            last.update(pct=pct, at=now)
            video.progress = pct
            ctx.heartbeat(pct)
            announce(session, video)
            session.commit()

        def on_first_playable(_out_dir: str, _rungs: Sequence[Rung]) -> None:
            publisher.send_all()
            video.master_key = publisher.key("master.m3u8")
            video.playable = True
            announce(session, video)
            session.commit()

        result = transcode_video(
            source,
            out_dir,
            probe,
            segment_s=config["HLS_SEGMENT_SECONDS"],
            preset=config["TRANSCODE_PRESET"],
            poster_at_s=(video.cover_ms / 1000) if video.cover_ms is not None else None,
            on_progress=on_progress,
            on_first_playable=on_first_playable,
            on_more_playable=lambda _out_dir: publisher.send_all(),
            instant=config["TRANSCODE_INSTANT"],
        )
        publisher.send_all()
        _apply_result(session, backend, video, result, publisher)
    video.state, video.progress, video.playable = READY, 100, True
    announce(session, video)
    session.commit()


@job_handler("video.poster")
def render_poster(payload: dict[str, Any], ctx: JobContext) -> None:
    """Re-render the poster at the creator's chosen cover moment."""
    session = ctx.session
    video = session.get(Video, payload["video_id"])
    if video is None or video.source is None or video.cover_ms != payload["cover_ms"]:
        return  # deleted, or a newer cover was chosen since
    backend = storage()
    with work_dir(f"poster-{video.public_id}") as work:
        source = local_source(backend, video.source.key, work)
        target = work / "poster.jpg"
        width = max((r.width for r in video.renditions), default=video.width) or 720
        make_poster(source, payload["cover_ms"] / 1000, target, width)
        key = f"{video.storage_prefix}hls/poster-{video.cover_ms}.jpg"
        backend.save_file(key, target, "image/jpeg")
    old = video.poster
    video.poster = _store_object(session, backend, key, "image/jpeg")
    if old is not None and old.key != key:
        session.delete(old)
        session.flush()
        backend.delete(old.key)
    announce(session, video)
    session.commit()


@periodic(every_seconds=3600)
def sweep_uploads(session: Session) -> None:
    """Uploads left unfinished for a day are abandoned: free their disk space."""
    sweep_stale_uploads(
        session,
        tmp_dir=current_app.config["UPLOAD_TMP_DIR"],
        older_than=utcnow() - timedelta(days=1),
    )
