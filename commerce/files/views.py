"""Serving stored objects through the app, with HTTP range requests for players."""

from __future__ import annotations

import mimetypes
import re

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from commerce.accounts.auth import current_user
from commerce.errors import NotFound
from commerce.files.services import storage
from commerce.videos.access import can_view_media_prefix

bp = Blueprint("files", __name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("video/mp2t", ".ts")


@bp.get("/media/<path:key>")
def media(key: str) -> Response:
    """Stream an object; drafts' media only to their creator."""
    if not can_view_media_prefix(key, current_user()):
        raise NotFound(_("Not found."))
    backend = storage()
    try:
        total = backend.size(key)
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(_("Not found.")) from exc
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    start, end, status = 0, total - 1, 200
    header = request.headers.get("Range")
    if header and total > 0:
        match = _RANGE.match(header.strip())
        if match is None or (not match.group(1) and not match.group(2)):
            return _unsatisfiable(total)
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), total - 1) if match.group(2) else total - 1
        else:
            start = max(total - int(match.group(2)), 0)
        if start > end or start >= total:
            return _unsatisfiable(total)
        status = 206
    body = backend.iter_range(key, start, end) if total else iter(())
    response = Response(body, status=status, mimetype=content_type, direct_passthrough=True)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Length"] = str(end - start + 1 if total else 0)
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{total}"
    # Segments and posters never change under a key; playlists may be rewritten (master).
    cacheable = not key.endswith(".m3u8")
    response.headers["Cache-Control"] = "private, max-age=86400" if cacheable else "no-cache"
    return response


def _unsatisfiable(total: int) -> Response:
    response = Response(status=416)
    response.headers["Content-Range"] = f"bytes */{total}"
    return response
