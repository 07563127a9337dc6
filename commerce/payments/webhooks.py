"""The sandbox's webhook sender: POST each event, signed, to the app; retried with backoff."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests
from flask import Flask, current_app, url_for

from commerce.extensions import db
from commerce.jobs.registry import PAYMENTS
from commerce.jobs.runner import JobContext, job_handler
from commerce.payments.models import SandboxObject
from commerce.payments.provider import SIGNATURE_HEADER, sign, webhook_secret
from commerce.payments.sandbox import DELIVER_JOB, SandboxProvider, fingerprint_key


def http_post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """Real HTTP, like a provider's servers calling the app (tests may swap this function)."""
    return requests.post(url, data=body, headers=dict(headers), timeout=10).status_code


transport = http_post


@job_handler(DELIVER_JOB, queue=PAYMENTS, priority=10)
def deliver_webhook(payload: dict[str, Any], ctx: JobContext) -> None:
    event = ctx.session.get(SandboxObject, payload["event_id"])
    if event is None or event.state == "delivered":
        return
    body = event.data["body"].encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(webhook_secret(current_app.config), int(time.time()), body),
    }
    status = transport(event.data["url"], body, headers)
    if not 200 <= status < 300:
        raise RuntimeError(f"the webhook endpoint answered {status}")  # retried by the runner
    event.state = "delivered"


def webhook_url() -> str:
    """PAYMENT_WEBHOOK_URL, or this app's own endpoint on the host the buyer used."""
    configured = current_app.config.get("PAYMENT_WEBHOOK_URL") or ""
    return configured or url_for("payments_api.sandbox_webhook", _external=True)


def make_provider(app: Flask) -> SandboxProvider:
    """Created once per app and kept in app.extensions["payments"]."""
    if app.config["PAYMENT_PROVIDER"] != "sandbox":
        raise RuntimeError(f"unknown PAYMENT_PROVIDER {app.config['PAYMENT_PROVIDER']!r}")
    return SandboxProvider(
        db.session,
        secret=webhook_secret(app.config),
        tolerance_seconds=app.config["WEBHOOK_TOLERANCE_SECONDS"],
        pay_url=lambda intent_id: f"/pay/sandbox/{intent_id}",
        fingerprint_key=fingerprint_key(str(app.config["SECRET_KEY"])),
        max_attempts=app.config["PAYMENT_WEBHOOK_ATTEMPTS"],
    )


def provider() -> SandboxProvider:
    return current_app.extensions["payments"]  # type: ignore[no-any-return]
