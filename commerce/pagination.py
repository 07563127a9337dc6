"""Keyset page cursors: "the page after this (time, id)", opaque to clients.

An OFFSET page reads and throws away every row before it, so deep pages of a heavy seller get
slower as orders pile up; a keyset page starts at an index position whatever the depth.
"""

from __future__ import annotations

import base64
from datetime import datetime

from flask_babel import gettext as _

from commerce.errors import ValidationFailed
from commerce.validation import INT32_MAX


def encode_cursor(stamp: datetime, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{stamp.isoformat()}|{ident}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(time, id) of the last row of the previous page; a 400 for anything we did not make."""
    try:
        stamp, _sep, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        when, number = datetime.fromisoformat(stamp), int(ident)
    except (ValueError, UnicodeDecodeError):
        when, number = None, 0
    # Stored times are naive UTC; ids are 32-bit columns (a bigger one would be a 500 on PG).
    if when is None or when.tzinfo is not None or not 0 < number <= INT32_MAX:
        raise ValidationFailed(
            _("That page cursor is not valid."), fields={"cursor": _("Invalid.")}
        )
    return when, number
