"""Two deployments on one Redis: each hears its own processes' events, never the other's."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests
import socketio as socketio_client

from commerce import config
from tests.commerce.live.conftest import redis_url  # noqa: F401  (fixture)
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.live import log_in
from tests.processes import TEST_DEPLOYMENT


def signed_in(url: str, email: str) -> tuple[requests.Session, str]:
    """Signed in on that deployment, with the CSRF token of the new session."""
    browser = log_in(url, email)
    token = browser.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    return browser, token


def listener(url: str, browser: requests.Session, heard: list[dict[str, Any]]) -> Any:
    client = socketio_client.Client(http_session=browser)
    client.on("order.updated", heard.append)
    client.connect(url, transports=["polling"], wait_timeout=10)
    return client


def test_the_channel_is_the_deployments_own():
    secret = "7f3c9e-the-deployments-secret"
    one = {"SECRET_KEY": secret}
    assert config.socketio_channel(one) == config.socketio_channel({"SECRET_KEY": secret})
    assert config.socketio_channel(one) != config.socketio_channel({"SECRET_KEY": "another"})
    assert secret not in config.socketio_channel(one)  # the key never goes out to Redis
    named = {"SECRET_KEY": "a", "DEPLOYMENT_NAME": "shop-eu"}
    assert config.socketio_channel(named) == "liveshop:shop-eu:socketio"


def test_user_events_stay_in_their_deployment(
    processes,
    redis_url,  # noqa: F811
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    buyer = create_user(name="Bea")
    product = create_product(create_user(merchant=True), stock=5)
    address_id = create_address(buyer)
    queue = {"SOCKETIO_MESSAGE_QUEUE": redis_url, "JOBS_MODE": "worker"}
    # Deployment A has two web processes; deployment B (another name) shares the Redis.
    a1, a2 = processes.serve(**queue), processes.serve(**queue)
    b = processes.serve(
        SECRET_KEY="another-deployment", DEPLOYMENT_NAME=f"{TEST_DEPLOYMENT}-b", **queue
    )
    heard: dict[str, list[dict[str, Any]]] = {"a2": [], "b": []}
    clients = [
        listener(a2, signed_in(a2, buyer.email)[0], heard["a2"]),
        listener(b, signed_in(b, buyer.email)[0], heard["b"]),
    ]
    try:
        browser, token = signed_in(a1, buyer.email)
        placed = browser.post(
            f"{a1}/api/v1/orders",
            json={"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id},
            headers={"X-CSRFToken": token, "Idempotency-Key": uuid.uuid4().hex},
            timeout=10,
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["orders"][0]["id"]
        cancelled = browser.post(
            f"{a1}/api/v1/orders/{order_id}/cancel", headers={"X-CSRFToken": token}, timeout=10
        )
        assert cancelled.status_code == 200, cancelled.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not heard["a2"]:
            time.sleep(0.05)
        time.sleep(1)  # B would have heard it by now too
        assert [e["state"] for e in heard["a2"]] == ["cancelled"], processes.logs()
        assert heard["b"] == []  # no order payload leaks into another deployment
    finally:
        for client in clients:
            client.disconnect()
