"""Coupons and LIVE vouchers: templates, atomic claims, the best coupon at checkout.

Below orders (checkout prices with them, cancel and refund give them back) and above live
(a host pins a voucher in her room) and social (follower audiences, first-follow tasks).
"""
