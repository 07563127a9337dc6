"""Storing user images (validated and re-encoded by content) and finding the storage backend."""

from __future__ import annotations

import io
import secrets
from typing import IO
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

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


def store_image(
    session: Session, backend: Storage, stream: IO[bytes], *, prefix: str, max_side: int
) -> StoredObject:
    """Decode an image by its content, strip metadata by re-encoding, and store it as JPEG."""
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
    key = f"{prefix}{secrets.token_urlsafe(12)}.jpg"
    size = backend.save_bytes(key, out.getvalue(), "image/jpeg")
    obj = StoredObject(backend=backend.backend, key=key, content_type="image/jpeg", size=size)
    session.add(obj)
    session.flush()
    return obj
