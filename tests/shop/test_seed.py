"""The seed loader and the demo shop in data/shop (whose README promises a few handy orders)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shop import SeedError, ShopData
from shop.sql.models import Customer, Order

DEMO = Path(__file__).resolve().parents[2] / "data" / "shop"


def count(shop: ShopData, model) -> int:
    with shop.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_seed_is_idempotent(shop, seed_dir):
    assert shop.seed(seed_dir) == {"customers": 0, "orders": 0}
    assert count(shop, Order) == 7


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda orders: orders[1].update(status="teleported"), "status must be one of"),
        (lambda orders: orders[1].update(email="nobody@example.com"), "not a seeded customer"),
        (lambda orders: orders[1].update(order_id=orders[0]["order_id"]), "duplicate"),
        (lambda orders: orders[3].pop("delivered_days_ago"), "needs delivered_days_ago"),
        (lambda orders: orders[1].update(items=[]), "needs at least one item"),
        (lambda orders: orders[1]["items"][0].update(price="cheap"), "bad amount"),
    ],
)
def test_bad_seed_record_is_named_and_nothing_is_written(empty_shop, seed_dir, mutate, message):
    orders = json.loads((seed_dir / "orders.json").read_text())
    mutate(orders)
    (seed_dir / "orders.json").write_text(json.dumps(orders))
    with pytest.raises(SeedError, match=message) as error:
        empty_shop.seed(seed_dir)
    assert "orders.json record" in str(error.value)
    assert count(empty_shop, Customer) == 0 and count(empty_shop, Order) == 0


def test_missing_seed_file(empty_shop, tmp_path):
    with pytest.raises(SeedError, match="seed file missing"):
        empty_shop.seed(tmp_path)


@pytest.fixture
def demo_shop(empty_shop) -> ShopData:
    empty_shop.seed(DEMO)
    return empty_shop


def test_demo_shop_has_every_state(demo_shop):
    orders = json.loads((DEMO / "orders.json").read_text())
    customers = json.loads((DEMO / "customers.json").read_text())
    assert count(demo_shop, Customer) == len(customers) >= 20
    assert count(demo_shop, Order) == len(orders) >= 50
    states = Counter(order["status"] for order in orders)
    for status in (
        "pending",
        "processing",
        "shipped",
        "delivered",
        "cancelled",
        "returned",
        "refunded",
    ):
        assert states[status] >= 2, status
    delivered = [o["delivered_days_ago"] for o in orders if o["status"] == "delivered"]
    assert any(d <= 30 for d in delivered) and any(d > 30 for d in delivered)
    ids = [item["product_id"] for order in orders for item in order["items"]]
    assert all(re.fullmatch(r"P0(0\d{3}|1[01]\d{2}|1200)", pid) and pid != "P00000" for pid in ids)
    assert all(re.fullmatch(r"ORD-\d{5}", order["order_id"]) for order in orders)


def _readme_rows() -> list[tuple[str, str, str]]:
    rows = re.findall(
        r"^\| (ORD-\d{5}) \| (\S+@example\.com) \| ([a-z]+)", (DEMO / "README.md").read_text(), re.M
    )
    assert len(rows) >= 8
    return rows


def test_readme_demo_orders_are_true(demo_shop):
    for order_id, email, state in _readme_rows():
        outcome = demo_shop.order_status(order_id, email)
        assert outcome.ok, (order_id, outcome.code)
        assert outcome.data["status"] == state, order_id


def test_readme_promises_hold(demo_shop):
    maya = "maya.tan@example.com"
    assert demo_shop.cancel_order("ORD-10427", maya).code == "already_shipped"
    assert demo_shop.cancel_order("ORD-10401", maya).code == "cancelled"
    assert demo_shop.request_return("ORD-10405", "sofia.rossi@example.com").code == "return_created"
    assert (
        demo_shop.request_return("ORD-10402", "liam.walker@example.com").code
        == "outside_return_window"
    )
    assert (
        demo_shop.get_invoice("ORD-10413", "grace.okafor@example.com").data["invoice_id"]
        == "INV-20413"
    )
    assert demo_shop.verify_order("ORD-10999", maya).code == "not_found"


def test_demo_order_items_match_the_demo_catalog():
    """The seeds carry their own titles and prices; they agree with the generated catalog."""
    catalog_file = DEMO.parent / "catalog" / "products.jsonl"
    if not catalog_file.exists():
        pytest.skip(
            "data/catalog/products.jsonl not built (python -m tools.generate_catalog)"
        )
    catalog = {p["id"]: p for p in map(json.loads, catalog_file.read_text().splitlines())}
    for order in json.loads((DEMO / "orders.json").read_text()):
        for item in order["items"]:
            product = catalog.get(item["product_id"])
            assert product is not None, item["product_id"]
            assert (item["title"], item["price"]) == (product["title"], product["price"])


def test_a_production_shop_without_a_seed_stays_empty(empty_shop):
    assert empty_shop.seed(None) == {"customers": 0, "orders": 0}
    assert count(empty_shop, Customer) == 0
