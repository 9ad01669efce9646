"""Orders: verify that an order is the shopper's, its status, cancel it, change its address or
the quantity of an item."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shop import rules
from shop.backend import Outcome

from .base import ShopBase, iso_day, match_line, money, order_basics, order_lines, retry_on_conflict
from .models import (
    CANCELLED,
    OPEN_STATUSES,
    REFUNDED,
    RETURNED,
    Address,
    Order,
    Refund,
)


def not_open(order: Order) -> Outcome | None:
    """Why an order's items can no longer change (cancel, quantity), or None while it is open."""
    base = order_basics(order)
    if order.status == CANCELLED:
        return Outcome(False, "already_cancelled", base)
    if order.status in (RETURNED, REFUNDED):
        return Outcome(False, "already_returned", base)
    if order.status not in OPEN_STATUSES:
        return Outcome(False, "already_shipped", {**base, "shipped_at": iso_day(order.shipped_at)})
    return None


class Orders(ShopBase):
    """Order lookups and the changes allowed before shipping (cancel, new address, quantity)."""

    def verify_order(self, order_id: str | None, email: str | None) -> Outcome:
        """Check that the order exists and belongs to this e-mail address."""
        with self._sessions() as session:
            found = self._find_order(session, order_id, email)
            if isinstance(found, Outcome):
                return found
            return Outcome(True, "verified", {"order_id": found.order_ref, "status": found.status})

    def order_status(self, order_id: str | None, email: str | None) -> Outcome:
        """Status, items, carrier, tracking number and (estimated) delivery date."""
        with self._sessions() as session:
            found = self._find_order(session, order_id, email)
            if isinstance(found, Outcome):
                return found
            return Outcome(True, "order_status", self._summary(found))

    @retry_on_conflict
    def cancel_order(
        self,
        order_id: str | None,
        email: str | None,
        reason: str | None = None,
        *,
        preview: bool = False,
        conversation_id: str | None = None,
    ) -> Outcome:
        """Cancel a pending or processing order and refund everything paid (no fee).

        A shipped or delivered order cannot be cancelled: ``already_shipped``. ``preview``
        answers what a cancellation would do (same code and amounts, ``"preview": True``, no
        refund id) and writes nothing; the change itself is logged with ``conversation_id``.
        """
        with self._transaction(preview) as session:
            found = self._find_order(session, order_id, email, lock=not preview)
            if isinstance(found, Outcome):
                return found
            order = found
            base = order_basics(order)
            if (too_late := not_open(order)) is not None:
                return too_late
            now = self.now()
            amount = rules.cancellation_refund_cents(order.total_cents)
            expected_by = now + timedelta(days=rules.CANCELLATION_REFUND_DAYS)
            data = {
                **base,
                "status": CANCELLED,
                "items": order_lines(order),
                "fee": money(rules.CANCELLATION_FEE_CENTS),
                "refund_amount": money(amount),
                "currency": order.currency,
                "refund_method": order.payment_method,
                "refund_expected_by": iso_day(expected_by),
            }
            if preview:
                return Outcome(True, "cancelled", {**data, "status": order.status, "preview": True})
            refund = Refund(
                order=order,
                kind="cancellation",
                amount_cents=amount,
                status="pending",
                method=order.payment_method,
                created_at=now,
                expected_by=expected_by,
            )
            session.add(refund)
            previous = order.status
            order.status, order.cancelled_at, order.cancel_reason, order.updated_at = (
                CANCELLED,
                now,
                reason,
                now,
            )
            session.flush()
            detail = {
                "from": previous,
                "reason": reason,
                "refund_id": refund.public_id,
                "refund": money(amount),
            }
            self._log(session, "order_cancelled", detail, order, conversation_id)
            return Outcome(True, "cancelled", {**data, "refund_id": refund.public_id})

    @retry_on_conflict
    def change_shipping_address(
        self,
        order_id: str | None,
        email: str | None,
        address: str | dict[str, str],
        *,
        preview: bool = False,
        conversation_id: str | None = None,
    ) -> Outcome:
        """Send the order to another address; only before it ships (``address_locked`` after).

        ``preview`` answers what the change would do and writes nothing; the change itself is
        logged with ``conversation_id``.
        """
        with self._transaction(preview) as session:
            found = self._find_order(session, order_id, email, lock=not preview)
            if isinstance(found, Outcome):
                return found
            order = found
            base = order_basics(order)
            if order.status not in OPEN_STATUSES:
                return Outcome(False, "address_locked", base)
            fields = self._address_fields(address, order.shipping_address)
            if fields is None:
                return Outcome(False, "invalid_address", {**base, "address": address})
            old = order.shipping_address.one_line()
            data = {**base, "old_address": old, "new_address": Address.join_fields(fields)}
            if preview:
                return Outcome(True, "address_changed", {**data, "preview": True})
            now = self.now()
            new = Address(customer=order.customer, label="order", created_at=now, **fields)
            session.add(new)
            order.shipping_address, order.updated_at = new, now
            session.flush()
            detail = {"from": old, "to": new.one_line()}
            self._log(session, "address_changed", detail, order, conversation_id)
            return Outcome(True, "address_changed", data)

    @retry_on_conflict
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
        """Change how many of one item an order has, before it ships; 0 takes the item off.

        ``item``: a line number or product id (may be None when the order has one item). Fewer
        items are refunded to the payment method, more are charged to it; shipping stays as it
        was. ``preview`` answers what the change would do and writes nothing; the change itself
        is logged with ``conversation_id``.
        """
        with self._transaction(preview) as session:
            found = self._find_order(session, order_id, email, lock=not preview)
            if isinstance(found, Outcome):
                return found
            order = found
            base = order_basics(order)
            if (too_late := not_open(order)) is not None:
                return too_late
            line = match_line(order, item) if item is not None else (
                order.items[0] if len(order.items) == 1 else None)  # fmt: skip
            if line is None:
                return Outcome(False, "item_not_found", {**base, "items": order_lines(order)})
            if not 0 <= quantity <= rules.MAX_QUANTITY or quantity == line.quantity or (
                    quantity == 0 and len(order.items) == 1):  # the last item goes with a cancel
                return Outcome(False, "invalid_quantity", {
                    **base, "line_no": line.line_no, "title": line.title, "quantity": quantity,
                    "old_quantity": line.quantity, "max": rules.MAX_QUANTITY,
                    "last_item": quantity == 0 and len(order.items) == 1})  # fmt: skip
            now = self.now()
            difference = (quantity - line.quantity) * line.unit_cents
            expected_by = now + timedelta(days=rules.CANCELLATION_REFUND_DAYS)
            data = {
                **base,
                "item": {"line_no": line.line_no, "product_id": line.product_id, "title": line.title,
                         "unit_price": money(line.unit_cents)},
                "old_quantity": line.quantity,
                "new_quantity": quantity,
                "refund_amount": money(-difference) if difference < 0 else None,
                "charge_amount": money(difference) if difference > 0 else None,
                "refund_expected_by": iso_day(expected_by) if difference < 0 else None,
                "new_total": money(order.total_cents + difference),
                "currency": order.currency,
                "refund_method": order.payment_method,
            }  # fmt: skip
            if preview:
                return Outcome(True, "quantity_changed", {**data, "preview": True})
            detail = {"line_no": line.line_no, "title": line.title, "from": line.quantity, "to": quantity}
            if difference < 0:
                refund = Refund(order=order, kind="adjustment", amount_cents=-difference, status="pending",
                                method=order.payment_method, created_at=now, expected_by=expected_by)
                session.add(refund)
                session.flush()
                detail |= {"refund_id": refund.public_id, "refund": money(-difference)}
                data["refund_id"] = refund.public_id
            else:
                detail["charged"] = money(difference)
            if quantity == 0:
                order.items.remove(line)
            else:
                line.quantity = quantity
            order.updated_at = now
            session.flush()
            self._log(session, "quantity_changed", detail, order, conversation_id)
            return Outcome(True, "quantity_changed", data)

    @staticmethod
    def _address_fields(address: str | dict[str, str], current: Address) -> dict[str, Any] | None:
        """Address columns from a dict (line1, city, postcode, country …) or free text."""
        if isinstance(address, dict):
            line1, city, postcode = (
                str(address.get(key) or "").strip() for key in ("line1", "city", "postcode")
            )
            if not (line1 and city and postcode):
                return None
            return {
                "name": str(address.get("name") or current.name),
                "line1": line1,
                "line2": (str(address.get("line2")).strip() or None)
                if address.get("line2")
                else None,
                "city": city,
                "postcode": postcode,
                "country": str(address.get("country") or current.country),
            }
        if not isinstance(address, str) or not rules.valid_address_text(address):
            return None
        # free text from the chat: kept whole as the first line; the country stays as it was
        return {"name": current.name, "line1": " ".join(address.split()), "line2": None,
                "city": "", "postcode": "", "country": current.country}  # fmt: skip

    def _summary(self, order: Order) -> dict[str, Any]:
        return {
            "order_id": order.order_ref,
            "status": order.status,
            "customer_name": order.customer.name,
            "placed_at": iso_day(order.placed_at),
            "items": order_lines(order),
            "item_count": sum(item.quantity for item in order.items),
            "items_total": money(order.items_cents),
            "shipping": money(order.shipping_cents),
            "total": money(order.total_cents),
            "currency": order.currency,
            "payment_method": order.payment_method,
            "delivery_option": order.delivery_option,
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "tracking_url": rules.tracking_url(order.carrier, order.tracking_number),
            "shipped_at": iso_day(order.shipped_at),
            "estimated_delivery": iso_day(order.estimated_delivery),
            "delivered_at": iso_day(order.delivered_at),
            "shipping_address": order.shipping_address.one_line(),
        }
