"""What the assistant's actions need from a shop: the :class:`ShopBackend` protocol and its
result type, :class:`Outcome` with a code from :data:`CODES`.

``shop.sql.service.ShopData`` (the demo shop in SQL) is one implementation; a connector to a
real shop system is another (see the ``shop`` package docstring). Only the operations the
actions call are here; how a backend stores things, seeds demo data or logs changes is its own
business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# Every code an Outcome can carry, for the actions' response mapping (and a test keeps it honest).
CODES = frozenset({
    # lookup failures shared by every order operation
    "invalid_order_id", "invalid_email", "not_found", "email_mismatch",
    # successes
    "verified", "order_status", "cancelled", "address_changed", "quantity_changed", "return_created",
    "refund_found", "invoice", "added", "cart",
    # rules that said no
    "already_shipped", "already_cancelled", "already_returned", "address_locked",
    "invalid_address", "item_not_found", "invalid_quantity", "not_delivered_yet",
    "outside_return_window", "no_refund", "cart_empty",
})  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """Result of a shop operation: ``ok``, a stable ``code`` and plain JSON-able ``data``."""

    ok: bool
    code: str
    data: dict[str, Any] = field(default_factory=dict)


class ShopBackend(Protocol):
    """The shop operations the actions call, each answering with an :class:`Outcome`.

    Order operations take the order id and e-mail as the shopper typed them; a backend
    normalises them (``shop.rules``) and answers ``invalid_order_id``, ``invalid_email``,
    ``not_found`` or ``email_mismatch`` before anything else. Calls are blocking (the actions
    run them in a worker thread) and may come from several threads at once.

    The four changes (cancel, return, new address, quantity) take ``preview``: answer with the outcome
    the change would have (same code and amounts, ``"preview": True`` in ``data``, no new ids)
    and change nothing, so the bot can state exactly what will happen before the shopper says
    yes. A change itself is recorded with the ``conversation_id`` that asked for it.
    """

    def verify_order(self, order_id: str | None, email: str | None) -> Outcome:
        """``verified`` with ``order_id`` and ``status`` when the order is this e-mail's."""
        ...

    def order_status(self, order_id: str | None, email: str | None) -> Outcome:
        """``order_status``: status, items, carrier, tracking number and ``tracking_url``,
        dates (ISO days)."""
        ...

    def cancel_order(
        self,
        order_id: str | None,
        email: str | None,
        reason: str | None = None,
        *,
        preview: bool = False,
        conversation_id: str | None = None,
    ) -> Outcome:
        """``cancelled`` with ``items``, ``refund_amount``, ``currency``, ``refund_method`` and
        ``refund_expected_by``; else ``already_cancelled``, ``already_shipped`` or
        ``already_returned``."""
        ...

    def request_return(
        self,
        order_id: str | None,
        email: str | None,
        reason: str | None = None,
        item_ids: list[str | int] | None = None,
        *,
        preview: bool = False,
        conversation_id: str | None = None,
    ) -> Outcome:
        """``return_created`` with ``items`` (returned), ``returnable_items`` (still kept),
        ``refund_amount``, ``currency``, ``refund_method``, ``refund_expected_by``,
        ``return_deadline``, ``ship_by`` and (not in a preview) ``return_id`` and
        ``return_label_url``; else ``not_delivered_yet``, ``outside_return_window`` (with
        ``window_days``), ``item_not_found``, ``already_returned`` or ``already_cancelled``.
        ``item_ids``: product ids or line numbers; all items still kept when omitted."""
        ...

    def refund_status(self, order_id: str | None, email: str | None) -> Outcome:
        """``refund_found`` with ``latest`` (``amount``, ``currency``, ``status``, ``method``,
        ``expected_by``, ``issued_at``, ``overdue``); else ``no_refund``."""
        ...

    def change_shipping_address(
        self,
        order_id: str | None,
        email: str | None,
        address: str,
        *,
        preview: bool = False,
        conversation_id: str | None = None,
    ) -> Outcome:
        """``address_changed`` with ``old_address`` and ``new_address``; else
        ``address_locked`` or ``invalid_address``."""
        ...

    def change_quantity(
        self,
        order_id: str | None,
        email: str | None,
        item: str | int | None,
        quantity: int,
        *,
        preview: bool = False,
        conversation_id: str | None = None,
    ) -> Outcome:
        """``quantity_changed`` with ``item`` (``line_no``, ``title``, ``unit_price``),
        ``old_quantity``, ``new_quantity``, ``refund_amount`` or ``charge_amount``,
        ``refund_method``, ``refund_expected_by`` and ``new_total``; else ``already_shipped``,
        ``already_cancelled``, ``already_returned``, ``item_not_found`` (with ``items``) or
        ``invalid_quantity`` (``last_item`` when 0 would empty the order: that is a cancel)."""
        ...

    def get_invoice(self, order_id: str | None, email: str | None) -> Outcome:
        """``invoice`` with ``invoice_id``, ``total``, ``currency`` and a download ``url``."""
        ...

    def add_to_cart(
        self, conversation_id: str, product_id: str, title: str, price: float, quantity: int = 1,
        *, size: str | None = None, color: str | None = None,
    ) -> Outcome:
        """``added`` with the cart's ``items``, ``item_count``, ``total`` and ``currency``; a
        product in another size or colour is a line of its own."""
        ...

    def get_cart(self, conversation_id: str) -> Outcome:
        """``cart`` with ``items`` (``product_id``, ``title``, ``size``, ``color``, ``quantity``,
        ``line_total``), ``item_count``, ``total`` and ``currency``; ``cart_empty`` (not ok, the
        same data) when there is nothing in it."""
        ...
