"""ShopData: the customer-service operations the assistant's actions call.

Every operation returns an :class:`Outcome` whose ``code`` is a stable identifier the
actions map to a ``domain.yml`` response (codes are listed in ``CODES``). Every change is
written in one transaction together with a row in ``order_events``. The clock is injected,
so the time-based rules (return window, refund dates) are testable.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shop import rules
from shop.backend import Outcome

from .models import (
    CANCELLED,
    DELIVERED,
    OPEN_STATUSES,
    REFUNDED,
    RETURNED,
    SHIPPED,
    Address,
    Base,
    Cart,
    CartItem,
    Customer,
    Order,
    OrderEvent,
    OrderItem,
    Refund,
    Return,
)

Clock = Callable[[], datetime]

WRITE_ATTEMPTS = 8


def retry_on_conflict(method: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Run a write again when a concurrent transaction won the race: SQLite's "database is
    locked" on upgrading a read to a write, or a duplicate insert (two first adds to one cart).
    Each attempt is a fresh transaction that re-reads the current state."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Outcome:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return method(*args, **kwargs)
            except (IntegrityError, OperationalError):
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    return wrapper


def _sqlite_real_transactions(engine: Engine) -> None:
    """Give pysqlite real transactions (SQLAlchemy's documented recipe): reads begin a deferred
    transaction; writes (``sqlite_begin="IMMEDIATE"``) take the write lock up front, so
    concurrent read-modify-writes queue on the busy timeout instead of losing an update.
    WAL lets reads go on while one connection writes."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        if engine.url.database not in (None, "", ":memory:"):
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _naive_utc(moment: datetime) -> datetime:
    """Timestamps are stored as naive UTC (SQLite keeps no zone)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def money(cents: int) -> float:
    return round(cents / 100, 2)


def _iso(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def _order_ref(order: Order) -> dict[str, Any]:
    """What every outcome about an order starts with."""
    return {"order_id": order.order_ref, "status": order.status}


class ShopData:
    """The shop database: customers, orders, returns, refunds, invoices, carts and their audit log.

    ``ShopData(url)`` takes a SQLAlchemy URL (``sqlite:///var/shop.db``,
    ``postgresql+psycopg2://…``) or a ready :class:`Engine`; ``clock`` returns "now".
    """

    def __init__(self, url: str | Engine, clock: Clock = utc_now) -> None:
        if isinstance(url, Engine):
            self.engine = url
        else:
            if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            _sqlite_real_transactions(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # changes run in these: on SQLite they hold the write lock from the first statement
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writes = sessionmaker(writer, expire_on_commit=False)
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Any = None) -> ShopData:
        """Open the configured database, create the tables and seed the demo shop when empty."""
        from common.settings import get_settings

        settings = settings or get_settings()
        shop = cls(settings.shop_db_url)
        shop.create_schema()
        shop.seed(settings.shop_seed_dir)
        return shop

    # ---------------------------------------------------------------- plumbing
    def now(self) -> datetime:
        return _naive_utc(self._clock())

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def drop_schema(self) -> None:
        Base.metadata.drop_all(self.engine)

    def seed(self, seed_dir: str | Path) -> dict[str, int]:
        """Load the demo customers and orders from ``seed_dir`` when the shop is empty."""
        from shop.sql.seed import load_seed

        with self._writes.begin() as session:
            if session.scalar(select(func.count()).select_from(Customer)):
                return {"customers": 0, "orders": 0}
            return load_seed(session, Path(seed_dir), self.now())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction (commits on success) for tests and tools that read the tables directly."""
        with self._sessions.begin() as session:
            yield session

    def _log(
        self,
        session: Session,
        kind: str,
        detail: dict[str, Any],
        order: Order | None = None,
        conversation_id: str | None = None,
    ) -> None:
        session.add(
            OrderEvent(
                order_id=order.id if order else None,
                conversation_id=conversation_id,
                kind=kind,
                detail=detail,
                created_at=self.now(),
            )
        )

    def _find_order(
        self, session: Session, order_id: str | None, email: str | None, *, lock: bool = False
    ) -> Order | Outcome:
        """The order, when the id exists and the e-mail matches its customer; else a failure."""
        ref = rules.normalise_order_id(order_id)
        if ref is None:
            return Outcome(False, "invalid_order_id", {"order_id": order_id})
        address = rules.normalise_email(email)
        if address is None:
            return Outcome(False, "invalid_email", {"order_id": ref, "email": email})
        query = (
            select(Order)
            .where(Order.order_ref == ref)
            .options(selectinload(Order.items), selectinload(Order.customer))
        )
        if lock:
            query = query.with_for_update()
        order = session.scalar(query)
        if order is None:
            return Outcome(False, "not_found", {"order_id": ref})
        if order.customer.email != address:
            return Outcome(False, "email_mismatch", {"order_id": ref})
        return order

    # ---------------------------------------------------------------- views
    def _items(self, order: Order) -> list[dict[str, Any]]:
        return [
            {
                "line_no": item.line_no,
                "product_id": item.product_id,
                "title": item.title,
                "quantity": item.quantity,
                "unit_price": money(item.unit_cents),
                "line_total": money(item.line_cents),
                "returned_quantity": item.returned_quantity,
            }
            for item in order.items
        ]

    def _summary(self, order: Order) -> dict[str, Any]:
        return {
            "order_id": order.order_ref,
            "status": order.status,
            "customer_name": order.customer.name,
            "placed_at": _iso(order.placed_at),
            "items": self._items(order),
            "item_count": sum(item.quantity for item in order.items),
            "items_total": money(order.items_cents),
            "shipping": money(order.shipping_cents),
            "total": money(order.total_cents),
            "currency": order.currency,
            "payment_method": order.payment_method,
            "delivery_option": order.delivery_option,
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "shipped_at": _iso(order.shipped_at),
            "estimated_delivery": _iso(order.estimated_delivery),
            "delivered_at": _iso(order.delivered_at),
            "shipping_address": order.shipping_address.one_line(),
        }

    # ---------------------------------------------------------------- orders
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
        self, order_id: str | None, email: str | None, reason: str | None = None
    ) -> Outcome:
        """Cancel a pending or processing order and refund everything paid (no fee).

        A shipped or delivered order cannot be cancelled: ``already_shipped`` (the bot offers a return).
        """
        with self._writes.begin() as session:
            found = self._find_order(session, order_id, email, lock=True)
            if isinstance(found, Outcome):
                return found
            order = found
            base = _order_ref(order)
            if order.status == CANCELLED:
                return Outcome(False, "already_cancelled", base)
            if order.status in (SHIPPED, DELIVERED):
                return Outcome(
                    False, "already_shipped", {**base, "shipped_at": _iso(order.shipped_at)}
                )
            if order.status in (RETURNED, REFUNDED):
                return Outcome(False, "already_returned", base)
            now = self.now()
            amount = rules.cancellation_refund_cents(order.total_cents)
            refund = Refund(
                order=order,
                kind="cancellation",
                amount_cents=amount,
                status="pending",
                method=order.payment_method,
                created_at=now,
                expected_by=now + timedelta(days=rules.CANCELLATION_REFUND_DAYS),
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
            self._log(session, "order_cancelled", detail, order)
            return Outcome(
                True,
                "cancelled",
                {
                    **base,
                    "status": CANCELLED,
                    "fee": money(rules.CANCELLATION_FEE_CENTS),
                    "refund_id": refund.public_id,
                    "refund_amount": money(amount),
                    "currency": order.currency,
                    "refund_method": order.payment_method,
                    "refund_expected_by": _iso(refund.expected_by),
                },
            )

    @staticmethod
    def _match_line(order: Order, item: str | int) -> OrderItem | None:
        text = str(item).strip()
        for line in order.items:
            if text.isdigit() and int(text) == line.line_no:
                return line
            if text.upper() == line.product_id.upper():
                return line
        return None

    @retry_on_conflict
    def change_shipping_address(
        self, order_id: str | None, email: str | None, address: str | dict[str, str]
    ) -> Outcome:
        """Send the order to another address; only before it ships (``address_locked`` after)."""
        with self._writes.begin() as session:
            found = self._find_order(session, order_id, email, lock=True)
            if isinstance(found, Outcome):
                return found
            order = found
            base = _order_ref(order)
            if order.status not in OPEN_STATUSES:
                return Outcome(False, "address_locked", base)
            fields = self._address_fields(address, order.shipping_address)
            if fields is None:
                return Outcome(False, "invalid_address", {**base, "address": address})
            now = self.now()
            old = order.shipping_address.one_line()
            new = Address(customer=order.customer, label="order", created_at=now, **fields)
            session.add(new)
            order.shipping_address, order.updated_at = new, now
            session.flush()
            self._log(session, "address_changed", {"from": old, "to": new.one_line()}, order)
            return Outcome(
                True, "address_changed", {**base, "old_address": old, "new_address": new.one_line()}
            )

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

    # ---------------------------------------------------------------- returns and refunds
    @retry_on_conflict
    def request_return(
        self,
        order_id: str | None,
        email: str | None,
        reason: str | None = None,
        item_ids: list[str | int] | None = None,
    ) -> Outcome:
        """Open a return for delivered items within the return window, and record its refund.

        ``item_ids`` are product ids or line numbers (all items still kept when omitted). The
        refund is the price of the returned items (see ``rules.return_refund_cents``).
        """
        with self._writes.begin() as session:
            found = self._find_order(session, order_id, email, lock=True)
            if isinstance(found, Outcome):
                return found
            order = found
            base = _order_ref(order)
            if order.status == CANCELLED:
                return Outcome(False, "already_cancelled", base)
            if order.status in (RETURNED, REFUNDED):
                return Outcome(False, "already_returned", base)
            if order.status != DELIVERED or order.delivered_at is None:
                return Outcome(
                    False,
                    "not_delivered_yet",
                    {**base, "estimated_delivery": _iso(order.estimated_delivery)},
                )
            now = self.now()
            deadline = rules.return_deadline(order.delivered_at)
            window = {
                "delivered_at": _iso(order.delivered_at),
                "return_deadline": _iso(deadline),
                "window_days": rules.RETURN_WINDOW_DAYS,
                "days_since_delivery": (now.date() - order.delivered_at.date()).days,
            }
            if not rules.within_return_window(order.delivered_at, now):
                return Outcome(False, "outside_return_window", {**base, **window})
            kept = [line for line in order.items if line.returnable_quantity > 0]
            if item_ids:
                chosen = [self._match_line(order, item) for item in item_ids]
                if any(line is None for line in chosen):
                    return Outcome(
                        False,
                        "item_not_found",
                        {**base, "item_ids": item_ids, "items": self._items(order)},
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
                expected_by=now + timedelta(days=rules.RETURN_REFUND_DAYS),
            )
            session.add_all([ret, refund])
            if everything_left:
                order.status = RETURNED
            order.updated_at = now
            session.flush()
            detail = {"return_id": ret.public_id, "refund_id": refund.public_id, "refund": money(amount),
                      "lines": [line["line_no"] for line in return_lines], "reason": reason}  # fmt: skip
            self._log(session, "return_created", detail, order)
            return Outcome(
                True,
                "return_created",
                {
                    **base,
                    **window,
                    "status": order.status,
                    "return_id": ret.public_id,
                    "items": return_lines,
                    "refund_id": refund.public_id,
                    "refund_amount": money(amount),
                    "shipping_refunded": amount > returned_cents,
                    "currency": order.currency,
                    "refund_method": order.payment_method,
                    "refund_expected_by": _iso(refund.expected_by),
                    "return_label_url": f"/returns/{ret.public_id}/label",
                },
            )

    def refund_status(self, order_id: str | None, email: str | None) -> Outcome:
        """The order's refunds, newest first: amount, status (pending/issued), expected date."""
        with self._sessions() as session:
            found = self._find_order(session, order_id, email)
            if isinstance(found, Outcome):
                return found
            order = found
            base = _order_ref(order)
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
                    "created_at": _iso(r.created_at),
                    "expected_by": _iso(r.expected_by),
                    "issued_at": _iso(r.issued_at),
                    "overdue": r.status != "issued" and now > r.expected_by,
                }
                for r in refunds
            ]
            return Outcome(True, "refund_found", {**base, "refunds": rows, "latest": rows[0]})

    # ---------------------------------------------------------------- invoices
    def get_invoice(self, order_id: str | None, email: str | None) -> Outcome:
        """The order's invoice: id, date, lines, shipping, total and a download path."""
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
                "issued_at": _iso(invoice.issued_at),
                "customer_name": order.customer.name,
                "lines": self._items(order),
                "items_total": money(order.items_cents),
                "shipping": money(order.shipping_cents),
                "total": money(order.total_cents),
                "currency": order.currency,
                "url": f"/invoices/{invoice.invoice_ref}.pdf",
            },
        )

    # ---------------------------------------------------------------- carts
    def _cart_view(self, cart: Cart | None, conversation_id: str) -> dict[str, Any]:
        items = [
            {"product_id": i.product_id, "title": i.title, "price": money(i.unit_cents),
             "quantity": i.quantity, "line_total": money(i.unit_cents * i.quantity)}
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
        self, conversation_id: str, product_id: str, title: str, price: float, quantity: int = 1
    ) -> Outcome:
        """Put a product in the conversation's cart (adds to the quantity when already there)."""
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
        now = self.now()
        with self._writes.begin() as session:
            cart = self._cart(session, conversation_id, lock=True)
            if cart is None:
                cart = Cart(conversation_id=conversation_id, created_at=now, updated_at=now)
                session.add(cart)
            line = next((i for i in cart.items if i.product_id == product_id), None)
            if line is None:
                line = CartItem(product_id=product_id, title=title, unit_cents=round(float(price) * 100),
                                quantity=quantity, added_at=now)  # fmt: skip
                cart.items.append(line)
            else:
                line.quantity = min(rules.MAX_QUANTITY, line.quantity + quantity)
            cart.updated_at = now
            session.flush()
            self._log(
                session, "cart_item_added",
                {"product_id": product_id, "quantity": quantity, "cart_quantity": line.quantity},
                conversation_id=conversation_id,
            )  # fmt: skip
            view = self._cart_view(cart, conversation_id)
            return Outcome(True, "added", {**view, "added": {"product_id": product_id, "title": title,
                                                              "quantity": line.quantity}})  # fmt: skip

    def get_cart(self, conversation_id: str) -> Outcome:
        with self._sessions() as session:
            view = self._cart_view(self._cart(session, conversation_id), conversation_id)
            return Outcome(bool(view["items"]), "cart" if view["items"] else "cart_empty", view)

    # ---------------------------------------------------------------- audit
    def events(
        self, order_id: str | None = None, conversation_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The audit log (oldest first) of one order or one conversation's cart."""
        with self._sessions() as session:
            query = select(OrderEvent).order_by(OrderEvent.id)
            if order_id is not None:
                ref = rules.normalise_order_id(order_id)
                query = query.join(Order, Order.id == OrderEvent.order_id).where(
                    Order.order_ref == ref
                )
            if conversation_id is not None:
                query = query.where(OrderEvent.conversation_id == conversation_id)
            return [
                {
                    "kind": e.kind,
                    "detail": e.detail,
                    "actor": e.actor,
                    "created_at": e.created_at.isoformat(),
                }
                for e in session.scalars(query)
            ]
