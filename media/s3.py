"""S3 (or MinIO / any S3-protocol server) backend of the storage interface."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from media.storage import (
    DEFAULT_CHUNK,
    RangeReader,
    check_range,
    guess_content_type,
    validate_folder,
    validate_key,
)

_MISSING = {"NoSuchKey", "404", "NotFound"}
_DELETE_BATCH = 1000  # DeleteObjects limit


def make_s3_client(settings: Mapping[str, Any]) -> Any:
    """boto3 S3 client from app settings; path-style addressing when an endpoint is given."""
    endpoint = settings.get("S3_ENDPOINT_URL") or None
    config = Config(
        signature_version="s3v4",
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path"} if endpoint else {},
    )
    kwargs: dict[str, Any] = {
        "region_name": settings.get("S3_REGION") or "us-east-1",
        "endpoint_url": endpoint,
        "config": config,
    }
    if settings.get("S3_ACCESS_KEY_ID"):
        kwargs["aws_access_key_id"] = settings["S3_ACCESS_KEY_ID"]
        kwargs["aws_secret_access_key"] = settings.get("S3_SECRET_ACCESS_KEY")
    return boto3.session.Session().client("s3", **kwargs)


def _is_missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code")) in _MISSING or status == 404


class S3Storage:
    """Objects under s3://bucket/prefix; the client is injected and reused for every call."""

    backend = "s3"

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        prefix: str = "",
        cdn_base_url: str | None = None,
        multipart_threshold: int = 8 * 1024 * 1024,
        multipart_chunksize: int = 8 * 1024 * 1024,
    ) -> None:
        self.client = client
        self.bucket = bucket
        if prefix:
            validate_key(prefix, prefix=True)
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.cdn_base_url = cdn_base_url.rstrip("/") if cdn_base_url else None
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            use_threads=True,
        )

    def _key(self, key: str, *, prefix: bool = False) -> str:
        return self.prefix + validate_key(key, prefix=prefix)

    def save_file(
        self,
        key: str,
        path: str | os.PathLike[str],
        content_type: str | None = None,
        *,
        move: bool = False,
    ) -> int:
        """Upload a file (multipart above the threshold, streamed from disk)."""
        full = self._key(key)
        ctype = content_type or guess_content_type(key) or "application/octet-stream"
        size = os.path.getsize(path)
        self.client.upload_file(
            os.fspath(path),
            self.bucket,
            full,
            ExtraArgs={"ContentType": ctype},
            Config=self.transfer,
        )
        if move:
            os.unlink(path)
        return size

    def save_bytes(self, key: str, data: bytes, content_type: str | None = None) -> int:
        """Store bytes with one PutObject."""
        ctype = content_type or guess_content_type(key) or "application/octet-stream"
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=ctype)
        return len(data)

    def _head(self, key: str) -> dict[str, Any]:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        return head

    def size(self, key: str) -> int:
        """Object size; FileNotFoundError if missing."""
        return int(self._head(key)["ContentLength"])

    def exists(self, key: str) -> bool:
        """True if the object exists."""
        try:
            self._head(key)
        except FileNotFoundError:
            return False
        return True

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK
    ) -> Iterator[bytes]:
        """Bytes start..end inclusive via a ranged GetObject; errors raise before streaming."""
        if start < 0 and end is not None:
            check_range(start, end, 0)  # raises the same ValueError as the local backend
        if end is not None and end < start:
            raise ValueError(f"range end {end} before start {start}")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        if start < 0:
            kwargs["Range"] = f"bytes={start}"  # suffix: the last -start bytes
        elif start > 0 or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            resp = self.client.get_object(**kwargs)
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(key) from exc
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                raise ValueError(f"range not satisfiable for {key!r}") from exc
            raise
        return RangeReader(resp["Body"], int(resp["ContentLength"]), chunk_size)

    def download_to(self, key: str, path: str | os.PathLike[str]) -> None:
        """Stream an object to a local file (written under a temp name, then renamed)."""
        target = os.fspath(path)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(target)), prefix=".tmp-")
        os.close(fd)
        try:
            self.client.download_file(self.bucket, self._key(key), tmp, Config=self.transfer)
            os.replace(tmp, target)
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def delete(self, key: str) -> None:
        """Delete an object; S3 treats a missing key as success."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with prefix; return how many went."""
        full = self._key(prefix, prefix=True)
        paginator = self.client.get_paginator("list_objects_v2")
        count = 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            for i in range(0, len(keys), _DELETE_BATCH):
                batch = keys[i : i + _DELETE_BATCH]
                resp = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                if resp.get("Errors"):
                    first = resp["Errors"][0]
                    raise OSError(
                        f"S3 delete failed for {first.get('Key')}: {first.get('Message')}"
                    )
                count += len(batch)
        return count

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under a folder prefix, sorted (without the bucket prefix)."""
        full = self.prefix + validate_folder(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        keys = [
            obj["Key"][len(self.prefix) :]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full)
            for obj in page.get("Contents", [])
        ]
        return sorted(keys)

    def public_url(self, key: str) -> str | None:
        """CDN URL (bucket prefix included) when configured, else None."""
        full = self._key(key)
        return f"{self.cdn_base_url}/{quote(full)}" if self.cdn_base_url else None

    def content_type(self, key: str) -> str | None:
        """ContentType stored with the object."""
        ctype = self._head(key).get("ContentType")
        return str(ctype) if ctype else None
