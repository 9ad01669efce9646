"""The invoice and return-label pages behind the links the bot gives: served for a valid,
unexpired signature of their own path only, from the shop's records (a real seeded SQL shop)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape

from bot.documents import RETURN_ID_OFFSET
from common.links import link_key, sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(tmp_path: Path):
    from shop.sql.service import ShopData

    shop = ShopData(f"sqlite:///{tmp_path / 'shop.db'}")
    shop.create_schema()
    shop.seed(ROOT / "data/shop")
    return shop


@pytest.fixture
async def docs_client(make_client, shop, tmp_path: Path):
    return await make_client(shop_db_url=str(shop.engine.url), var_dir=tmp_path / "var")


def key(tmp_path: Path) -> bytes:
    return link_key("", tmp_path / "var")


async def test_a_signed_invoice_link_shows_the_invoice(docs_client, shop, tmp_path) -> None:
    invoice = shop.get_invoice("ORD-10427", "maya.tan@example.com").data
    resp = await docs_client.get(sign(invoice["url"], key(tmp_path)))
    assert resp.status == 200
    page = await resp.text()
    assert invoice["invoice_id"] in page and "ORD-10427" in page
    for line in invoice["lines"]:
        assert str(escape(line["title"])) in page
    assert f"{invoice['total']:,.2f}" in page  # the shop's own total
    assert resp.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("tamper", ["unsigned", "other_number", "expired", "other_key"])
async def test_anything_but_a_valid_signature_is_refused(docs_client, shop, tmp_path, tamper) -> None:
    url = shop.get_invoice("ORD-10427", "maya.tan@example.com").data["url"]
    signed = {
        "unsigned": url,
        "other_number": sign(url, key(tmp_path)).replace(url, url[:-1] + "9"),
        "expired": sign(url, key(tmp_path), now=time.time() - 40 * 86400),
        "other_key": sign(url, b"not the shop's key"),
    }[tamper]
    resp = await docs_client.get(signed)
    assert resp.status == 403
    assert "not valid" in (await resp.json())["error"]


async def test_a_signed_link_to_nothing_is_not_found(docs_client, tmp_path) -> None:
    assert (await docs_client.get(sign("/invoices/INV-99999", key(tmp_path)))).status == 404
    assert (await docs_client.get(sign("/returns/RET-99999/label", key(tmp_path)))).status == 404


async def test_the_return_label_names_the_parcel_and_both_addresses(docs_client, shop, tmp_path) -> None:
    outcome = _first_return(shop)
    resp = await docs_client.get(sign(outcome["return_label_url"], key(tmp_path)))
    assert resp.status == 200
    page = await resp.text()
    assert outcome["return_id"] in page and outcome["order_id"] in page
    assert all(str(escape(line["title"])) in page for line in outcome["items"])
    assert "Returns" in page  # the shop's returns address


def _first_return(shop) -> dict:
    """A return created on a seeded delivered order (the seed's customers and orders)."""
    from sqlalchemy import text

    with shop.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT o.order_ref, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE o.status = 'delivered' ORDER BY o.id")).all()
    for order_ref, email in rows:
        outcome = shop.request_return(order_ref, email, reason="too small")
        if outcome.ok:
            return outcome.data
    raise AssertionError("the seed has no returnable order")


def test_the_gateway_reads_return_numbers_as_the_shop_writes_them() -> None:
    from shop.sql.models import RETURN_ID_OFFSET as SHOPS

    assert RETURN_ID_OFFSET == SHOPS


def test_the_action_server_signs_the_shops_paths_and_leaves_full_urls(tmp_path) -> None:
    from actions.services import Services
    from common.links import is_signed
    from common.settings import get_settings

    services = Services(shop=object(), settings=get_settings(var_dir=tmp_path / "var"))
    signed = services.link("/invoices/INV-20427")
    parts = urlsplit(signed)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/invoices/INV-20427"
    assert is_signed(parts.path, query["expires"], query["sig"], key(tmp_path))
    assert services.link("https://shop.example/account/invoices/1.pdf") == "https://shop.example/account/invoices/1.pdf"
