"""One storage interface with a local-folder backend and an S3 backend, chosen by settings."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any, Protocol, runtime_checkable
from urllib.parse import quote

DEFAULT_CHUNK = 256 * 1024
_EXTRA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".vtt": "text/vtt",
}


@runtime_checkable
class Storage(Protocol):
    """Where media files live; keys are relative POSIX paths like 'videos/42/master.m3u8'."""

    backend: str

    def save_file(
        self,
        key: str,
        path: str | os.PathLike[str],
        content_type: str | None = None,
        *,
        move: bool = False,
    ) -> int: ...

    def save_bytes(self, key: str, data: bytes, content_type: str | None = None) -> int: ...

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK
    ) -> Iterator[bytes]: ...

    def download_to(self, key: str, path: str | os.PathLike[str]) -> None: ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def public_url(self, key: str) -> str | None: ...

    def content_type(self, key: str) -> str | None: ...


def validate_key(key: str, *, prefix: bool = False) -> str:
    """Return key if it is a safe relative path, else raise ValueError."""
    if not isinstance(key, str) or not key:
        raise ValueError("storage key must be a non-empty string")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"invalid storage key {key!r}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise ValueError(f"invalid storage key {key!r}")
    parts = key.split("/")
    if prefix and parts[-1] == "":
        parts = parts[:-1]  # "videos/42/" names a folder
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def validate_folder(prefix: str) -> str:
    """A key prefix naming a folder ("videos/42/"), else ValueError."""
    validate_key(prefix, prefix=True)
    if not prefix.endswith("/"):
        raise ValueError(f"folder prefix {prefix!r} must end with '/'")
    return prefix


def guess_content_type(key: str) -> str | None:
    """Content type from the key's extension (HLS types included)."""
    ext = os.path.splitext(key)[1].lower()
    return _EXTRA_TYPES.get(ext) or mimetypes.guess_type(key)[0]


def check_range(start: int, end: int | None, size: int) -> tuple[int, int]:
    """Resolve HTTP-style (start, inclusive end) against size; negative start is a suffix."""
    if start < 0:
        if end is not None:
            raise ValueError("a suffix range (negative start) takes no end")
        start = max(0, size + start)
    if end is not None and end < start:
        raise ValueError(f"range end {end} before start {start}")
    if start >= size and not (start == 0 and end is None):
        raise ValueError(f"range start {start} beyond size {size}")
    last = size - 1 if end is None else min(end, size - 1)
    return start, last


class RangeReader(Iterator[bytes]):
    """Yields a byte range of an open stream in chunks; close() is safe to call early."""

    def __init__(self, fh: Any, length: int, chunk_size: int) -> None:
        self._fh = fh
        self._left = max(0, length)
        self._chunk = max(1, chunk_size)

    def __iter__(self) -> RangeReader:
        return self

    def __next__(self) -> bytes:
        if self._left <= 0 or self._fh is None:
            self.close()
            raise StopIteration
        data = self._fh.read(min(self._chunk, self._left))
        if not data:
            self.close()
            raise StopIteration
        self._left -= len(data)
        return bytes(data)

    def close(self) -> None:
        """Release the file or HTTP body (WSGI servers call this when a response ends)."""
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()

    def __del__(self) -> None:
        self.close()


def _copy_stream(src: IO[bytes], dst: IO[bytes]) -> int:
    total = 0
    while chunk := src.read(1024 * 1024):
        dst.write(chunk)
        total += len(chunk)
    return total


