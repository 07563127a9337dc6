"""Fixtures: one migrated database per run, emptied after each test; factory fixtures."""

from __future__ import annotations

import functools
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from werkzeug.security import generate_password_hash

from app import create_app
from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.extensions import db
from tests.processes import TEST_DEPLOYMENT, processes  # noqa: F401  (processes: a fixture)
from tests.route_builders import install as install_route_builders

install_route_builders()

PASSWORD = "correct-horse-9"
# Factory users get a cheap hash of PASSWORD, made once: the app's scrypt costs ~0.1 s per hash and
# per login check, and the suite creates and logs in thousands of users. Sign-ups through the app
# still hash with the app's own method (tests/commerce/test_accounts.py).
_FACTORY_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate a database once per run (this also proves the migrations build the schema)."""
    from flask_migrate import downgrade, upgrade

    url = _database_url(tmp_path_factory.mktemp("db"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        downgrade(revision="base")  # the downgrade path works too
        upgrade()
        db.engine.dispose()
    return url


# A served test's request or worker thread can outlive its server by a moment, mid-transaction;
# TRUNCATE would then deadlock with it. Ending those transactions first makes emptying certain.
_END_LEFTOVER_TRANSACTIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
)


# Tables holding rows, or whose id sequence moved (a rolled-back insert), in one query: a test
# touches a few of ~60 tables, and TRUNCATE costs per table (~130 ms for all of them, twice per
# test, was a third of the PostgreSQL suite).
_SEQUENCES_USED = (
    "SELECT DISTINCT t.relname FROM pg_sequences s"
    " JOIN pg_class c ON c.relname = s.sequencename AND c.relkind = 'S'"
    " JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i')"
    " JOIN pg_class t ON t.oid = d.refobjid"
    " WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL"
)


def _tables_in_use(tables: list[str]) -> list[str]:
    holding = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables
    )
    used = set(db.session.execute(text(f"{holding} UNION {_SEQUENCES_USED}")).scalars())
    return [name for name in tables if name in used]


@functools.cache
def _tables_children_first() -> tuple[str, ...]:
    # Sorting ~60 tables by their foreign keys costs ~5 ms: once per run, not once per test.
    return tuple(t.name for t in reversed(db.metadata.sorted_tables))


def _empty_tables() -> None:
    tables = list(_tables_children_first())
    if db.engine.dialect.name != "postgresql":
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
        db.session.commit()
        return
    # Such a thread (a timer ending a flash sale, a request Chromium sent as the page closed) can
    # also begin a new transaction between the terminate and the TRUNCATE: the TRUNCATE then
    # deadlocks or waits on it. It waits 2 s at most and tries again after ending it.
    for attempt in range(5):
        try:
            db.session.execute(_END_LEFTOVER_TRANSACTIONS)
            db.session.commit()
            in_use = _tables_in_use(tables)
            if in_use:
                db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
                db.session.execute(text(f"TRUNCATE {', '.join(in_use)} RESTART IDENTITY CASCADE"))
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            if attempt == 4:
                raise
            time.sleep(0.2)


def _close_on_checkin(dbapi_connection: Any, record: Any) -> None:
    if dbapi_connection is not None:
        dbapi_connection.close()


def dispose_engine(engine: Any) -> None:
    """Close the pool's connections, and the ones a lingering thread returns to it later.

    `Engine.dispose()` closes only the connections at rest: a served test's request or worker
    thread that outlives its server returns its connection to the old pool afterwards, and that
    pool is then garbage collected with the connection still open (psycopg's ResourceWarning, at
    a random later test). Each connection returned to the disposed pool is closed instead.
    """
    event.listen(engine.pool, "checkin", _close_on_checkin)
    engine.dispose()


def empty_and_dispose(app: Flask) -> None:
    """After a test: empty the tables and close the app's connections, even if emptying failed."""
    with app.app_context():
        db.session.remove()
        try:
            _empty_tables()
        finally:
            dispose_engine(db.engine)


def app_settings(database_url: str, folder: Path) -> dict[str, Any]:
    """Test configuration: the run's database, private storage, work and live folders, fast x264."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DEPLOYMENT_NAME": TEST_DEPLOYMENT,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_LOCAL_ROOT": str(folder / "storage"),
        "UPLOAD_TMP_DIR": str(folder / "uploads"),
        "WORK_DIR": str(folder / "work"),
        "LIVE_ROOT": str(folder / "live"),  # a browser test that goes live streams here
        "TRANSCODE_PRESET": "ultrafast",
        "HLS_SEGMENT_SECONDS": 2,
        "SERVER_NAME": "localhost",
    }


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(app_settings(database_url, tmp_path))
    with app.app_context():
        _empty_tables()
    yield app
    empty_and_dispose(app)


@pytest.fixture
def make_app(app: Flask, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Another app on the test database, built with these environment variables and settings."""
    made: list[Flask] = []

    def make(env: dict[str, str] | None = None, **settings: Any) -> Flask:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        other = create_app({**app_settings(database_url, tmp_path), **settings})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            dispose_engine(db.engine)


