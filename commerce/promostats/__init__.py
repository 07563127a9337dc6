"""Promotion dashboards: coupons and group buys, per template or campaign and per day."""
