"""Group buying pages: a group, your groups, the seller's campaigns."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("groupbuy", __name__)
