"""The buyer's browser id and hashed IP for an order, from the attribution area when present."""

from __future__ import annotations

from flask import request


def device_and_ip() -> tuple[str | None, str | None]:
    try:
        from commerce.attribution.visitor import current_visitor_id, hash_ip
    except ImportError:  # the lead's module has not landed in this branch yet
        return None, None
    ip = request.remote_addr
    return current_visitor_id(), hash_ip(ip) if ip else None
