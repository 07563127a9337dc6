"""Invite rewards (拉新): a welcome coupon for a new customer who came through a share link, and a
reward for the sharer once that customer's first order is paid and past its return window."""