class ApiClient:
    """A test client that speaks JSON and sends the CSRF header like the browser code does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            self._token = self.client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
        return self._token

    def request(self, method: str, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if method != "GET":
            headers.setdefault("X-CSRFToken", self.token())
        return self.client.open(url, method=method, json=json, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", url, json, **kwargs)

    def put(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PUT", url, json, **kwargs)

    def patch(self, url: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", url, json, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def login(self, user: User) -> ApiClient:
        response = self.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        self._token = None  # the session is new after login
        return self


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(app: Flask) -> ApiClient:
    return ApiClient(app.test_client())


@pytest.fixture
def make_api(app: Flask):
    """A fresh browser for each call, optionally logged in as user."""

    def make(user: User | None = None) -> ApiClient:
        client = ApiClient(app.test_client())
        return client.login(user) if user is not None else client

    return make


@pytest.fixture
def create_user(app: Flask):
    counter = {"n": 0}

    def create(
        *,
        creator: bool = False,
        merchant: bool = False,
        email: str | None = None,
        name: str | None = None,
    ) -> User:
        counter["n"] += 1
        with app.app_context():
            user = User(
                email=email or f"user{counter['n']}@example.com",
                display_name=name or f"User {counter['n']}",
                bio="",
                is_creator=creator,
                is_merchant=merchant,
            )
            user.password_hash = _FACTORY_PASSWORD_HASH
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return create


@pytest.fixture
def create_product(app: Flask):
    def create(merchant: User, **fields: Any) -> Product:
        values: dict[str, Any] = {
            "title": "Tea cup",
            "price_minor": 1290,
            "currency": "CNY",
            "stock": 10,
        }
        values.update(fields)
        with app.app_context():
            product = Product(merchant_id=merchant.id, **values)
            db.session.add(product)
            db.session.commit()
            db.session.refresh(product)
            db.session.expunge(product)
            return product

    return create


def png_bytes(size: tuple[int, int] = (64, 48), colour: str = "red") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    out.seek(0)
    return out


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small real media files made once per run: good clips and the bad uploads of the issue."""
    from media.samples import generate_audio_only, generate_clip, truncate_file

    folder = tmp_path_factory.mktemp("clips")
    good = folder / "good.mp4"
    generate_clip(good, duration_s=3, width=320, height=240)
    portrait = folder / "portrait.mp4"
    generate_clip(portrait, duration_s=3, width=240, height=426)
    audio = folder / "audio.m4a"
    generate_audio_only(audio, duration_s=2)
    truncated = folder / "truncated.mp4"
    truncate_file(good, truncated, 0.5)
    text_file = folder / "notes.mp4"
    text_file.write_text("this is not a video\n" * 100)
    return {
        "good": good,
        "portrait": portrait,
        "audio": audio,
        "truncated": truncated,
        "text": text_file,
    }


def upload_video(api: ApiClient, path: Path, *, chunk: int = 64 * 1024) -> Any:
    """Upload a file through the resumable API in chunks; returns the /complete response."""
    data = path.read_bytes()
    started = api.post("/api/v1/uploads", {"filename": path.name, "size": len(data)})
    assert started.status_code == 201, started.get_json()
    upload_id = started.get_json()["id"]
    offset = 0
    while offset < len(data):
        piece = data[offset : offset + chunk]
        response = api.put(
            f"/api/v1/uploads/{upload_id}",
            data=piece,
            headers={"Upload-Offset": str(offset), "Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 200, response.get_json()
        offset = response.get_json()["received"]
    return api.post(f"/api/v1/uploads/{upload_id}/complete")


S3_BUCKET = "media-test"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, Any]]:
    """moto's S3 server on a free 127.0.0.1 port, reached over real HTTP by boto3."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        # Dummy credentials so boto3 never walks the default chain to real ones.
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }.items():
            mp.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        settings = {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": S3_BUCKET,
            "S3_ENDPOINT_URL": f"http://{host}:{port}",
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing",
        }
        from media.s3 import make_s3_client

        make_s3_client(settings).create_bucket(Bucket=S3_BUCKET)
        try:
            yield settings
        finally:
            server.stop()
