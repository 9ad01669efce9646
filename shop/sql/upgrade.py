"""Bring an older shop database up to the current tables (SQLite and PostgreSQL).

``create_all`` only creates missing tables. A change to an existing table is listed here and
applied by :func:`upgrade` after it, once: the check reads the table's columns.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, select

from .models import CartItem

# the cart line's columns before it had a size and a colour (and one line per product)
_OLD_CART_COLUMNS = ("cart_id", "product_id", "title", "unit_cents", "quantity", "added_at")


def _rebuild_cart_items(conn: Connection) -> None:
    """Size and colour joined the cart line, and with them its unique key (a product in two
    sizes is two lines). SQLite cannot drop a table's unique constraint, so the table is built
    anew on both engines and its lines copied over (ids anew: nothing refers to them)."""
    table = CartItem.__table__
    old = select(*(table.c[name] for name in _OLD_CART_COLUMNS)).order_by(table.c.id)
    lines = [dict(row._mapping) for row in conn.execute(old)]
    table.drop(conn)
    table.create(conn)
    if lines:
        conn.execute(table.insert(), [{**line, "size": "", "color": ""} for line in lines])


def upgrade(conn: Connection) -> list[str]:
    """Apply every change the database does not have yet; the names of those applied."""
    applied = []
    columns = {c["name"] for c in inspect(conn).get_columns(CartItem.__tablename__)}
    if "size" not in columns:
        _rebuild_cart_items(conn)
        applied.append("cart_items: size and color")
    return applied
