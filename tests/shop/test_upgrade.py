"""An older shop database is brought up to the current tables by create_schema (SQLite, and
PostgreSQL when AISLE_TEST_POSTGRES_URL is set): its cart lines are kept and gain a size and colour."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, UniqueConstraint, insert

from shop import ShopData
from shop.sql.models import CartItem

# cart_items as the first release created it: one line per product, no size or colour
OLD = MetaData()
OLD_CART_ITEMS = Table(
    "cart_items", OLD,
    Column("id", Integer, primary_key=True),
    Column("cart_id", Integer, nullable=False),
    Column("product_id", String(40), nullable=False),
    Column("title", String(300), nullable=False),
    Column("unit_cents", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("added_at", DateTime, nullable=False),
    UniqueConstraint("cart_id", "product_id"),
)


def test_older_cart_lines_are_kept_and_take_sizes(empty_shop: ShopData) -> None:
    shop = empty_shop
    assert shop.add_to_cart("conv-old", "P00012", "Trail Shoes", 80.0, quantity=2).ok
    with shop.engine.begin() as conn:  # back to the old table, with that line in it
        [line] = conn.execute(CartItem.__table__.select()).mappings().all()
        CartItem.__table__.drop(conn)
        OLD_CART_ITEMS.create(conn)
        conn.execute(insert(OLD_CART_ITEMS).values(
            cart_id=line["cart_id"], product_id="P00012", title="Trail Shoes", unit_cents=8000,
            quantity=2, added_at=datetime(2025, 6, 1)))

    shop.create_schema()
    shop.create_schema()  # a second start changes nothing
    [kept] = shop.get_cart("conv-old").data["items"]
    assert (kept["product_id"], kept["size"], kept["color"], kept["quantity"]) == ("P00012", None, None, 2)
    # the old one-line-per-product key is gone: another size is a line of its own
    data = shop.add_to_cart("conv-old", "P00012", "Trail Shoes", 80.0, size="10", color="black").data
    assert [(i["size"], i["quantity"]) for i in data["items"]] == [(None, 2), ("10", 1)]
