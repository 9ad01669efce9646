"""Refunds: the order's refunds (cancellations and returns), pending, issued or overdue."""

from __future__ import annotations

from shop.backend import Outcome

from .base import ShopBase, iso_day, money, order_basics


class Refunds(ShopBase):
    """Where the shopper's money is: the order's refunds, newest first."""

    def refund_status(self, order_id: str | None, email: str | None) -> Outcome:
        """The order's refunds, newest first: amount, status (pending/issued), expected date."""
        with self._sessions() as session:
            found = self._find_order(session, order_id, email)
            if isinstance(found, Outcome):
                return found
            order = found
            base = order_basics(order)
            refunds = sorted(order.refunds, key=lambda r: (r.created_at, r.id), reverse=True)
            if not refunds:
                return Outcome(False, "no_refund", base)
            now = self.now()
            rows = [
                {
                    "refund_id": r.public_id,
                    "kind": r.kind,
                    "amount": money(r.amount_cents),
                    "currency": order.currency,
                    "status": r.status,
                    "method": r.method,
                    "created_at": iso_day(r.created_at),
                    "expected_by": iso_day(r.expected_by),
                    "issued_at": iso_day(r.issued_at),
                    "overdue": r.status != "issued" and now > r.expected_by,
                }
                for r in refunds
            ]
            return Outcome(True, "refund_found", {**base, "refunds": rows, "latest": rows[0]})
