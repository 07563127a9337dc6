"""Plain-sentence explanations per reason code, percentages, and the server-drawn chart."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from commerce.attribution import rules
from commerce.attribution.charts import bar_chart
from commerce.attribution.explain import percent, sentence
from commerce.attribution.models import Commission
from commerce.attribution.rules import CommissionPolicy


@pytest.mark.parametrize(
    ("bp", "text"), [(1000, "10%"), (250, "2.5%"), (0, "0%"), (3333, "33.33%")]
)
def test_percent(bp, text):
    assert percent(bp) == text


POLICY = CommissionPolicy(paid_levels=2, cap_bp=3000, upline_share_bp=2500)


@pytest.mark.parametrize(
    ("role", "level", "rate", "amount", "reason", "expected"),
    [
        ("creator", 0, 1000, 1000, rules.PAID, "creator fee 10% of ¥100.00 = ¥10.00"),
        ("sharer", 1, 1000, 1000, rules.PAID, "direct sharer, 10%"),
        ("sharer", 2, 250, 250, rules.PAID, "upline, 25% of the sharer rate"),
        ("sharer", 1, 2500, 2000, rules.PAID, "Reduced to fit the cap of 30%"),
        ("sharer", 3, 0, 0, rules.BEYOND_PAID_DEPTH, "Only 2 sharer levels are paid"),
        ("sharer", 1, 1000, 0, rules.OWN_PURCHASE, "own purchase"),
        ("sharer", 2, 250, 0, rules.ALREADY_CREDITED, "paid only once"),
        ("sharer", 2, 250, 0, rules.CAP_REACHED, "capped at 30%"),
        ("creator", 0, 0, 0, rules.ZERO_RATE, "rate of 0% on this product"),
    ],
)
def test_each_reason_reads_as_a_sentence(app, role, level, rate, amount, reason, expected):
    c = Commission(
        role=role,
        level=level,
        rate_bp=rate,
        amount_minor=amount,
        base_minor=10000,
        currency="CNY",
        reason=reason,
        user_id=1,
        order_line_id=1,
    )
    with app.test_request_context():
        text = sentence(c, "Ann", POLICY)
    assert expected in text.replace("CN¥", "¥")
    assert "Ann" in text


def test_bar_chart_draws_one_bar_per_day_and_escapes_labels():
    days = [(date(2026, 11, 1) + timedelta(days=n), n * 10) for n in range(5)]
    svg = str(bar_chart(days, label='<clicks & "orders">', value_text=lambda v: f"{v}<"))
    assert svg.count("<rect") == 5
    assert "&lt;clicks &amp; &#34;orders&#34;&gt;" in svg and "40&lt;" in svg
    assert "2026-11-01" in svg and "2026-11-05" in svg
    empty = str(bar_chart([(date(2026, 11, 1), 0)], label="x"))
    assert 'height="0' in empty
