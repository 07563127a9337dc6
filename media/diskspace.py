"""Out of disk space: recognise it, and catch ffmpeg, which often exits 0 on a full disk."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Less than this left after (or while) writing media means the writes were cut short.
LOW_SPACE_BYTES = 64 * 1024


class OutOfSpace(OSError):
    """A folder's filesystem is full (ENOSPC), found by its free space rather than a write."""

    def __init__(self, folder: str | os.PathLike[str], detail: str = "output cut short") -> None:
        super().__init__(errno.ENOSPC, f"No space left on device ({detail})", os.fspath(folder))


def is_out_of_space(error: BaseException | None) -> bool:
    """Whether error, or an error it was raised from, is a full disk or an exceeded quota."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return True
        error = error.__cause__ or error.__context__
    return False


def free_bytes(folder: str | os.PathLike[str]) -> int:
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


def ensure_space(folder: str | os.PathLike[str], detail: str = "output cut short") -> None:
    """Raise OutOfSpace when folder's filesystem is (nearly) full."""
    try:
        low = free_bytes(folder) < LOW_SPACE_BYTES
    except OSError:
        return  # the folder is gone or not a local filesystem: nothing to tell
    if low:
        raise OutOfSpace(folder, detail)


@contextmanager
def space_guard(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Whatever fails while writing into a full folder fails as OutOfSpace, not its symptom.

    ffmpeg 5 ignores write errors of the HLS and MP4 muxers and exits 0 with empty playlists
    or truncated files; the symptom ("not an M3U8 playlist") hides the cause.
    """
    try:
        yield
    except Exception as exc:
        if not is_out_of_space(exc):
            try:
                ensure_space(folder)
            except OutOfSpace as full:
                raise full from exc  # the symptom stays in the traceback, as the cause
        raise
    ensure_space(folder)
