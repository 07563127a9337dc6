"""A room's folder under the live root, named by room id: removed once the app is done with it."""

from __future__ import annotations

import os
import re
import shutil

ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def room_folder(root_dir: str | os.PathLike[str], room_id: str) -> str:
    """root_dir/<room_id>; a room id that could name anything else is refused (ValueError)."""
    # The id pattern has no separator and no dot-only name, so the join cannot leave the root.
    if not ROOM_ID.fullmatch(room_id):
        raise ValueError("room_id must be 1-64 characters of A-Z a-z 0-9 _ -")
    return os.path.join(os.path.realpath(os.fspath(root_dir)), room_id)


def remove_room_folder(root_dir: str | os.PathLike[str], room_id: str) -> bool:
    """Delete a room's live media (playlists, segments, recording parts, recording.mp4).

    Returns False when there was nothing to delete. Call it only for a room that has ended
    and whose recording is kept elsewhere: nothing here can be made again. A room folder
    that is a symbolic link loses the link only, never what it points at.
    """
    folder = room_folder(root_dir, room_id)
    if os.path.islink(folder):
        os.unlink(folder)
        return True
    try:
        # rmtree works through directory descriptors here, so a link planted inside the
        # folder is removed as a link, not followed out of the live root.
        shutil.rmtree(folder)
    except FileNotFoundError:
        return False
    return True
