"""The one money formatter: the currency's symbol, whole amounts without cents."""

from __future__ import annotations

import pytest

from common.money import format_money


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (150, "USD", "$150"),
    (150.0, None, "$150"),  # no currency: the catalog's default, USD
    (89.5, "EUR", "€89.50"),
    (1299.99, "gbp", "£1,299.99"),
    (120, "CHF", "120 CHF"),  # no symbol known: the code after the amount
    (None, "EUR", "?"),
])
def test_format_money(amount, currency, expected):
    assert format_money(amount, currency) == expected


def test_cents_keeps_two_decimals():
    assert format_money(150, "EUR", cents=True) == "€150.00"
    assert format_money(9.5, "USD", cents=True) == "$9.50"
