"""Money is integer minor units with an ISO 4217 currency; never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Minor-unit exponents of the currencies we accept.
CURRENCY_EXPONENT: dict[str, int] = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "JPY": 0, "GBP": 2}
CURRENCY_SYMBOL: dict[str, str] = {
    "CNY": "¥",
    "USD": "$",
    "EUR": "€",
    "HKD": "HK$",
    "JPY": "¥",
    "GBP": "£",
}


class MoneyError(ValueError):
    """A money amount or currency that cannot be represented."""


def check_currency(code: str) -> str:
    upper = code.strip().upper()
    if upper not in CURRENCY_EXPONENT:
        raise MoneyError(f"unsupported currency {code!r}")
    return upper


def parse_major(text: str, currency: str) -> int:
    """'12.30' CNY -> 1230; refuses more decimals than the currency has, negatives and junk."""
    exponent = CURRENCY_EXPONENT[check_currency(currency)]
    try:
        amount = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError) as exc:
        raise MoneyError(f"not an amount: {text!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise MoneyError(f"not a valid amount: {text!r}")
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{currency} has {exponent} decimal places: {text!r}")
    return int(scaled)


def format_major(minor: int, currency: str) -> str:
    """1230 CNY -> '12.30' (no symbol)."""
    exponent = CURRENCY_EXPONENT[check_currency(currency)]
    if exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}"


def format_money(minor: int, currency: str) -> str:
    """1230 CNY -> '¥12.30'."""
    return f"{CURRENCY_SYMBOL.get(currency, currency + ' ')}{format_major(minor, currency)}"
