"""Coupon test factories: a template straight into the database, and its API body."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from commerce.accounts.models import User
from commerce.coupons.models import CouponTemplate
from commerce.extensions import db
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import (  # noqa: F401  (fixtures shared with orders tests)
    buy_now,
    buyer_setup,
    create_address,
    place,
)


def template_body(**fields: Any) -> dict[str, Any]:
    now = utcnow()
    body: dict[str, Any] = {
        "title": "Spring tea",
        "kind": "amount",
        "amount_minor": 300,
        "min_spend_minor": 1000,
        "claim_ends_at": (now + timedelta(days=3)).isoformat(),
        "valid_days": 7,
        "total": 100,
        "per_person": 1,
    }
    body.update(fields)
    return body


@pytest.fixture
def create_template(app: Flask):
    def create(owner: User, **fields: Any) -> int:
        now = utcnow()
        values: dict[str, Any] = {
            "owner_id": owner.id,
            "merchant_id": owner.id,
            "title": "Spring tea",
            "kind": "amount",
            "amount_minor": 300,
            "claim_starts_at": now - timedelta(minutes=1),
            "claim_ends_at": now + timedelta(days=1),
            "valid_days": 7,
            "total": 100,
            "per_person": 1,
        }
        values.update(fields)
        with app.app_context():
            template = CouponTemplate(**values)
            db.session.add(template)
            db.session.commit()
            return template.id

    return create


def claim(api: Any, template_id: int, **body: Any) -> Any:
    return api.post(f"/api/v1/coupons/templates/{template_id}/claim", body or {})
