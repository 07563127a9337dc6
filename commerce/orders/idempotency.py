"""Idempotency keys for API calls that buy or pay (Stripe's model).

The first response to (user, scope, key) is stored and replayed for retries; the same key with
different parameters is refused (422); a duplicate arriving while the first is still running
waits for it and then gets its answer. The key is claimed inside the request's own transaction:
the unique index holds a concurrent duplicate back until the first commits (or rolls back, and
the duplicate then runs), and the claim, the changes and the answer cost one commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from commerce.errors import Conflict, DomainError, ValidationFailed, error_body
from commerce.extensions import db
from commerce.orders.models import IdempotencyRecord
from commerce.timeutil import utcnow

HEADER = "Idempotency-Key"
# A claim whose request died (a crash between claim and answer) may be retried after this.
STALE_AFTER = timedelta(seconds=60)


class KeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


def request_key() -> str:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ValidationFailed(
            _("This call needs an Idempotency-Key header."), code="idempotency_key_missing"
        )
    if len(key) > 80 or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            _("The Idempotency-Key must be at most 80 printable characters."),
            code="idempotency_key_invalid",
        )
    return key


def fingerprint(scope: str, params: Any) -> str:
    text = json.dumps({"scope": scope, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _respond(status: int, body: dict[str, Any], *, replayed: bool) -> Response:
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(user_id: int, scope: str, key: str, digest: str) -> IdempotencyRecord | Response:
    """Claim the key in the open transaction, or answer from / about the earlier request."""
    for _attempt in range(2):
        record = IdempotencyRecord(user_id=user_id, scope=scope, key=key, request_hash=digest)
        db.session.add(record)
        try:
            db.session.flush()  # waits here while a duplicate's transaction holds the key
            return record
        except IntegrityError:
            db.session.rollback()  # nothing else has happened in this transaction yet
        existing = db.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id,
                IdempotencyRecord.scope == scope,
                IdempotencyRecord.key == key,
            )
        )
        if existing is None:
            continue  # deleted meanwhile: claim again
        if existing.request_hash != digest:
            raise KeyReused(_("This Idempotency-Key was already used with different parameters."))
        if existing.status_code is not None and existing.response is not None:
            return _respond(existing.status_code, existing.response, replayed=True)
        # An answerless record was committed by a claim made outside its request's transaction
        # (before this design): in flight if recent, else its request died.
        if utcnow() - existing.created_at < STALE_AFTER:
            raise Conflict(
                _("A request with this Idempotency-Key is still in progress."),
                code="idempotency_in_flight",
            )
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
    raise Conflict(
        _("A request with this Idempotency-Key is still in progress."),
        code="idempotency_in_flight",
    )


def idempotent(
    user_id: int, scope: str, params: Any, run: Callable[[], tuple[int, dict[str, Any]]]
) -> Response:
    """Run `run` (which changes the session and returns status + JSON) at most once per key.

    Its changes and the stored answer commit together; a refusal (a DomainError) is stored and
    replayed too, as Stripe does; an unexpected crash frees the key so a retry can run again.
    """
    key = request_key()
    claimed = _claim(user_id, scope, key, fingerprint(scope, params))
    if isinstance(claimed, Response):
        db.session.rollback()
        return claimed
    try:
        with db.session.begin_nested():  # a refusal undoes run's changes, not the claim
            status, body = run()
        claimed.status_code, claimed.response = status, body
        db.session.commit()
    except DomainError as error:
        status, body = error.status, error_body(error.code, error.message, error.fields)
        claimed.status_code, claimed.response = status, body
        db.session.commit()
    except Exception:
        db.session.rollback()  # the claim goes too: a retry can run again
        raise
    return _respond(status, body, replayed=False)
