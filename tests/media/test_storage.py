"""Storage behaviour, the same tests over the local folder and S3 (moto over real HTTP)."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from media.s3 import S3Storage, make_s3_client
from media.storage import LocalStorage, Storage, make_storage, upload_tree, validate_key

MB = 1024 * 1024


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return make_storage({"STORAGE_LOCAL_ROOT": str(tmp_path / "root")})
    settings: dict[str, Any] = request.getfixturevalue("s3_server")
    # One client for the session (building one costs ~0.3 s); a fresh prefix per test keeps
    # tests independent inside the shared bucket.
    return S3Storage(
        request.getfixturevalue("s3_client"),
        settings["S3_BUCKET"],
        prefix=f"t-{uuid.uuid4().hex}",
        multipart_threshold=5 * MB,
        multipart_chunksize=5 * MB,
    )


@pytest.fixture(scope="module")
def s3_client(s3_server: dict[str, Any]) -> Any:
    return make_s3_client(s3_server)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with open(path, "wb") as fh:
        for i in range(12):
            fh.write(hashlib.sha256(str(i).encode()).digest() * (MB // 32))
    return path


def _read(storage: Storage, key: str, *args: int) -> bytes:
    return b"".join(storage.iter_range(key, *args))


def test_is_a_storage(storage: Storage) -> None:
    assert isinstance(storage, Storage)
    assert storage.backend in ("local", "s3")


def test_save_bytes_size_exists(storage: Storage) -> None:
    assert storage.save_bytes("a/b/c.txt", b"hello world", "text/plain") == 11
    assert storage.exists("a/b/c.txt")
    assert not storage.exists("a/b/missing.txt")
    assert storage.size("a/b/c.txt") == 11
    assert _read(storage, "a/b/c.txt") == b"hello world"
    assert storage.save_bytes("a/b/c.txt", b"new") == 3, "overwrite"
    assert _read(storage, "a/b/c.txt") == b"new"


def test_save_big_file_streams_and_ranges(storage: Storage, big_file: Path, tmp_path: Path) -> None:
    data = big_file.read_bytes()
    assert storage.save_file("v/1/src.mp4", big_file) == len(data)
    assert big_file.exists(), "copy, not move"
    assert storage.size("v/1/src.mp4") == len(data)
    assert _read(storage, "v/1/src.mp4", 0, 99) == data[:100]
    assert _read(storage, "v/1/src.mp4", 5 * MB - 10, 5 * MB + 9) == data[5 * MB - 10 : 5 * MB + 10]
    assert _read(storage, "v/1/src.mp4", len(data) - 1000) == data[-1000:]
    assert _read(storage, "v/1/src.mp4", -500) == data[-500:], "suffix range"
    assert _read(storage, "v/1/src.mp4", 10, len(data) + 100) == data[10:], "end clamped"
    chunks = list(storage.iter_range("v/1/src.mp4", 0, 3 * MB - 1, chunk_size=MB))
    assert [len(c) for c in chunks] == [MB, MB, MB]
    out = tmp_path / "copy.bin"
    storage.download_to("v/1/src.mp4", out)
    assert out.read_bytes() == data
    assert storage.content_type("v/1/src.mp4") == "video/mp4"


@pytest.mark.s3
def test_s3_upload_is_multipart(s3_server: dict[str, Any], big_file: Path) -> None:
    settings = {**s3_server, "S3_MULTIPART_THRESHOLD": 5 * MB, "S3_MULTIPART_CHUNKSIZE": 5 * MB}
    store = make_storage({**settings, "S3_PREFIX": "multipart"})
    store.save_file("big.bin", big_file, "application/octet-stream")
    client = store.client  # type: ignore[attr-defined]
    head = client.head_object(Bucket=settings["S3_BUCKET"], Key="multipart/big.bin")
    assert head["ETag"].strip('"').endswith("-3"), "12 MB in 5 MB parts"
    assert store.content_type("big.bin") == "application/octet-stream"


def test_unsatisfiable_ranges(storage: Storage) -> None:
    storage.save_bytes("r.bin", b"0123456789")
    with pytest.raises(ValueError):
        storage.iter_range("r.bin", 10)
    with pytest.raises(ValueError):
        storage.iter_range("r.bin", 5, 2)
    assert _read(storage, "r.bin", 9) == b"9"


def test_missing_keys(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        storage.size("nope.mp4")
    with pytest.raises(FileNotFoundError):
        storage.iter_range("nope.mp4")
    with pytest.raises(FileNotFoundError):
        storage.download_to("nope.mp4", tmp_path / "x")
    with pytest.raises(FileNotFoundError):
        storage.content_type("nope.mp4")
    assert not (tmp_path / "x").exists()
    storage.delete("nope.mp4")  # not an error


def test_empty_object_streams_nothing(storage: Storage) -> None:
    storage.save_bytes("empty.bin", b"")
    assert storage.size("empty.bin") == 0
    assert _read(storage, "empty.bin") == b""


def test_delete_and_delete_prefix(storage: Storage) -> None:
    for key in ["v/42/a.ts", "v/42/b.ts", "v/42/240p/c.ts", "v/420/x.ts", "v/43/y.ts"]:
        storage.save_bytes(key, b"x")
    storage.delete("v/43/y.ts")
    assert not storage.exists("v/43/y.ts")
    assert storage.delete_prefix("v/42/") == 3
    assert not storage.exists("v/42/a.ts") and not storage.exists("v/42/240p/c.ts")
    assert storage.exists("v/420/x.ts"), "prefix 'v/42/' does not touch v/420"
    assert storage.delete_prefix("v/42") == 1, "without the slash it does (S3 semantics)"
    assert storage.delete_prefix("v/42/") == 0


def test_list_keys_under_a_folder(storage: Storage) -> None:
    for key in [
        "live/r1/parts/2-0001.ts",
        "live/r1/parts/1-0002.ts",
        "live/r1/x.mp4",
        "live/r10/a",
    ]:
        storage.save_bytes(key, b"x")
    assert storage.list_keys("live/r1/parts/") == [
        "live/r1/parts/1-0002.ts",
        "live/r1/parts/2-0001.ts",
    ]
    assert storage.list_keys("live/r1/") == [
        "live/r1/parts/1-0002.ts",
        "live/r1/parts/2-0001.ts",
        "live/r1/x.mp4",
    ]  # not live/r10
    assert storage.list_keys("live/none/") == []
    for bad in ("live/r1", "", "../"):
        with pytest.raises(ValueError):
            storage.list_keys(bad)


def test_save_file_move(storage: Storage, tmp_path: Path) -> None:
    src = tmp_path / "upload.part"
    src.write_bytes(b"abc" * 1000)
    assert storage.save_file("up/1.mp4", src, move=True) == 3000
    assert not src.exists()
    assert _read(storage, "up/1.mp4") == b"abc" * 1000


def test_content_types(storage: Storage) -> None:
    storage.save_bytes("h/master.m3u8", b"#EXTM3U\n")
    storage.save_bytes("h/seg.ts", b"x")
    storage.save_bytes("h/poster.jpg", b"x")
    assert storage.content_type("h/master.m3u8") == "application/vnd.apple.mpegurl"
    assert storage.content_type("h/seg.ts") == "video/mp2t"
    assert storage.content_type("h/poster.jpg") == "image/jpeg"


def test_public_url(storage: Storage, tmp_path: Path, s3_settings_or_none: Any) -> None:
    assert storage.public_url("v/1/master.m3u8") is None
    if storage.backend == "local":
        cdn = make_storage(
            {"STORAGE_LOCAL_ROOT": str(tmp_path / "r2"), "CDN_BASE_URL": "https://cdn.example/m/"}
        )
        assert cdn.public_url("v/1/a b.m3u8") == "https://cdn.example/m/v/1/a%20b.m3u8"
    else:
        cdn = make_storage(
            {**s3_settings_or_none, "S3_PREFIX": "media", "CDN_BASE_URL": "https://cdn.example"}
        )
        assert cdn.public_url("v/1/master.m3u8") == "https://cdn.example/media/v/1/master.m3u8"


@pytest.fixture
def s3_settings_or_none(request: pytest.FixtureRequest, storage: Storage) -> Any:
    return request.getfixturevalue("s3_server") if storage.backend == "s3" else None


def test_upload_tree(storage: Storage, tmp_path: Path) -> None:
    (tmp_path / "out/240p").mkdir(parents=True)
    (tmp_path / "out/master.m3u8").write_text("#EXTM3U\n")
    (tmp_path / "out/240p/seg_00000.ts").write_bytes(b"x" * 10)
    total = upload_tree(storage, tmp_path / "out", "v/7", ["master.m3u8", "240p/seg_00000.ts"])
    assert total == 18
    assert storage.size("v/7/240p/seg_00000.ts") == 10
    assert storage.content_type("v/7/240p/seg_00000.ts") == "video/mp2t"


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "a/../../etc/passwd",
        "/etc/passwd",
        "a\\..\\b",
        "a\x00b",
        "a//b",
        "./a",
        "a/./b",
        "a/",
        "",
        "a\nb",
    ],
)
def test_bad_keys_rejected(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.save_bytes(key, b"x")
    with pytest.raises(ValueError):
        storage.exists(key)


def test_delete_prefix_refuses_everything(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.delete_prefix("")
    with pytest.raises(ValueError):
        storage.delete_prefix("../")


def test_local_symlink_cannot_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    store = LocalStorage(tmp_path / "root")
    os.symlink(outside, tmp_path / "root" / "link")
    with pytest.raises(ValueError):
        store.size("link/secret.txt")
    with pytest.raises(ValueError):
        store.save_bytes("link/new.txt", b"x")
    assert not (outside / "new.txt").exists()


def test_local_writes_are_atomic_and_leave_no_temp(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "root")
    store.save_bytes("a/b.bin", b"1" * 100)

    class Boom(Exception):
        pass

    def failing(_fh: Any) -> int:
        raise Boom

    with pytest.raises(Boom):
        store._write_atomic("a/b.bin", failing)
    assert (tmp_path / "root/a/b.bin").read_bytes() == b"1" * 100, "old content intact"
    assert os.listdir(tmp_path / "root/a") == ["b.bin"]


def test_range_reader_closes_early(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.save_bytes("f.bin", b"x" * 1000)
    reader = store.iter_range("f.bin", chunk_size=10)
    assert next(reader) == b"x" * 10
    reader.close()  # type: ignore[attr-defined]
    assert list(reader) == []


def test_validate_key_accepts_normal_keys() -> None:
    assert validate_key("videos/42/240p/seg_00000.ts") == "videos/42/240p/seg_00000.ts"
    assert validate_key("videos/42/", prefix=True) == "videos/42/"


def test_settings_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_storage({})
    with pytest.raises(ValueError):
        make_storage({"STORAGE_BACKEND": "ftp", "STORAGE_LOCAL_ROOT": str(tmp_path)})
    with pytest.raises(ValueError):
        make_storage({"STORAGE_BACKEND": "s3"})
    assert make_storage({"STORAGE_LOCAL_ROOT": str(tmp_path / "new")}).backend == "local"
    assert (tmp_path / "new").is_dir()
