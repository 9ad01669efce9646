"""Load the demo shop (data/shop/customers.json and orders.json) into an empty database.

Dates in the seed files are relative ("placed_days_ago": 6) and are resolved against the
clock when seeding, so a freshly seeded shop always has orders inside and outside the
return window. The format is described in data/shop/README.md.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shop import rules
from shop.sql.models import (
    CANCELLED,
    DELIVERED,
    ORDER_STATUSES,
    PENDING,
    PROCESSING,
    REFUNDED,
    RETURNED,
    SHIPPED,
    Address,
    Customer,
    Invoice,
    Order,
    OrderItem,
    Refund,
    Return,
)

INVOICE_OFFSET = 10000  # ORD-10427 → INV-20427


class SeedError(ValueError):
    """A seed record is malformed; the message names the file and the record."""


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SeedError(f"{path}: seed file missing") from exc
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: invalid JSON ({exc})") from exc
    if not isinstance(records, list):
        raise SeedError(f"{path}: expected a JSON list of records")
    return records


def _ago(now: datetime, days: int | float | None) -> datetime | None:
    return None if days is None else now - timedelta(days=float(days))


def _cents(value: Any, where: str) -> int:
    try:
        cents = round(float(value) * 100)
    except (TypeError, ValueError) as exc:
        raise SeedError(f"{where}: bad amount {value!r}") from exc
    if cents < 0:
        raise SeedError(f"{where}: negative amount {value!r}")
    return cents


def load_seed(session: Session, seed_dir: Path, now: datetime) -> dict[str, int]:
    """Insert every customer and order from ``seed_dir``; returns the counts inserted."""
    customers_path, orders_path = seed_dir / "customers.json", seed_dir / "orders.json"
    customers: dict[str, Customer] = {}
    for index, record in enumerate(_read(customers_path), start=1):
        where = f"{customers_path.name} record {index}"
        email = rules.normalise_email(record.get("email"))
        if email is None or not record.get("name"):
            raise SeedError(f"{where}: needs a name and a valid email")
        if email in customers:
            raise SeedError(f"{where}: duplicate email {email}")
        joined = _ago(now, record.get("joined_days_ago", 365))
        customer = Customer(
            customer_ref=record.get("customer_ref") or f"C{index:04d}",
            name=record["name"],
            email=email,
            phone=record.get("phone"),
            created_at=joined,
        )
        addresses = record.get("addresses") or []
        if not addresses:
            raise SeedError(f"{where}: needs at least one address")
        for address in addresses:
            customer.addresses.append(
                Address(
                    label=address.get("label", "home"),
                    name=address.get("name", record["name"]),
                    line1=address["line1"],
                    line2=address.get("line2"),
                    city=address["city"],
                    postcode=address["postcode"],
                    country=address.get("country", "United States"),
                    created_at=joined,
                )
            )
        customers[email] = customer
        session.add(customer)

    seen: set[str] = set()
    for index, record in enumerate(_read(orders_path), start=1):
        where = f"{orders_path.name} record {index} ({record.get('order_id')})"
        session.add(_order(record, customers, seen, now, where))
    session.flush()
    return {"customers": len(customers), "orders": len(seen)}


def _order(
    record: dict[str, Any],
    customers: dict[str, Customer],
    seen: set[str],
    now: datetime,
    where: str,
) -> Order:
    ref = rules.normalise_order_id(record.get("order_id"))
    if ref is None or ref in seen:
        raise SeedError(f"{where}: missing, malformed or duplicate order_id")
    seen.add(ref)
    customer = customers.get(rules.normalise_email(record.get("email")) or "")
    if customer is None:
        raise SeedError(f"{where}: email is not a seeded customer")
    status = record.get("status")
    if status not in ORDER_STATUSES:
        raise SeedError(f"{where}: status must be one of {ORDER_STATUSES}")
    label = record.get("address")
    address = next((a for a in customer.addresses if a.label == label), customer.addresses[0])

    placed = _ago(now, record.get("placed_days_ago", 1))
    shipped = _ago(now, record.get("shipped_days_ago"))
    delivered = _ago(now, record.get("delivered_days_ago"))
    cancelled = _ago(now, record.get("cancelled_days_ago"))
    option = record.get("delivery_option", "standard")
    if option not in rules.DELIVERY_DAYS:
        raise SeedError(f"{where}: delivery_option must be one of {tuple(rules.DELIVERY_DAYS)}")
    shipped_states = (SHIPPED, DELIVERED, RETURNED, REFUNDED)
    if status in shipped_states and shipped is None:
        raise SeedError(f"{where}: a {status} order needs shipped_days_ago")
    if status in (DELIVERED, RETURNED, REFUNDED) and delivered is None:
        raise SeedError(f"{where}: a {status} order needs delivered_days_ago")
    if status == CANCELLED and cancelled is None:
        raise SeedError(f"{where}: a cancelled order needs cancelled_days_ago")
    if status in (RETURNED, REFUNDED) and not record.get("return"):
        raise SeedError(f"{where}: a {status} order needs a return record")
    if status in (PENDING, PROCESSING, CANCELLED):
        eta = placed + timedelta(days=rules.DELIVERY_DAYS[option])
    elif delivered is not None:
        eta = delivered
    else:
        eta = shipped + timedelta(days=rules.DELIVERY_DAYS[option])

    order = Order(
        order_ref=ref,
        customer=customer,
        shipping_address=address,
        status=status,
        currency=record.get("currency", "USD"),
        shipping_cents=_cents(record.get("shipping", 0), where),
        payment_method=record.get("payment_method", "card"),
        delivery_option=option,
        carrier=record.get("carrier") if status in shipped_states else None,
        tracking_number=record.get("tracking_number") if status in shipped_states else None,
        placed_at=placed,
        shipped_at=shipped if status in shipped_states else None,
        estimated_delivery=eta,
        delivered_at=delivered if status in (DELIVERED, RETURNED, REFUNDED) else None,
        cancelled_at=cancelled if status == CANCELLED else None,
        cancel_reason=record.get("cancel_reason"),
        updated_at=max(t for t in (placed, shipped, delivered, cancelled) if t is not None),
    )
    items = record.get("items") or []
    if not items:
        raise SeedError(f"{where}: needs at least one item")
    for line_no, item in enumerate(items, start=1):
        quantity = int(item.get("quantity", 1))
        if not item.get("product_id") or not item.get("title") or quantity < 1:
            raise SeedError(f"{where}: item {line_no} needs product_id, title and a quantity ≥ 1")
        order.items.append(
            OrderItem(
                line_no=line_no,
                product_id=item["product_id"],
                title=item["title"],
                unit_cents=_cents(item.get("price"), f"{where} item {line_no}"),
                quantity=quantity,
                returned_quantity=0,
            )
        )
    order.invoice = Invoice(
        invoice_ref=f"INV-{int(ref[4:]) + INVOICE_OFFSET:05d}", issued_at=placed
    )
    if status == CANCELLED:
        issued = _ago(now, record.get("refund_issued_days_ago"))
        order.refunds.append(
            Refund(
                kind="cancellation",
                amount_cents=rules.cancellation_refund_cents(order.total_cents),
                status="issued" if issued else "pending",
                method=order.payment_method,
                created_at=cancelled,
                expected_by=cancelled + timedelta(days=rules.CANCELLATION_REFUND_DAYS),
                issued_at=issued,
            )
        )
    if record.get("return"):
        _seed_return(order, record["return"], now, where)
    return order


def _seed_return(order: Order, spec: dict[str, Any], now: datetime, where: str) -> None:
    """A return of every item (statuses returned/refunded) with its refund."""
    requested = _ago(now, spec.get("requested_days_ago", 1))
    issued = _ago(now, spec.get("refund_issued_days_ago"))
    if order.status == REFUNDED and issued is None:
        raise SeedError(f"{where}: a refunded order needs return.refund_issued_days_ago")
    lines = []
    for item in order.items:
        item.returned_quantity = item.quantity
        lines.append({"line_no": item.line_no, "product_id": item.product_id, "title": item.title,
                      "quantity": item.quantity, "amount": round(item.line_cents / 100, 2)})  # fmt: skip
    reason = spec.get("reason")
    amount = rules.return_refund_cents(
        order.items_cents, order.shipping_cents, returns_everything_left=True, reason=reason
    )
    ret = Return(
        reason=reason,
        status="received" if issued else "requested",
        lines=lines,
        created_at=requested,
    )
    order.returns.append(ret)
    order.refunds.append(
        Refund(
            return_=ret,
            kind="return",
            amount_cents=amount,
            status="issued" if issued else "pending",
            method=order.payment_method,
            created_at=requested,
            expected_by=requested + timedelta(days=rules.RETURN_REFUND_DAYS),
            issued_at=issued,
        )
    )
