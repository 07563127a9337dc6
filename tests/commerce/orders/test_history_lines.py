"""What an order's history line says: a code and the user's text, never an internal id."""

from __future__ import annotations

import pytest

from commerce.orders.present import event_out, history_note
from commerce.orders.rules import history_entry
from commerce.timeutil import utcnow


@pytest.mark.parametrize(
    ("from_state", "to_state", "note", "wanted"),
    [
        (None, "pending_payment", "", ("", "")),
        ("pending_payment", "paid", "pi_3f9a0c", ("", "")),  # the provider's id stays inside
        ("paid", "shipped", "SF123", ("tracking", "SF123")),
        ("partially_refunded", "shipped", "SF9", ("tracking", "SF9")),
        ("paid", "paid", "refund requested: broken lid", ("refund_requested", "broken lid")),
        ("paid", "paid", "refund declined: used", ("refund_declined", "used")),
        ("pending_payment", "cancelled", "cancelled by the buyer", ("cancelled_by_buyer", "")),
        ("pending_payment", "cancelled", "payment deadline passed", ("deadline_passed", "")),
        ("paid", "refunded", "paid after the deadline", ("paid_late", "")),
        ("paid", "partially_refunded", "wrong colour", ("reason", "wrong colour")),
        ("shipped", "delivered", "", ("", "")),
    ],
)
def test_history_entries(from_state, to_state, note, wanted):
    assert history_entry(from_state, to_state, note) == wanted


def test_the_api_drops_the_payment_id_and_pages_translate_the_note(app):
    paid = event_out("pending_payment", "paid", "pi_3f9a0c", utcnow())
    assert (paid.note, paid.kind, paid.detail) == ("", "", "")
    asked = event_out("paid", "paid", "refund requested: broken lid", utcnow())
    with app.test_request_context(headers={"Cookie": "lang=zh_Hans"}):
        assert history_note(asked) == "申请退款：broken lid"
    with app.test_request_context():
        assert history_note(asked) == "refund requested: broken lid"
