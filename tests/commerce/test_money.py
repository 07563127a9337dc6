import pytest

from commerce.money import MoneyError, format_major, format_money, parse_major


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.30", "CNY", 1230),
        ("12.3", "CNY", 1230),
        ("0", "CNY", 0),
        ("1,299.99", "USD", 129999),
        ("500", "JPY", 500),
        (" 7.05 ", "cny", 705),
    ],
)
def test_parse_major(text, currency, minor):
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("12.345", "CNY"),
        ("1.5", "JPY"),
        ("-1", "CNY"),
        ("abc", "CNY"),
        ("", "CNY"),
        ("NaN", "CNY"),
        ("Infinity", "USD"),
        ("1", "XYZ"),
    ],
)
def test_parse_major_refuses(text, currency):
    with pytest.raises(MoneyError):
        parse_major(text, currency)


@pytest.mark.parametrize(
    ("minor", "currency", "major", "display"),
    [
        (1230, "CNY", "12.30", "¥12.30"),
        (5, "CNY", "0.05", "¥0.05"),
        (-250, "USD", "-2.50", "$-2.50"),
        (500, "JPY", "500", "¥500"),
    ],
)
def test_format(minor, currency, major, display):
    assert format_major(minor, currency) == major
    assert format_money(minor, currency) == display
