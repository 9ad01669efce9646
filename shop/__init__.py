"""Shop data for customer service: customers, orders, returns, refunds, invoices, carts.

    from shop import ShopData
    shop = ShopData.from_settings()          # AISLE_SHOP_DB_URL; creates tables, seeds when empty
    outcome = shop.cancel_order("ord 10427", "maya.tan@example.com")
    outcome.ok, outcome.code, outcome.data   # code → a domain.yml response in the actions

The rules (return window, refund amounts, cancellation) live in ``rules.py``.

Plugging in another shop: the actions use the shop only through :class:`ShopBackend`
(``backend.py``): nine blocking methods (verify an order, its status, cancel it, open a return,
refund status, change the shipping address, invoice, add to cart, show the cart), each
returning an :class:`Outcome` whose ``code`` is one of :data:`CODES` and whose ``data`` holds the
fields the method's docstring names. A connector to a real shop system is any class with those
methods (no base class needed; ``ShopData`` is the SQL demo shop). Hand an instance to the
action server as ``Services(shop=connector)`` (``actions.services.set_services``), or build it
in ``Services.shop`` instead of ``ShopData``; ``protocol_mismatches`` in
``tests/shop/test_backend.py`` checks a class against the protocol.
"""

from .backend import CODES, Outcome, ShopBackend
from .rules import (
    RETURN_WINDOW_DAYS,
    normalise_email,
    normalise_invoice_id,
    normalise_order_id,
)
from .sql.seed import SeedError
from .sql.service import ShopData

__all__ = [
    "CODES",
    "RETURN_WINDOW_DAYS",
    "Outcome",
    "SeedError",
    "ShopBackend",
    "ShopData",
    "normalise_email",
    "normalise_invoice_id",
    "normalise_order_id",
]
