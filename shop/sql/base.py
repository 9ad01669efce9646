"""What every topic of the SQL shop shares: the engine and its sessions, the clock, the retry of
conflicting writes, the order lookup and the audit log (``order_events``).

Each topic module (``orders``, ``returns``, ``refunds``, ``invoices``, ``carts``) is a subclass
of :class:`ShopBase`; ``service.ShopData`` puts them together.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shop import rules
from shop.backend import Outcome

from .models import Base, Customer, Order, OrderEvent, OrderItem
from .upgrade import upgrade

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


def iso_day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def order_basics(order: Order) -> dict[str, Any]:
    """What every outcome about an order starts with."""
    return {"order_id": order.order_ref, "status": order.status}


def order_lines(order: Order) -> list[dict[str, Any]]:
    """The order's items as outcomes show them (status, returns and invoices)."""
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


def match_line(order: Order, item: str | int) -> OrderItem | None:
    """The order's line a shopper means: its line number ("2") or product id."""
    text = str(item).strip()
    for line in order.items:
        if (text.isdigit() and int(text) == line.line_no) or text.upper() == line.product_id.upper():
            return line
    return None


class ShopBase:
    """The shop database: engine, sessions, clock, schema, seed, order lookup and audit log.

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
    def from_settings(cls, settings: Any = None) -> Self:
        """Open the configured database, create the tables and seed the demo shop when empty
        (unless AISLE_SHOP_SEED is ``none``)."""
        from common.settings import get_settings

        settings = settings or get_settings()
        shop = cls(settings.shop_db_url)
        shop.create_schema()
        shop.seed(settings.shop_seed_dir)
        return shop

    def now(self) -> datetime:
        return _naive_utc(self._clock())

    def create_schema(self) -> None:
        """The tables, and an older database's tables brought up to date (``upgrade``)."""
        Base.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            upgrade(conn)

    def drop_schema(self) -> None:
        Base.metadata.drop_all(self.engine)

    def seed(self, seed_dir: str | Path | None) -> dict[str, int]:
        """Load the demo customers and orders from ``seed_dir`` when the shop is empty (None:
        never, a production shop)."""
        from shop.sql.seed import load_seed

        if seed_dir is None:
            return {"customers": 0, "orders": 0}
        with self._writes.begin() as session:
            if session.scalar(select(func.count()).select_from(Customer)):
                return {"customers": 0, "orders": 0}
            return load_seed(session, Path(seed_dir), self.now())

    @contextmanager
    def _transaction(self, preview: bool) -> Iterator[Session]:
        """The transaction of a change: a write transaction (SQLite: the write lock from the
        first statement) that commits on success; for a preview a read that is never committed
        (closing the session rolls back whatever a preview touched)."""
        if preview:
            with self._sessions() as session:
                yield session
        else:
            with self._writes.begin() as session:
                yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction (commits on success) for tests and tools that read the tables directly."""
        with self._sessions.begin() as session:
            yield session

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

    # ---------------------------------------------------------------- audit
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
                    "conversation_id": e.conversation_id,
                    "created_at": e.created_at.isoformat(),
                }
                for e in session.scalars(query)
            ]
