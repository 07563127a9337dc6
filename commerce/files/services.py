"""Storing user images (validated and re-encoded by content) and finding the storage backend."""

from __future__ import annotations

import contextlib
import io
import secrets
from typing import IO
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from commerce.errors import ValidationFailed
from commerce.files.models import StoredObject
from media.storage import Storage

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


def storage() -> Storage:
    """The app's storage backend (bound in create_app)."""
    return current_app.extensions["storage"]


def object_url(obj: StoredObject | None) -> str | None:
    """Where a browser fetches an object: the CDN when configured, else our media route."""
    if obj is None:
        return None
    return key_url(obj.key)


def key_url(key: str | None) -> str | None:
    if key is None:
        return None
    # Built by hand rather than url_for: job workers make URLs outside any request.
    root = current_app.config.get("APPLICATION_ROOT", "/").rstrip("/")
    return storage().public_url(key) or f"{root}/media/{quote(key)}"


def encode_image(stream: IO[bytes], *, max_side: int) -> bytes:
    """Decode an image by its content and re-encode it as JPEG (metadata stripped); nothing is
    stored, so a use case can check every file before it keeps any."""
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed(_("Images can be at most 10 MB."), code="image_too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ValidationFailed(_("That image has too many pixels."), code="image_too_large")
            image.thumbnail((max_side, max_side))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationFailed(
            _("That file is not an image we can read (JPEG, PNG, GIF or WebP)."),
            code="not_an_image",
        ) from exc
    return out.getvalue()


def store_encoded(session: Session, backend: Storage, jpeg: bytes, *, prefix: str) -> StoredObject:
    key = f"{prefix}{secrets.token_urlsafe(12)}.jpg"
    size = backend.save_bytes(key, jpeg, "image/jpeg")
    obj = StoredObject(backend=backend.backend, key=key, content_type="image/jpeg", size=size)
    session.add(obj)
    session.flush()
    return obj


def store_image(
    session: Session, backend: Storage, stream: IO[bytes], *, prefix: str, max_side: int
) -> StoredObject:
    """Decode an image by its content, strip metadata by re-encoding, and store it as JPEG."""
    return store_encoded(session, backend, encode_image(stream, max_side=max_side), prefix=prefix)


_STORED_KEY = "stored_object_keys"


def discard_on_rollback(session: Session, backend: Storage, key: str) -> None:
    """Delete the bytes under key if the transaction that recorded them rolls back: a failed
    use case or commit leaves no file without its row."""
    session.info.setdefault(_STORED_KEY, []).append((backend, key))


@event.listens_for(Session, "after_commit")
def _keep_stored(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the real commit, not a released savepoint
        session.info.pop(_STORED_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _delete_stored(session: Session, previous: SessionTransaction) -> None:
    if previous.nested or previous.parent is not None:
        return  # a savepoint: the outer transaction may still commit what came before it
    for backend, key in session.info.pop(_STORED_KEY, []):
        with contextlib.suppress(OSError):  # the disk went away: nothing more to do here
            backend.delete(key)
