"""Points (积分): one append-only ledger per person, earned on purchases after the return window,
on purchases through one's share link and by a daily check-in; spent at checkout.

Below orders (checkout spends them; orders and payments send the signals that earn and give
back, commerce/order_signals.py) and above coupons (it splits a discount like they do).
"""
