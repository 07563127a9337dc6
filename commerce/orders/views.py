"""Buying pages: cart, addresses, the buyer's and the seller's orders."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("orders", __name__)
