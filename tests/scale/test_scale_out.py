"""The scale-out set-up across hosts: what crosses the network arrives, a dead node loses nothing.

Run by `make scale-test` (root, iproute2); skipped in the ordinary suites.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio as socketio_client
from sqlalchemy import func, select, text

from commerce.extensions import db
from commerce.orders.models import Order
from commerce.videos.models import Video
from media.samples import generate_clip
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD
from tests.scale.conftest import Deployment
from tests.scale.hosts import netns_available

pytestmark = pytest.mark.skipif(
    not (os.environ.get("SCALE_TEST") and netns_available()),
    reason="the multi-host test runs with `make scale-test` (root, ip netns)",
)


def signed_in(url: str, email: str) -> tuple[requests.Session, dict[str, str]]:
    browser = requests.Session()
    token = browser.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    answer = browser.post(
        f"{url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    token = browser.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    return browser, {"X-CSRFToken": token}


def upload(url: str, browser: requests.Session, headers: dict[str, str], path: Path) -> str:
    data = path.read_bytes()
    started = browser.post(
        f"{url}/api/v1/uploads",
        json={"filename": path.name, "size": len(data)},
        headers=headers,
        timeout=10,
    )
    assert started.status_code == 201, started.text
    upload_id = started.json()["id"]
    chunk = 256 * 1024
    for offset in range(0, len(data), chunk):
        put = browser.put(
            f"{url}/api/v1/uploads/{upload_id}",
            data=data[offset : offset + chunk],
            headers={
                **headers,
                "Upload-Offset": str(offset),
                "Content-Type": "application/octet-stream",
            },
            timeout=30,
        )
        assert put.status_code == 200, put.text
    done = browser.post(f"{url}/api/v1/uploads/{upload_id}/complete", headers=headers, timeout=60)
    assert done.status_code == 201, done.text
    return str(done.json()["id"])


def socket_on(url: str, browser: requests.Session, events: dict[str, list[Any]]) -> Any:
    client = socketio_client.Client(http_session=browser)
    for name, heard in events.items():
        client.on(name, heard.append)
    client.connect(url, transports=["polling"], wait_timeout=10)
    return client


def wait_for(check: Any, timeout_s: float, what: str, deployment: Deployment) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{deployment.logs()}")


def transcode_status(app: Any) -> str | None:
    """The newest transcode's state in Procrastinate's own table."""
    with app.app_context():
        status = db.session.scalar(
            text(
                "SELECT status FROM procrastinate_jobs WHERE task_name = 'video.transcode'"
                " ORDER BY id DESC LIMIT 1"
            )
        )
        db.session.remove()
    return str(status) if status is not None else None


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scale-clips")
    return Path(generate_clip(folder / "clip.mp4", duration_s=6, width=640, height=360))


def test_uploaded_on_a_transcoded_on_c_played_through_b(deployment, app, create_user, clip):
    creator = create_user(creator=True)
    on_a, headers_a = signed_in(deployment.urls["a"], creator.email)
    on_b, _headers_b = signed_in(deployment.urls["b"], creator.email)
    heard: dict[str, list[Any]] = {"video.progress": []}
    studio_on_b = socket_on(deployment.urls["b"], on_b, heard)
    try:
        video_id = upload(deployment.urls["a"], on_a, headers_a, clip)

        def ready() -> dict[str, Any] | None:
            video = on_b.get(f"{deployment.urls['b']}/api/v1/videos/{video_id}", timeout=10).json()
            return video if video["state"] == "ready" else None

        # Only node C runs workers: the web nodes' gunicorn processes never run jobs.
        wait_for(lambda: transcode_status(app) == "doing", 30, "C to take the job", deployment)
        video = wait_for(ready, 90, "the video to be ready", deployment)
        # The creator's studio on B heard the worker on C through Redis.
        # (The worker's last event can land a moment after the API reads ready.)
        wait_for(
            lambda: any(event["state"] == "ready" for event in heard["video.progress"]),
            10,
            "the ready event on B",
            deployment,
        )
        assert any(event["playable"] for event in heard["video.progress"])
    finally:
        studio_on_b.disconnect()

    # Published on A, played through B: its page and API point at S3, which serves every rendition.
    published = on_a.post(
        f"{deployment.urls['a']}/api/v1/videos/{video_id}/publish", headers=headers_a, timeout=10
    )
    assert published.status_code == 200, published.text
    page = requests.get(f"{deployment.urls['b']}/v/{video_id}", timeout=10)
    assert page.status_code == 200
    # B streams every file from S3 (no CDN configured): playlists and segments through node B.
    master_url = f"{deployment.urls['b']}{video['master_url']}"
    master = requests.get(master_url, timeout=10)
    assert master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text, master.text
    base = master_url.rsplit("/", 1)[0]
    rendition = next(line for line in master.text.splitlines() if line.endswith(".m3u8"))
    playlist = requests.get(f"{base}/{rendition}", timeout=10)
    assert playlist.status_code == 200 and "#EXT-X-ENDLIST" in playlist.text
    segment = next(line for line in playlist.text.splitlines() if line.endswith(".ts"))
    media = requests.get(f"{base}/{rendition.rsplit('/', 1)[0]}/{segment}", timeout=10)
    assert media.status_code == 200 and media.content[:1] == b"\x47"  # an MPEG-TS packet
    # Nothing of the video stays on a node's disk: uploads and work folders are empty.
    for node in deployment.network.nodes:
        for name in ("uploads", "work", "unused-local-storage"):
            folder = node.folder / name
            assert not folder.exists() or files_in(folder) == [], (node.name, name)


def test_a_pin_made_on_a_reaches_a_viewer_on_b(deployment, create_user, create_product):
    host = create_user(creator=True, merchant=True)
    viewer = create_user()
    tea = create_product(host, title="Tea", stock=20)
    on_a, headers_a = signed_in(deployment.urls["a"], host.email)
    room = on_a.post(
        f"{deployment.urls['a']}/api/v1/live/rooms",
        json={"title": "Across hosts", "featured_product_ids": [tea.id]},
        headers=headers_a,
        timeout=10,
    )
    assert room.status_code == 201, room.text
    room_id = room.json()["id"]
    on_b, _ = signed_in(deployment.urls["b"], viewer.email)
    heard: dict[str, list[Any]] = {"live.pins": []}
    watching = socket_on(deployment.urls["b"], on_b, heard)
    try:
        joined = watching.call("live.join", {"room": room_id}, timeout=10)
        assert "snapshot" in joined, joined
        started = time.monotonic()
        pinned = on_a.post(
            f"{deployment.urls['a']}/api/v1/live/rooms/{room_id}/pins",
            json={"product_id": tea.id},
            headers=headers_a,
            timeout=10,
        )
        assert pinned.status_code == 201, pinned.text
        wait_for(
            lambda: any(
                p["product"]["id"] == tea.id for e in heard["live.pins"] for p in e["pins"]
            ),
            10,
            "the pin on B",
            deployment,
        )
        assert time.monotonic() - started < 5
    finally:
        watching.disconnect()


def test_killing_the_worker_mid_transcode_loses_nothing(deployment, app, create_user, tmp_path):
    creator = create_user(creator=True)
    on_a, headers_a = signed_in(deployment.urls["a"], creator.email)
    longer = Path(generate_clip(tmp_path / "long.mp4", duration_s=30, width=1280, height=720))
    video_id = upload(deployment.urls["a"], on_a, headers_a, longer)
    doomed = deployment.workers["media"]
    wait_for(lambda: transcode_status(app) == "doing", 30, "the transcode to start", deployment)
    deployment.worker_node.kill(doomed, signal.SIGKILL)
    replacement = deployment.start_worker("media")

    def ready() -> bool:
        with app.app_context():
            value = db.session.scalar(select(Video.state).where(Video.public_id == video_id))
            db.session.remove()
        return value == "ready"

    # The other worker finds the dead one's job stalled (JOBS_STALLED_SECONDS) and queues it.
    wait_for(ready, 120, "the replacement worker to finish the video", deployment)
    assert transcode_status(app) == "succeeded"
    with app.app_context():
        attempts = db.session.scalar(
            text("SELECT attempts FROM procrastinate_jobs WHERE task_name = 'video.transcode'")
        )
        db.session.remove()
    assert attempts >= 1  # the killed attempt counted
    assert replacement.poll() is None


def test_killing_a_web_node_loses_nothing(
    deployment,
    app,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    buyer = create_user()
    product = create_product(create_user(merchant=True), stock=500)
    address_id = create_address(buyer)
    browsers = {name: signed_in(deployment.urls[name], buyer.email) for name in ("a", "b")}
    outcomes: dict[str, str] = {}  # idempotency key -> "placed" / "failed"
    stop = threading.Event()

    def buy_on_a() -> None:
        browser, headers = browsers["a"]
        while not stop.is_set():
            key = uuid.uuid4().hex
            try:
                answer = browser.post(
                    f"{deployment.urls['a']}/api/v1/orders",
                    json={
                        "items": [{"product_id": product.id, "quantity": 1}],
                        "address_id": address_id,
                    },
                    headers={**headers, "Idempotency-Key": key},
                    timeout=5,
                )
                outcomes[key] = (
                    "placed" if answer.status_code == 201 else f"http {answer.status_code}"
                )
            except requests.RequestException:
                outcomes[key] = "failed"
                return

    buyer_thread = threading.Thread(target=buy_on_a)
    buyer_thread.start()
    wait_for(
        lambda: sum(v == "placed" for v in outcomes.values()) >= 5, 30, "orders on A", deployment
    )
    deployment.web["a"].kill(deployment.webs["a"], signal.SIGKILL)
    stop.set()
    buyer_thread.join(10)
    # The buyer retries what failed on B with the same key: placed at most once.
    browser, headers = browsers["b"]
    for key, outcome in list(outcomes.items()):
        if outcome == "failed":
            answer = browser.post(
                f"{deployment.urls['b']}/api/v1/orders",
                json={
                    "items": [{"product_id": product.id, "quantity": 1}],
                    "address_id": address_id,
                },
                headers={**headers, "Idempotency-Key": key},
                timeout=10,
            )
            assert answer.status_code in (200, 201), answer.text
            outcomes[key] = "placed"
    placed = sum(v == "placed" for v in outcomes.values())
    assert set(outcomes.values()) == {"placed"}, outcomes
    with app.app_context():
        orders = db.session.scalar(
            select(func.count()).select_from(Order).where(Order.buyer_id == buyer.id)
        )
        stock = db.session.scalar(select(type(product).stock).where(type(product).id == product.id))
        db.session.remove()
    assert orders == placed  # none lost, none doubled
    assert stock == 500 - placed
    deployment.start_web("a")  # the node comes back and serves
