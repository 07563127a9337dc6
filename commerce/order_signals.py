"""Signals about an order's life, declared below every area so that any area may listen.

Orders and payments send them inside the transaction that made the change; a listener writes in
that same transaction. Areas below orders (points) subscribe here without importing the areas
that send (importlinter layers); the senders re-export them under their old names.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# An order became paid, after its commissions were credited and its chain frozen
# (payments.services.do_apply_event). Listeners get `session`, `provider` and `now`.
order_paid = _signals.signal("order-paid")
# After every refund, once its amounts are spread over the lines and commissions reversed
# (payments.services.do_refund). Listeners get `session` and `now`.
order_refunded = _signals.signal("order-refunded")
# An unpaid order was cancelled or expired (orders.services.do_release_unpaid).
order_released = _signals.signal("order-released")
# The order reached `delivered`: the return window (the commission hold) starts now
# (orders.lifecycle.do_transition).
order_delivered = _signals.signal("order-delivered")

# Points (below attribution) ask before crediting a sharer's points for a purchase through her
# link: the commission of the same line may be held for fraud review or rejected, or the sharer
# banned. Sent with `session`, `order_line_id`, `sharer_id`; a listener returns SHARE_WAIT (ask
# again later) or SHARE_VOID (never credit), or None.
share_reward_due = _signals.signal("share-reward-due")
SHARE_WAIT, SHARE_VOID = "wait", "void"
