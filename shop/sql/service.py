"""ShopData: the customer-service operations the assistant's actions call, on a SQL database.

Every operation returns an :class:`~shop.backend.Outcome` whose ``code`` is a stable identifier
the actions map to a ``domain.yml`` response (codes are listed in ``shop.backend.CODES``). Every
change is written in one transaction together with a row in ``order_events``. The clock is
injected, so the time-based rules (return window, refund dates) are testable.

The operations live by topic: ``orders``, ``returns``, ``refunds``, ``invoices``, ``carts``, on
the engine, sessions, order lookup and audit log of ``base``.
"""

from __future__ import annotations

from .carts import Carts
from .invoices import Invoices
from .orders import Orders
from .refunds import Refunds
from .returns import Returns


class ShopData(Orders, Returns, Refunds, Invoices, Carts):
    """The shop database: customers, orders, returns, refunds, invoices, carts and their audit log.

    ``ShopData(url)`` takes a SQLAlchemy URL (``sqlite:///var/shop.db``,
    ``postgresql+psycopg2://…``) or a ready :class:`~sqlalchemy.Engine`; ``clock`` returns "now".
    It is the SQL implementation of :class:`shop.backend.ShopBackend`.
    """