class LocalStorage:
    """Files under one root folder; writes are atomic (temp file + os.replace)."""

    backend = "local"

    def __init__(self, root: str | os.PathLike[str], *, cdn_base_url: str | None = None) -> None:
        self.root = os.path.realpath(os.fspath(root))
        os.makedirs(self.root, exist_ok=True)
        self.cdn_base_url = cdn_base_url.rstrip("/") if cdn_base_url else None

    def path(self, key: str, *, prefix: bool = False) -> str:
        """Absolute filesystem path of a key, guaranteed to be inside the root."""
        validate_key(key, prefix=prefix)
        full = os.path.realpath(os.path.join(self.root, *key.rstrip("/").split("/")))
        # realpath resolves symlinks, so a link planted inside the root cannot lead out of it.
        if full != self.root and not full.startswith(self.root + os.sep):
            raise ValueError(f"storage key {key!r} escapes the storage root")
        return full

    def _write_atomic(self, key: str, writer: Any) -> int:
        target = self.path(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                size: int = writer(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return size

    def save_file(
        self,
        key: str,
        path: str | os.PathLike[str],
        content_type: str | None = None,
        *,
        move: bool = False,
    ) -> int:
        """Copy (or with move=True, rename when possible) a file into the store."""
        if move:
            target = self.path(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                os.replace(path, target)
                os.chmod(target, 0o644)
                return os.path.getsize(target)
            except OSError:
                pass  # other filesystem: fall back to copy, then remove the source
        with open(path, "rb") as src:
            size = self._write_atomic(key, lambda dst: _copy_stream(src, dst))
        if move:
            os.unlink(path)
        return size

    def save_bytes(self, key: str, data: bytes, content_type: str | None = None) -> int:
        """Store bytes under key."""
        return self._write_atomic(key, lambda dst: dst.write(data))

    def size(self, key: str) -> int:
        """Size in bytes; FileNotFoundError if missing."""
        target = self.path(key)
        if not os.path.isfile(target):
            raise FileNotFoundError(key)
        return os.path.getsize(target)

    def exists(self, key: str) -> bool:
        """True if a file is stored under key."""
        return os.path.isfile(self.path(key))

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK
    ) -> Iterator[bytes]:
        """Bytes start..end inclusive; opens eagerly so errors surface before streaming."""
        target = self.path(key)
        if not os.path.isfile(target):
            raise FileNotFoundError(key)
        fh = open(target, "rb")  # noqa: SIM115 - closed by RangeReader
        try:
            first, last = check_range(start, end, os.fstat(fh.fileno()).st_size)
            fh.seek(first)
        except BaseException:
            fh.close()
            raise
        return RangeReader(fh, last - first + 1, chunk_size)

    def download_to(self, key: str, path: str | os.PathLike[str]) -> None:
        """Copy a stored file to a local path."""
        src = self.path(key)
        if not os.path.isfile(src):
            raise FileNotFoundError(key)
        shutil.copyfile(src, path)

    def delete(self, key: str) -> None:
        """Remove a file; a missing key is fine."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(key))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with prefix; return how many files went."""
        validate_key(prefix, prefix=True)
        head, _, partial = prefix.rpartition("/")
        folder = self.path(head, prefix=True) if head else self.root
        if not os.path.isdir(folder):
            return 0
        count = 0
        for name in os.listdir(folder):
            if not name.startswith(partial):
                continue
            full = os.path.join(folder, name)
            if os.path.isdir(full) and not os.path.islink(full):
                count += sum(len(files) for _, _, files in os.walk(full))
                shutil.rmtree(full)
            else:
                os.unlink(full)
                count += 1
        return count

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under a folder prefix ("live/r1/parts/"), sorted; none when it is absent."""
        validate_folder(prefix)
        folder = self.path(prefix, prefix=True)
        found = []
        for top, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
            for name in files:
                if name.startswith(".tmp-"):
                    continue  # a write in progress
                rel = os.path.relpath(os.path.join(top, name), self.root)
                found.append(rel.replace(os.sep, "/"))
        return sorted(found)

    def public_url(self, key: str) -> str | None:
        """CDN URL when one fronts the root, else None (the app serves the file itself)."""
        validate_key(key)
        return f"{self.cdn_base_url}/{quote(key)}" if self.cdn_base_url else None

    def content_type(self, key: str) -> str | None:
        """Type guessed from the extension (a folder store keeps no metadata)."""
        if not self.exists(key):
            raise FileNotFoundError(key)
        return guess_content_type(key)


def make_storage(settings: Mapping[str, Any]) -> Storage:
    """Build the backend named by STORAGE_BACKEND from an app config mapping."""
    backend = str(settings.get("STORAGE_BACKEND") or "local").lower()
    cdn = settings.get("CDN_BASE_URL") or None
    if backend == "local":
        root = settings.get("STORAGE_LOCAL_ROOT")
        if not root:
            raise ValueError("STORAGE_LOCAL_ROOT is required for the local storage backend")
        return LocalStorage(root, cdn_base_url=cdn)
    if backend == "s3":
        from media.s3 import S3Storage, make_s3_client

        bucket = settings.get("S3_BUCKET")
        if not bucket:
            raise ValueError("S3_BUCKET is required for the s3 storage backend")
        return S3Storage(
            make_s3_client(settings),
            str(bucket),
            prefix=str(settings.get("S3_PREFIX") or ""),
            cdn_base_url=cdn,
            multipart_threshold=int(settings.get("S3_MULTIPART_THRESHOLD") or 8 * 1024 * 1024),
            multipart_chunksize=int(settings.get("S3_MULTIPART_CHUNKSIZE") or 8 * 1024 * 1024),
        )
    raise ValueError(f"unknown STORAGE_BACKEND {backend!r} (expected 'local' or 's3')")


def upload_tree(
    storage: Storage, local_dir: str | os.PathLike[str], key_prefix: str, files: list[str]
) -> int:
    """Upload files (paths relative to local_dir) under key_prefix; return total bytes."""
    validate_key(key_prefix, prefix=True)
    base = key_prefix if key_prefix.endswith("/") else key_prefix + "/"
    total = 0
    for rel in files:
        key = base + rel
        total += storage.save_file(
            key, os.path.join(os.fspath(local_dir), rel), guess_content_type(key)
        )
    return total
