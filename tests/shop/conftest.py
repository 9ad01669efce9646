"""Fixtures for the shop-data tests: a real database (SQLite in tmp_path, or PostgreSQL when
AISLE_TEST_POSTGRES_URL is set) seeded with a small shop whose right answers are known."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from common.settings import ROOT
from shop import ShopData
from shop.faq import FaqIndex

FAQ_PATH = ROOT / "data" / "faq" / "faq.yml"

# The fixed "today" every rule is checked against (the seeds are relative to it).
TODAY = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock: tests move time forward to cross the return window."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


CUSTOMERS = [
    {"name": "Ada Stone", "email": "ada.stone@example.com",
     "addresses": [{"label": "home", "line1": "12 Quay Road", "city": "Leeds", "postcode": "LS1 4AB", "country": "United Kingdom"}]},
    {"name": "Ben Ortiz", "email": "ben.ortiz@example.com",
     "addresses": [{"label": "home", "line1": "9 Elm Court", "city": "Austin", "postcode": "TX 78701"}]},
]  # fmt: skip

SHOES = {"product_id": "P00012", "title": "Trail Shoes", "price": 80.0, "quantity": 1}
SOCKS = {"product_id": "P00041", "title": "Wool Socks", "price": 12.5, "quantity": 2}
ORDERS = [
    # 11001 pending: 80 + 2×12.5 = 105, shipping 5 → total 110
    {"order_id": "ORD-11001", "email": "ada.stone@example.com", "status": "pending", "placed_days_ago": 0.5,
     "shipping": 5.0, "payment_method": "visa", "items": [SHOES, SOCKS]},
    {"order_id": "ORD-11002", "email": "ada.stone@example.com", "status": "processing", "placed_days_ago": 1,
     "shipping": 0, "payment_method": "paypal", "items": [SHOES]},
    {"order_id": "ORD-11003", "email": "ada.stone@example.com", "status": "shipped", "placed_days_ago": 3,
     "shipped_days_ago": 1, "carrier": "UPS", "tracking_number": "1Z999", "shipping": 5.0,
     "payment_method": "visa", "items": [SHOES]},
    # delivered 10 days ago: inside the window for 20 more days
    {"order_id": "ORD-11004", "email": "ben.ortiz@example.com", "status": "delivered", "placed_days_ago": 14,
     "shipped_days_ago": 12, "delivered_days_ago": 10, "carrier": "DHL", "tracking_number": "JD1",
     "shipping": 5.0, "payment_method": "visa", "items": [SHOES, SOCKS]},
    # delivered 45 days ago: outside the window
    {"order_id": "ORD-11005", "email": "ben.ortiz@example.com", "status": "delivered", "placed_days_ago": 50,
     "shipped_days_ago": 48, "delivered_days_ago": 45, "carrier": "DHL", "tracking_number": "JD2",
     "shipping": 5.0, "payment_method": "visa", "items": [SOCKS]},
    {"order_id": "ORD-11006", "email": "ben.ortiz@example.com", "status": "cancelled", "placed_days_ago": 20,
     "cancelled_days_ago": 19, "refund_issued_days_ago": 15, "shipping": 5.0, "payment_method": "visa",
     "items": [SOCKS]},
    {"order_id": "ORD-11007", "email": "ben.ortiz@example.com", "status": "refunded", "placed_days_ago": 30,
     "shipped_days_ago": 28, "delivered_days_ago": 25, "shipping": 0, "payment_method": "amex",
     "items": [SHOES], "return": {"requested_days_ago": 20, "reason": "too small", "refund_issued_days_ago": 12}},
]  # fmt: skip


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seed"
    folder.mkdir()
    (folder / "customers.json").write_text(json.dumps(CUSTOMERS))
    (folder / "orders.json").write_text(json.dumps(ORDERS))
    return folder


@pytest.fixture
def clock() -> Clock:
    return Clock(TODAY)


def _sqlite(tmp_path: Path, clock: Clock):
    return ShopData(f"sqlite:///{tmp_path / 'shop.db'}", clock=clock), None


def _postgres(url: str, clock: Clock):
    schema = f"aisle_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return ShopData(engine, clock=clock), cleanup


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_shop(request, tmp_path: Path, clock: Clock):
    """A shop with its tables created and nothing in them, on each database backend."""
    if request.param == "sqlite":
        shop, cleanup = _sqlite(tmp_path, clock)
    else:  # the session fixture skips, with its reason, when AISLE_TEST_POSTGRES_URL is not set
        shop, cleanup = _postgres(request.getfixturevalue("postgres_url"), clock)
    shop.create_schema()
    yield shop
    if cleanup:
        cleanup()
    else:
        shop.engine.dispose()


@pytest.fixture
def shop(empty_shop: ShopData, seed_dir: Path) -> ShopData:
    counts = empty_shop.seed(seed_dir)
    assert counts == {"customers": len(CUSTOMERS), "orders": len(ORDERS)}
    return empty_shop


@pytest.fixture(scope="session")
def encoder():
    """The real encoder (the process-wide one from recommender.encoder), loaded once."""
    from recommender.encoder import get_encoder

    return get_encoder()


@pytest.fixture(scope="session")
def faq(encoder) -> FaqIndex:
    return FaqIndex.from_file(FAQ_PATH, encoder)
