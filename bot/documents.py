"""The demo shop's document pages: an order's invoice and a return's prepaid label, printable.

The bot gives these as signed links (``common.links``): a page is served only for a valid,
unexpired signature of its own path, so a link opens from the chat without a login and no other
number can be tried. The gateway may not import ``shop`` (docs/architecture.md §4), so the
documents are read with plain SQL over ``AISLE_SHOP_DB_URL``, read only, as ``bot.shop_activity``
reads the audit log. A real shop's connector gives its own document URLs; those are not signed
here and never reach these routes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot import keys
from bot.errors import ApiError
from bot.shop_activity import ShopReader
from common.dates import format_day
from common.links import is_signed, link_key
from common.money import format_money

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

# RET-30008 is the return with id 8 (shop.sql.models.RETURN_ID_OFFSET; a test keeps them equal)
RETURN_ID_OFFSET = 30000
# where a demo return goes (a real shop's connector links to its own labels)
RETURNS_ADDRESS = ("Aisle demo shop — Returns", "1 Warehouse Way", "Portland, OR 97201", "United States")

ORDER = (
    "SELECT o.id, o.order_ref, o.currency, o.shipping_cents, o.payment_method, o.carrier, "
    "c.name, a.line1, a.line2, a.city, a.postcode, a.country FROM orders o "
    "JOIN customers c ON c.id = o.customer_id JOIN addresses a ON a.id = o.shipping_address_id "
)
INVOICE = text(
    ORDER.replace("SELECT ", "SELECT i.invoice_ref, i.issued_at, ", 1)
    + "JOIN invoices i ON i.order_id = o.id WHERE i.invoice_ref = :ref"
)
LINES = text("SELECT line_no, title, unit_cents, quantity FROM order_items WHERE order_id = :id "
             "ORDER BY line_no")
RETURN = text(
    ORDER.replace("SELECT ", "SELECT r.lines, r.created_at, r.status AS return_status, ", 1)
    + "JOIN returns r ON r.order_id = o.id WHERE r.id = :id"
)


class ShopDocuments(ShopReader):
    """Read-only reads of the documents."""

    @staticmethod
    def _address(row: Any) -> list[str]:
        return [part for part in (row.name, row.line1, row.line2, row.city, row.postcode, row.country) if part]

    def invoice(self, ref: str) -> dict[str, Any] | None:
        with self._connect() as conn:
            row = conn.execute(INVOICE, {"ref": ref}).first()
            if row is None:
                return None
            lines = list(conn.execute(LINES, {"id": row.id}))

        def money(cents: int) -> str:
            return format_money(cents / 100, row.currency, cents=True)

        items_cents = sum(line.unit_cents * line.quantity for line in lines)
        return {
            "title": f"Invoice {row.invoice_ref}", "invoice_id": row.invoice_ref, "order_id": row.order_ref,
            "issued": format_day(row.issued_at), "address": self._address(row),
            "lines": [{"title": line.title, "quantity": line.quantity, "unit": money(line.unit_cents),
                       "total": money(line.unit_cents * line.quantity)} for line in lines],
            "items_total": money(items_cents), "shipping": money(row.shipping_cents),
            "total": money(items_cents + row.shipping_cents),
        }  # fmt: skip

    def return_label(self, ref: str) -> dict[str, Any] | None:
        number = ref.removeprefix("RET-")
        if not number.isdigit() or int(number) <= RETURN_ID_OFFSET:
            return None
        with self._connect() as conn:
            row = conn.execute(RETURN, {"id": int(number) - RETURN_ID_OFFSET}).first()
        if row is None:
            return None
        lines = row.lines if isinstance(row.lines, list) else json.loads(row.lines or "[]")
        return {
            "title": f"Prepaid return label {ref}", "return_id": ref, "order_id": row.order_ref,
            "created": format_day(row.created_at), "carrier": row.carrier or "any carrier",
            "sender": self._address(row), "recipient": list(RETURNS_ADDRESS),
            "lines": [{"title": line.get("title"), "quantity": line.get("quantity", 1)} for line in lines],
        }  # fmt: skip


DOCUMENTS: web.AppKey[ShopDocuments] = web.AppKey("documents")  # set by bot.app's service_ctx


def _check(request: web.Request) -> None:
    settings = request.app[keys.SETTINGS]
    key = link_key(settings.link_secret, settings.var_dir)
    if not is_signed(request.path, request.query.get("expires"), request.query.get("sig"), key):
        raise ApiError(403, "This link is not valid any more. Ask the assistant for a new one.")


async def _page(request: web.Request, read: str, template: str) -> web.Response:
    _check(request)
    documents = request.app[DOCUMENTS]
    try:
        found = await asyncio.to_thread(getattr(documents, read), request.match_info["ref"])
    except SQLAlchemyError as exc:
        log.warning("shop documents unavailable: %s", type(exc).__name__)
        raise ApiError(503, "The shop's records can't be reached right now. Please try again in a minute.") from None
    if found is None:
        raise ApiError(404, "No such document.")
    response = aiohttp_jinja2.render_template(template, request, found)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the signed link stays out of logs elsewhere
    return response


@routes.get("/invoices/{ref}")
async def invoice_page(request: web.Request) -> web.Response:
    return await _page(request, "invoice", "invoice.html")


@routes.get("/returns/{ref}/label")
async def label_page(request: web.Request) -> web.Response:
    return await _page(request, "return_label", "label.html")
