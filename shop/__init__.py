"""Shop data for customer service: customers, orders, returns, refunds, invoices, carts.

    from shop import ShopData
    shop = ShopData.from_settings()          # AISLE_SHOP_DB_URL; creates tables, seeds when empty
    outcome = shop.cancel_order("ord 10427", "maya.tan@example.com")
    outcome.ok, outcome.code, outcome.data   # code → a domain.yml response in the actions

The rules (return window, refund amounts, cancellation) live in ``rules.py``.
"""

from .rules import (
    RETURN_WINDOW_DAYS,
    normalise_email,
    normalise_invoice_id,
    normalise_order_id,
)
from .sql.seed import SeedError
from .sql.service import CODES, Outcome, ShopData

__all__ = [
    "CODES",
    "RETURN_WINDOW_DAYS",
    "Outcome",
    "SeedError",
    "ShopData",
    "normalise_email",
    "normalise_invoice_id",
    "normalise_order_id",
]
