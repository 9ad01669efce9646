"""What the bot did in the shop during a conversation, read from the shop's audit log.

The shop writes every change it makes (cancellations, address changes, returns, cart lines) to
its ``order_events`` table together with the change (docs/architecture.md §2.2). The gateway may
not import ``shop`` (§4), so this module reads that table, and the order's customer, with plain
SQL over ``AISLE_SHOP_DB_URL``, read only: cart events by the conversation id, order events by
the orders the bot verified in this conversation, since the conversation began. A shop
database that is missing or of another shape gives an empty list, never an error.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from common.money import format_money

log = logging.getLogger(__name__)

ORDER_EVENTS = text(
    "SELECT e.kind, e.detail, e.actor, e.created_at, o.order_ref FROM order_events e "
    "JOIN orders o ON o.id = e.order_id WHERE o.order_ref IN :refs ORDER BY e.id"
).bindparams(bindparam("refs", expanding=True))
CART_EVENTS = text(
    "SELECT kind, detail, actor, created_at FROM order_events WHERE conversation_id = :conv "
    "ORDER BY id"
)
CUSTOMER = text(
    "SELECT c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_ref = :ref"
)


def _epoch(value: Any) -> float | None:
    """The shop stores naive UTC datetimes (SQLite gives them back as text)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _detail(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _amount(value: Any) -> str:
    """The shop writes refunds as decimal text ("59.95"), in the order's currency."""
    try:
        return format_money(float(value), "USD", cents=True)
    except (TypeError, ValueError):
        return str(value)


def describe(kind: str, detail: dict[str, Any], order: str | None,
             titles: dict[str, str] | None = None) -> str:
    """One line an agent reads: "Cancelled ORD-10427 (refund $89.00)"."""
    refund = f" (refund {_amount(detail['refund'])})" if detail.get("refund") else ""
    if kind == "order_cancelled":
        return f"Cancelled {order}{refund}"
    if kind == "address_changed":
        return f"Changed the delivery address of {order} to {detail.get('to', '?')}"
    if kind == "quantity_changed":
        charged = f" (charged {_amount(detail['charged'])})" if detail.get("charged") else ""
        return (f"Changed {detail.get('title', 'an item')} in {order} from {detail.get('from', '?')} "
                f"to {detail.get('to', '?')}{refund}{charged}")
    if kind == "return_created":
        return f"Opened return {detail.get('return_id', '')} for {order}{refund}".replace("  ", " ")
    if kind == "cart_item_added":
        product = str(detail.get("product_id") or "?")
        title = (titles or {}).get(product, product)
        variant = ", ".join(str(detail[k]) for k in ("size", "color") if detail.get(k))
        title = f"{title} ({variant})" if variant else title
        return f"Added {title} to the cart (now {detail.get('cart_quantity', detail.get('quantity', 1))})"
    words = kind.replace("_", " ").capitalize()
    return f"{words} {order}" if order else words


class ShopReader:
    """Read-only SQL on the shop database; one small engine, opened on first use."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._engine: Engine | None = None

    def _connect(self) -> Any:
        if self._engine is None:
            self._engine = create_engine(self.url or "sqlite://", pool_pre_ping=True)
        return self._engine.connect()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


class ShopActivity(ShopReader):
    """Read-only view of the shop's audit log."""

    def customer_name(self, order_ref: str | None) -> str | None:
        if not order_ref or not self.url:
            return None
        try:
            with self._connect() as conn:
                row = conn.execute(CUSTOMER, {"ref": order_ref}).first()
        except SQLAlchemyError as exc:
            log.info("shop customer lookup unavailable: %s", type(exc).__name__)
            return None
        return str(row.name) if row else None

    def events(self, conv_id: str, order_refs: list[str], since: float,
               titles: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """[{"time", "kind", "text", "actor"}] of this conversation, oldest first."""
        if not self.url:
            return []
        found: list[tuple[float, dict[str, Any]]] = []
        try:
            with self._connect() as conn:
                rows = list(conn.execute(CART_EVENTS, {"conv": conv_id}))
                if order_refs:
                    rows += list(conn.execute(ORDER_EVENTS, {"refs": list(order_refs)}))
        except SQLAlchemyError as exc:
            log.info("shop events unavailable: %s", type(exc).__name__)
            return []
        for row in rows:
            at = _epoch(row.created_at)
            if at is None or at < since - 1:
                continue
            mapping = row._mapping
            found.append((at, {
                "time": datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace(
                    "+00:00", "Z"),
                "kind": row.kind,
                "actor": row.actor,
                "text": describe(row.kind, _detail(row.detail), mapping.get("order_ref"), titles),
            }))
        return [event for _, event in sorted(found, key=lambda pair: pair[0])]
