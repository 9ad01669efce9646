"""Money as shoppers read it, in the product's (or order's) own currency."""

from __future__ import annotations

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_money(amount: float | None, currency: str | None = "USD", *, cents: bool = False) -> str:
    """``$1,299`` / ``€89.50`` / ``120 CHF`` (a currency without a symbol here follows the
    amount); whole amounts drop ``.00`` unless ``cents``; no amount is ``?``."""
    if amount is None:
        return "?"
    code = (currency or "USD").upper()
    text = f"{amount:,.2f}"
    if not cents:
        text = text.removesuffix(".00")
    symbol = SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code}"
