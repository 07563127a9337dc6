"""Login throttling as pure rules: per account with exponential backoff, per address by count.

An account that keeps failing waits longer after each failure (from any address), so guessing
one password is slow. An address with many failures gets its wrong guesses and unknown accounts
refused; a correct password for an account that is not itself throttled still signs in, so one
attacker behind an office's NAT does not lock everyone else out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ZERO = timedelta(0)


@dataclass(frozen=True)
class LoginThrottle:
    address_limit: int = 10  # failures per address within address_window
    address_window: timedelta = timedelta(minutes=15)
    account_free: int = 5  # failures an account may have before it must wait
    account_base: timedelta = timedelta(seconds=30)  # the first wait; each failure doubles it
    account_max: timedelta = timedelta(minutes=15)
    account_window: timedelta = timedelta(hours=1)  # failures older than this are forgotten

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoginThrottle:
        return cls(
            address_limit=config["LOGIN_RATE_LIMIT"],
            account_free=config["LOGIN_ACCOUNT_FREE_FAILURES"],
            account_base=timedelta(seconds=config["LOGIN_BACKOFF_SECONDS"]),
            account_max=timedelta(seconds=config["LOGIN_BACKOFF_MAX_SECONDS"]),
        )

    @property
    def forget_after(self) -> timedelta:
        return max(self.address_window, self.account_window)


def account_wait(failures: Sequence[datetime], now: datetime, rules: LoginThrottle) -> timedelta:
    """How long the account must wait before its password is checked again (ZERO: now)."""
    recent = sorted(at for at in failures if at > now - rules.account_window)
    extra = len(recent) - rules.account_free
    if extra < 0 or not recent:  # no failure yet: nothing to wait for, even with none free
        return ZERO
    delay = min(rules.account_max, rules.account_base * 2 ** min(extra, 30))
    return max(ZERO, recent[-1] + delay - now)


def address_wait(failures: Sequence[datetime], now: datetime, rules: LoginThrottle) -> timedelta:
    """How long until the address has fewer than `address_limit` failures in the window."""
    recent = sorted(at for at in failures if at > now - rules.address_window)
    if len(recent) < rules.address_limit:
        return ZERO
    return max(ZERO, recent[len(recent) - rules.address_limit] + rules.address_window - now)


def whole_seconds(wait: timedelta) -> int:
    """A wait as a Retry-After value: whole seconds, rounded up, at least 1."""
    seconds = int(wait.total_seconds())
    return max(1, seconds + (wait.total_seconds() > seconds))
