"""Invoices: the order's invoice with its lines, totals and a download path."""

from __future__ import annotations

from shop.backend import Outcome

from .base import ShopBase, iso_day, money, order_lines
from .models import Order


class Invoices(ShopBase):
    """The invoice of an order the shopper has shown to be theirs."""

    def get_invoice(self, order_id: str | None, email: str | None) -> Outcome:
        """The order's invoice: id, date, lines, shipping, total and the path of its page."""
        with self._sessions() as session:
            found = self._find_order(session, order_id, email)
            if isinstance(found, Outcome):
                return found
            return self._invoice_outcome(found)

    def _invoice_outcome(self, order: Order) -> Outcome:
        invoice = order.invoice
        if invoice is None:
            return Outcome(False, "not_found", {"order_id": order.order_ref})
        return Outcome(
            True,
            "invoice",
            {
                "invoice_id": invoice.invoice_ref,
                "order_id": order.order_ref,
                "status": order.status,
                "issued_at": iso_day(invoice.issued_at),
                "customer_name": order.customer.name,
                "lines": order_lines(order),
                "items_total": money(order.items_cents),
                "shipping": money(order.shipping_cents),
                "total": money(order.total_cents),
                "currency": order.currency,
                "url": f"/invoices/{invoice.invoice_ref}",  # the demo storefront's printable page
            },
        )
