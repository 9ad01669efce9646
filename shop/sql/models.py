"""The shop database tables (SQLAlchemy 2 declarative mapping).

Money is stored as integer cents, timestamps as naive UTC. Public identifiers
(``ORD-10427``, ``INV-20427``, ``RET-30001``, ``RFD-40001``) are what the shopper
sees; integer primary keys stay internal.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Order lifecycle. pending → processing → shipped → delivered, with side exits
# cancelled (before shipping) and returned → refunded (after delivery).
PENDING = "pending"
PROCESSING = "processing"
SHIPPED = "shipped"
DELIVERED = "delivered"
CANCELLED = "cancelled"
RETURNED = "returned"  # every item is being returned; the refund is on its way
REFUNDED = "refunded"  # every item returned and the refund issued
ORDER_STATUSES = (PENDING, PROCESSING, SHIPPED, DELIVERED, CANCELLED, RETURNED, REFUNDED)
OPEN_STATUSES = (PENDING, PROCESSING)  # not yet handed to the carrier: still changeable

RETURN_ID_OFFSET = 30000
REFUND_ID_OFFSET = 40000


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)  # stored lower-case
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]

    addresses: Mapped[list[Address]] = relationship(back_populates="customer")
    orders: Mapped[list[Order]] = relationship(back_populates="customer")


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    label: Mapped[str] = mapped_column(String(40), default="home")
    name: Mapped[str] = mapped_column(String(120))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship(back_populates="addresses")

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postcode": self.postcode,
            "country": self.country,
        }

    def one_line(self) -> str:
        return self.join_fields(self.as_dict())

    @staticmethod
    def join_fields(fields: dict) -> str:
        """``line1, line2, city, postcode, country`` without the empty parts."""
        keys = ("line1", "line2", "city", "postcode", "country")
        return ", ".join(str(fields[key]) for key in keys if fields.get(key))


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_ref: Mapped[str] = mapped_column(String(12), unique=True, index=True)  # ORD-10427
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    shipping_address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    shipping_cents: Mapped[int] = mapped_column(Integer, default=0)
    payment_method: Mapped[str] = mapped_column(String(30))
    delivery_option: Mapped[str] = mapped_column(String(30), default="standard")
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    placed_at: Mapped[datetime]
    shipped_at: Mapped[datetime | None]
    estimated_delivery: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship(back_populates="orders")
    shipping_address: Mapped[Address] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.line_no", cascade="all, delete-orphan"
    )
    returns: Mapped[list[Return]] = relationship(back_populates="order", order_by="Return.id")
    refunds: Mapped[list[Refund]] = relationship(back_populates="order", order_by="Refund.id")
    invoice: Mapped[Invoice | None] = relationship(back_populates="order")

    @property
    def items_cents(self) -> int:
        return sum(item.line_cents for item in self.items)

    @property
    def total_cents(self) -> int:
        return self.items_cents + self.shipping_cents


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # 1, 2, … within the order: the shopper's "item 2"
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    unit_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_cents(self) -> int:
        return self.unit_cents * self.quantity

    @property
    def returnable_quantity(self) -> int:
        return self.quantity - self.returned_quantity


class Return(Base):
    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested, received
    # [{"line_no", "product_id", "title", "quantity", "amount"}]
    lines: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime]

    order: Mapped[Order] = relationship(back_populates="returns")
    refund: Mapped[Refund | None] = relationship(back_populates="return_")

    @property
    def public_id(self) -> str:
        return f"RET-{RETURN_ID_OFFSET + self.id}"


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    kind: Mapped[str] = mapped_column(String(20))  # "return" or "cancellation"
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, issued
    method: Mapped[str] = mapped_column(String(30))  # back to the original payment method
    created_at: Mapped[datetime]
    expected_by: Mapped[datetime]
    issued_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="refunds")
    return_: Mapped[Return | None] = relationship(back_populates="refund")

    @property
    def public_id(self) -> str:
        return f"RFD-{REFUND_ID_OFFSET + self.id}"


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_ref: Mapped[str] = mapped_column(String(12), unique=True, index=True)  # INV-20427
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    issued_at: Mapped[datetime]

    order: Mapped[Order] = relationship(back_populates="invoice")


class Cart(Base):
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", order_by="CartItem.id", cascade="all, delete-orphan"
    )


class CartItem(Base):
    """One line of a cart: a product in one size and colour ("" when the shopper chose none)."""

    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("cart_id", "product_id", "size", "color"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id"), index=True)
    product_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    size: Mapped[str] = mapped_column(String(40), default="", server_default="")
    color: Mapped[str] = mapped_column(String(40), default="", server_default="")
    unit_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime]

    cart: Mapped[Cart] = relationship(back_populates="items")


class OrderEvent(Base):
    """Audit log: one row for every change made through ShopData (orders and carts)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. order_cancelled, address_changed
    detail: Mapped[dict] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(40), default="assistant")
    created_at: Mapped[datetime]
