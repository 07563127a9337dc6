"""Coupon pages: the merchant's coupons, and My coupons."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coupons", __name__)
