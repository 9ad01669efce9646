"""Returns: open a return for delivered items within the return window, with its refund."""

from __future__ import annotations

from datetime import timedelta

from shop import rules
from shop.backend import Outcome

from .base import ShopBase, iso_day, match_line, money, order_basics, order_lines, retry_on_conflict
from .models import CANCELLED, DELIVERED, REFUNDED, RETURNED, Refund, Return


class Returns(ShopBase):
    """Returns of delivered items; each return records its refund."""

    @retry_on_conflict
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
        """Open a return for delivered items within the return window, and record its refund.

        ``item_ids`` are product ids or line numbers (all items still kept when omitted). The
        refund is the price of the returned items (see ``rules.return_refund_cents``); return
        shipping is free with a prepaid label, the parcel to be sent by ``ship_by``.
        ``preview`` answers what the return would be (same code and amounts, ``"preview":
        True``, no ids) and writes nothing; ``returnable_items`` lists what is still kept. The
        return itself is logged with ``conversation_id``.
        """
        with self._transaction(preview) as session:
            found = self._find_order(session, order_id, email, lock=not preview)
            if isinstance(found, Outcome):
                return found
            order = found
            base = order_basics(order)
            if order.status == CANCELLED:
                return Outcome(False, "already_cancelled", base)
            if order.status in (RETURNED, REFUNDED):
                return Outcome(False, "already_returned", base)
            if order.status != DELIVERED or order.delivered_at is None:
                return Outcome(
                    False,
                    "not_delivered_yet",
                    {**base, "estimated_delivery": iso_day(order.estimated_delivery)},
                )
            now = self.now()
            deadline = rules.return_deadline(order.delivered_at)
            window = {
                "delivered_at": iso_day(order.delivered_at),
                "return_deadline": iso_day(deadline),
                "window_days": rules.RETURN_WINDOW_DAYS,
                "days_since_delivery": (now.date() - order.delivered_at.date()).days,
            }
            if not rules.within_return_window(order.delivered_at, now):
                return Outcome(False, "outside_return_window", {**base, **window})
            kept = [line for line in order.items if line.returnable_quantity > 0]
            if item_ids:
                chosen = [match_line(order, item) for item in item_ids]
                if any(line is None for line in chosen):
                    return Outcome(
                        False,
                        "item_not_found",
                        {**base, "item_ids": item_ids, "items": order_lines(order)},
                    )
                lines = [
                    line for line in dict.fromkeys(chosen) if line and line.returnable_quantity > 0
                ]
            else:
                lines = kept
            if not lines:
                return Outcome(False, "already_returned", base)
            everything_left = len(lines) == len(kept)
            returned_cents = sum(line.unit_cents * line.returnable_quantity for line in lines)
            amount = rules.return_refund_cents(
                returned_cents,
                order.shipping_cents,
                returns_everything_left=everything_left,
                reason=reason,
            )
            return_lines = [
                {"line_no": line.line_no, "product_id": line.product_id, "title": line.title,
                 "quantity": line.returnable_quantity, "amount": money(line.unit_cents * line.returnable_quantity)}
                for line in lines
            ]  # fmt: skip
            expected_by = now + timedelta(days=rules.RETURN_REFUND_DAYS)
            data = {
                **base,
                **window,
                "items": return_lines,
                "returnable_items": [
                    {"line_no": line.line_no, "product_id": line.product_id, "title": line.title,
                     "quantity": line.returnable_quantity}
                    for line in kept
                ],  # fmt: skip
                "reason": reason,
                "refund_amount": money(amount),
                "shipping_refunded": amount > returned_cents,
                "currency": order.currency,
                "refund_method": order.payment_method,
                "refund_expected_by": iso_day(expected_by),
                "ship_by": iso_day(rules.return_ship_by(now)),
            }
            if preview:
                return Outcome(True, "return_created", {**data, "preview": True})
            for line in lines:
                line.returned_quantity = line.quantity
            ret = Return(
                order=order, reason=reason, status="requested", lines=return_lines, created_at=now
            )
            refund = Refund(
                order=order,
                return_=ret,
                kind="return",
                amount_cents=amount,
                status="pending",
                method=order.payment_method,
                created_at=now,
                expected_by=expected_by,
            )
            session.add_all([ret, refund])
            if everything_left:
                order.status = RETURNED
            order.updated_at = now
            session.flush()
            detail = {"return_id": ret.public_id, "refund_id": refund.public_id, "refund": money(amount),
                      "lines": [line["line_no"] for line in return_lines], "reason": reason}  # fmt: skip
            self._log(session, "return_created", detail, order, conversation_id)
            return Outcome(
                True,
                "return_created",
                {
                    **data,
                    "status": order.status,
                    "return_id": ret.public_id,
                    "refund_id": refund.public_id,
                    "return_label_url": f"/returns/{ret.public_id}/label",
                },
            )
