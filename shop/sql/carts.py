"""Carts: one per conversation (``tracker.sender_id``); add a product (in a size and colour),
show the cart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shop import rules
from shop.backend import Outcome

from .base import ShopBase, money, retry_on_conflict
from .models import Cart, CartItem


class Carts(ShopBase):
    """The conversation's cart (prices in cents, shown in USD)."""

    def _cart_view(self, cart: Cart | None, conversation_id: str) -> dict[str, Any]:
        items = [
            {"product_id": i.product_id, "title": i.title, "size": i.size or None,
             "color": i.color or None, "price": money(i.unit_cents), "quantity": i.quantity,
             "line_total": money(i.unit_cents * i.quantity)}
            for i in (cart.items if cart else [])
        ]  # fmt: skip
        total = sum(i.unit_cents * i.quantity for i in (cart.items if cart else []))
        return {
            "conversation_id": conversation_id,
            "items": items,
            "item_count": sum(i["quantity"] for i in items),
            "total": money(total),
            "currency": "USD",
        }

    def _cart(self, session: Session, conversation_id: str, *, lock: bool = False) -> Cart | None:
        query = select(Cart).where(Cart.conversation_id == conversation_id)
        if lock:  # serialise writers of one cart (PostgreSQL row lock; SQLite locks the file)
            query = query.with_for_update()
        return session.scalar(query.options(selectinload(Cart.items)))

    @retry_on_conflict
    def add_to_cart(
        self, conversation_id: str, product_id: str, title: str, price: float, quantity: int = 1,
        *, size: str | None = None, color: str | None = None,
    ) -> Outcome:
        """Put a product, in a size and colour when given, in the conversation's cart (adds to
        the quantity of the line of that product, size and colour when there is one). Which
        sizes and colours a product has is the caller's check (the catalog is not here)."""
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= rules.MAX_QUANTITY
        ):
            return Outcome(
                False, "invalid_quantity", {"quantity": quantity, "max": rules.MAX_QUANTITY}
            )
        if price is None or float(price) < 0 or not product_id:
            return Outcome(False, "item_not_found", {"product_id": product_id})
        size, color = (size or "").strip()[:40], (color or "").strip()[:40]
        now = self.now()
        with self._writes.begin() as session:
            cart = self._cart(session, conversation_id, lock=True)
            if cart is None:
                cart = Cart(conversation_id=conversation_id, created_at=now, updated_at=now)
                session.add(cart)
            line = next((i for i in cart.items
                         if (i.product_id, i.size, i.color) == (product_id, size, color)), None)
            if line is None:
                line = CartItem(product_id=product_id, title=title, size=size, color=color,
                                unit_cents=round(float(price) * 100), quantity=quantity,
                                added_at=now)  # fmt: skip
                cart.items.append(line)
            else:
                line.quantity = min(rules.MAX_QUANTITY, line.quantity + quantity)
            cart.updated_at = now
            session.flush()
            self._log(
                session, "cart_item_added",
                {"product_id": product_id, "size": size or None, "color": color or None,
                 "quantity": quantity, "cart_quantity": line.quantity},
                conversation_id=conversation_id,
            )  # fmt: skip
            view = self._cart_view(cart, conversation_id)
            added = {"product_id": product_id, "title": title, "size": size or None,
                     "color": color or None, "quantity": line.quantity}
            return Outcome(True, "added", {**view, "added": added})

    def get_cart(self, conversation_id: str) -> Outcome:
        with self._sessions() as session:
            view = self._cart_view(self._cart(session, conversation_id), conversation_id)
            return Outcome(bool(view["items"]), "cart" if view["items"] else "cart_empty", view)
