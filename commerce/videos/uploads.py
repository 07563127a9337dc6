"""Resumable uploads: chunks stream to a temp file; the finished file is probed, then stored."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.errors import (
    Conflict,
    InsufficientStorage,
    NotFound,
    TooLarge,
    ValidationFailed,
)
from commerce.files.models import StoredObject
from commerce.jobs.runner import enqueue
from commerce.videos.models import PROCESSING, Upload, Video
from commerce.videos.schemas import UploadIn
from media.diskspace import is_out_of_space
from media.probe import InvalidMedia, probe_video
from media.storage import Storage

log = logging.getLogger(__name__)
COPY_BUFFER = 1024 * 1024


def part_path(tmp_dir: str, upload: Upload) -> Path:
    return Path(tmp_dir) / f"{upload.public_id}.part"


def do_start_upload(
    session: Session, user: User, data: UploadIn, *, max_bytes: int, tmp_dir: str
) -> Upload:
    if data.size > max_bytes:
        raise TooLarge(
            _("Videos can be at most %(limit)s MB.", limit=max_bytes // (1024 * 1024)),
            code="upload_too_large",
        )
    upload = Upload(
        public_id=secrets.token_urlsafe(16),
        user_id=user.id,
        filename=os.path.basename(data.filename.replace("\\", "/"))[:255] or "video",
        size=data.size,
        received=0,
    )
    session.add(upload)
    session.flush()
    Path(tmp_dir).mkdir(parents=True, exist_ok=True)
    part_path(tmp_dir, upload).touch()
    return upload


def access_upload(session: Session, public_id: str, user: User) -> Upload:
    upload = session.scalar(select(Upload).where(Upload.public_id == public_id))
    if upload is None or upload.user_id != user.id:
        raise NotFound(_("This upload does not exist or has expired."))
    return upload


def do_append_chunk(
    upload: Upload, *, offset: int, stream: IO[bytes], length: int, tmp_dir: str
) -> Upload:
    """Append length bytes at offset, which must be where the upload stands (resume point)."""
    if upload.video_id is not None:
        raise Conflict(_("This upload is already finished."), code="upload_finished")
    if offset != upload.received:
        raise Conflict(
            _("Resume from byte %(offset)s.", offset=upload.received),
            code="wrong_offset",
            fields={"offset": str(upload.received)},
        )
    if length <= 0 or offset + length > upload.size:
        raise ValidationFailed(_("This chunk does not fit in the declared file size."))
    path = part_path(tmp_dir, upload)
    if not path.exists():
        raise NotFound(_("This upload does not exist or has expired."))
    try:
        written = _write_chunk(path, offset, stream, length)
    except OSError as exc:
        if not is_out_of_space(exc):
            raise
        os.truncate(path, offset)  # keep nothing of the chunk: its bytes would keep the disk full
        log.warning("upload %s: out of disk space at byte %s", upload.public_id, offset)
        raise InsufficientStorage(
            _("The server is out of disk space. Resume from byte %(offset)s later.", offset=offset),
            fields={"offset": str(offset)},
        ) from exc
    if written != length:
        # The connection dropped mid-chunk: keep nothing of it, the client resumes at `received`.
        os.truncate(path, offset)
        raise ValidationFailed(_("The chunk arrived incomplete; send it again."))
    upload.received = offset + written
    return upload


def _write_chunk(path: Path, offset: int, stream: IO[bytes], length: int) -> int:
    """Write up to length bytes of stream at offset (unbuffered: a failure loses no bytes)."""
    written = 0
    with path.open("r+b", buffering=0) as out:
        out.truncate(offset)  # drop the tail of an earlier, interrupted chunk
        out.seek(offset)
        while written < length:
            piece = memoryview(stream.read(min(COPY_BUFFER, length - written)))
            if not piece:
                break
            while piece:
                sent = out.write(piece) or 0
                piece = piece[sent:]
                written += sent
    return written


def discard_upload(session: Session, upload: Upload, tmp_dir: str) -> None:
    part_path(tmp_dir, upload).unlink(missing_ok=True)
    session.delete(upload)


def do_finish_upload(
    session: Session,
    upload: Upload,
    backend: Storage,
    *,
    tmp_dir: str,
    max_seconds: int,
    max_attempts: int = 3,
) -> Video:
    """Probe the whole file; a bad one is discarded with its row, a good one becomes a video."""
    if upload.video_id is not None:  # a retried request returns the first result
        video = session.get(Video, upload.video_id)
        assert video is not None
        return video
    if upload.received != upload.size:
        raise Conflict(
            _(
                "The upload is not complete yet (%(received)s of %(size)s bytes).",
                received=upload.received,
                size=upload.size,
            ),
            code="upload_incomplete",
        )
    path = part_path(tmp_dir, upload)
    try:
        probe = probe_video(path, max_duration_s=max_seconds)
    except InvalidMedia as exc:
        log.info("upload %s rejected: %s (%s)", upload.public_id, exc.code, exc)
        discard_upload(session, upload, tmp_dir)
        raise UploadRejected(rejection_message(exc), code=f"video_{exc.code}") from exc
    video = Video(
        public_id=secrets.token_urlsafe(9),
        creator_id=upload.user_id,
        title=os.path.splitext(upload.filename)[0][:120],
        state=PROCESSING,
        duration_ms=int(probe.duration_s * 1000),
        width=probe.width,
        height=probe.height,
    )
    session.add(video)
    session.flush()
    key = f"{video.storage_prefix}source/original"
    size = backend.save_file(key, path, "application/octet-stream", move=True)
    video.source = StoredObject(backend=backend.backend, key=key, size=size)
    upload.video_id = video.id
    enqueue(session, "video.transcode", {"video_id": video.id}, max_attempts=max_attempts)
    return video


class UploadRejected(ValidationFailed):
    """The file was not an acceptable video; the upload and its bytes are already discarded."""


def rejection_message(error: InvalidMedia) -> str:
    messages = {
        "not_media": _("This file is not a video we can read."),
        "no_video": _("This file has no video stream (audio only or an image?)."),
        "too_long": _("This video is too long."),
        "too_short": _("This video is too short."),
        "corrupt": _("This video file is damaged or incomplete."),
    }
    return messages.get(error.code, _("This file is not a video we can read."))


def sweep_stale_uploads(session: Session, *, tmp_dir: str, older_than: datetime) -> int:
    """Abandoned uploads (never finished, untouched since older_than) lose their row and bytes."""
    stale = session.scalars(
        select(Upload).where(Upload.video_id.is_(None), Upload.updated_at < older_than)
    ).all()
    for upload in stale:
        discard_upload(session, upload, tmp_dir)
    return len(stale)
