"""The four changes a shopper can ask for (cancel, return, new address, quantity), table-driven against a
real database: the state before and after, a preview that changes nothing and says exactly what
the change then does, refusals that change nothing, and the conversation in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from shop import CODES, ShopData
from shop.rules import classify_return_reason, tracking_url
from shop.sql.models import OrderEvent

from .conftest import TODAY
from .test_rules import ADA, BEN, day, order_row

NEW_ADDRESS = "40 Canal Street, Manchester M1 3HE"
IDS = ("refund_id", "return_id", "return_label_url", "preview")


def state(shop: ShopData, ref: str) -> dict[str, Any]:
    with shop.session() as session:
        events = session.scalar(select(func.count()).select_from(OrderEvent))
    return {**order_row(shop, ref), "events": events}


def change(shop: ShopData, kind: str, ref: str, email: str, **extra: Any):
    if kind == "cancel":
        return lambda **kw: shop.cancel_order(ref, email, **extra, **kw)
    if kind == "return":
        return lambda **kw: shop.request_return(ref, email, **extra, **kw)
    if kind == "quantity":
        return lambda **kw: shop.change_quantity(ref, email, extra["item"], extra["quantity"], **kw)
    return lambda **kw: shop.change_shipping_address(ref, email, extra.get("address", NEW_ADDRESS), **kw)


# kind, order, email, extra arguments, outcome code, what changes in the order's row when done
ALLOWED = [
    ("cancel", "ORD-11001", ADA, {}, "cancelled",
     {"status": "cancelled", "refunds": [("cancellation", 11000, "pending")]}),
    ("cancel", "ORD-11002", ADA, {"reason": "ordered twice"}, "cancelled",
     {"status": "cancelled", "refunds": [("cancellation", 8000, "pending")]}),
    ("return", "ORD-11004", BEN, {"reason": "doesn't fit"}, "return_created",
     {"status": "returned", "returns": 1, "returned": {"P00012": 1, "P00041": 2},
      "refunds": [("return", 10500, "pending")]}),
    ("return", "ORD-11004", BEN, {"reason": "arrived damaged or faulty"}, "return_created",
     {"status": "returned", "returns": 1, "returned": {"P00012": 1, "P00041": 2},
      "refunds": [("return", 11000, "pending")]}),  # shop's fault, everything back: + shipping
    ("return", "ORD-11004", BEN, {"reason": "arrived damaged or faulty", "item_ids": [2]}, "return_created",
     {"returns": 1, "returned": {"P00012": 0, "P00041": 2}, "refunds": [("return", 2500, "pending")]}),
    ("address", "ORD-11001", ADA, {}, "address_changed",
     {"address": f"{NEW_ADDRESS}, United Kingdom"}),
    # ORD-11001: 1 × shoes at 80, 2 × socks at 12.50; fewer are refunded, more are charged
    ("quantity", "ORD-11001", ADA, {"item": 2, "quantity": 1}, "quantity_changed",
     {"quantities": {"P00012": 1, "P00041": 1}, "refunds": [("adjustment", 1250, "pending")]}),
    ("quantity", "ORD-11001", ADA, {"item": "P00012", "quantity": 3}, "quantity_changed",
     {"quantities": {"P00012": 3, "P00041": 2}}),
    ("quantity", "ORD-11001", ADA, {"item": 2, "quantity": 0}, "quantity_changed",
     {"quantities": {"P00012": 1}, "returned": {"P00012": 0}, "refunds": [("adjustment", 2500, "pending")]}),
    ("quantity", "ORD-11002", ADA, {"item": None, "quantity": 2}, "quantity_changed",
     {"quantities": {"P00012": 2}}),  # the order's only item
]  # fmt: skip

REFUSED = [
    ("cancel", "ORD-11003", ADA, {}, "already_shipped"),
    ("cancel", "ORD-11004", BEN, {}, "already_shipped"),
    ("cancel", "ORD-11006", BEN, {}, "already_cancelled"),
    ("cancel", "ORD-11007", BEN, {}, "already_returned"),
    ("cancel", "ORD-11001", BEN, {}, "email_mismatch"),
    ("return", "ORD-11001", ADA, {}, "not_delivered_yet"),
    ("return", "ORD-11003", ADA, {}, "not_delivered_yet"),
    ("return", "ORD-11005", BEN, {}, "outside_return_window"),
    ("return", "ORD-11006", BEN, {}, "already_cancelled"),
    ("return", "ORD-11007", BEN, {}, "already_returned"),
    ("return", "ORD-11004", BEN, {"item_ids": ["P99999"]}, "item_not_found"),
    ("return", "ORD-11004", ADA, {}, "email_mismatch"),
    ("address", "ORD-11003", ADA, {}, "address_locked"),
    ("address", "ORD-11001", ADA, {"address": "home"}, "invalid_address"),
    ("address", "ORD-19999", ADA, {}, "not_found"),
    ("quantity", "ORD-11003", ADA, {"item": 1, "quantity": 2}, "already_shipped"),
    ("quantity", "ORD-11006", BEN, {"item": 1, "quantity": 2}, "already_cancelled"),
    ("quantity", "ORD-11007", BEN, {"item": 1, "quantity": 2}, "already_returned"),
    ("quantity", "ORD-11001", ADA, {"item": 9, "quantity": 1}, "item_not_found"),
    ("quantity", "ORD-11001", ADA, {"item": None, "quantity": 1}, "item_not_found"),  # which one?
    ("quantity", "ORD-11001", ADA, {"item": 1, "quantity": 1}, "invalid_quantity"),  # as it is
    ("quantity", "ORD-11001", ADA, {"item": 1, "quantity": 100}, "invalid_quantity"),
    ("quantity", "ORD-11002", ADA, {"item": 1, "quantity": 0}, "invalid_quantity"),  # that's a cancel
    ("quantity", "ORD-11001", BEN, {"item": 1, "quantity": 2}, "email_mismatch"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "ref", "email", "extra", "code", "after"), ALLOWED)
def test_preview_changes_nothing_and_says_what_the_change_does(shop, kind, ref, email, extra, code, after):
    before = state(shop, ref)
    run = change(shop, kind, ref, email, **extra)
    preview = run(preview=True)
    assert (preview.ok, preview.code, preview.data["preview"]) == (True, code, True)
    assert not set(IDS[:-1]) & set(preview.data), "a preview creates no refund, return or label"
    assert state(shop, ref) == before, "a preview writes nothing"
    assert run(preview=True).data == preview.data, "asking twice gives the same answer"

    done = run(conversation_id="conv-7")
    assert (done.ok, done.code) == (True, code)
    stated = {k: v for k, v in preview.data.items() if k not in IDS and k != "status"}
    assert {k: done.data[k] for k in stated} == stated, "the change is exactly what was stated"
    expected = {**before, **after, "events": before["events"] + 1}
    assert state(shop, ref) == expected
    [event] = shop.events(ref)
    assert event["conversation_id"] == "conv-7"
    assert shop.events(conversation_id="conv-7") == [event]


@pytest.mark.parametrize(("kind", "ref", "email", "extra", "code"), REFUSED)
@pytest.mark.parametrize("preview", [True, False])
def test_refusals_change_nothing(shop, kind, ref, email, extra, code, preview):
    assert code in CODES
    before = state(shop, ref) if ref != "ORD-19999" else None
    outcome = change(shop, kind, ref, email, **extra)(preview=preview, conversation_id="conv-8")
    assert (outcome.ok, outcome.code) == (False, code)
    if before is not None:
        assert state(shop, ref) == before
    assert shop.events(conversation_id="conv-8") == []


def test_preview_of_the_rest_after_a_partial_return(shop):
    shop.request_return("ORD-11004", BEN, item_ids=["P00041"])
    preview = shop.request_return("ORD-11004", BEN, preview=True)
    assert [line["product_id"] for line in preview.data["returnable_items"]] == ["P00012"]
    assert [line["product_id"] for line in preview.data["items"]] == ["P00012"]
    assert preview.data["refund_amount"] == 80.0


def test_return_terms(shop):
    data = shop.request_return("ORD-11004", BEN, reason="changed my mind", preview=True).data
    # delivered 10 days ago: the window closes on day 30; the label is good for 14 days
    assert data["return_deadline"] == day(20) and data["ship_by"] == day(14)
    assert data["refund_expected_by"] == day(10) and data["refund_method"] == "visa"
    assert [line["title"] for line in data["returnable_items"]] == ["Trail Shoes", "Wool Socks"]
    assert TODAY.date().isoformat() == day(0)


def test_the_tracking_link_is_the_carriers(shop):
    data = shop.order_status("ORD-11003", ADA).data
    assert data["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999"
    assert tracking_url("USPS", "9400 1003") == "https://tools.usps.com/go/TrackConfirmAction?tLabels=94001003"
    assert tracking_url("Pigeon Post", "1") is None and tracking_url("UPS", None) is None


@pytest.mark.parametrize(("text", "label"), [
    ("it doesn't fit", "doesn't fit"), ("too small", "doesn't fit"), ("Doesn’t fit", "doesn't fit"),
    ("the zip broke after a day", "arrived damaged or faulty"), ("it arrived damaged", "arrived damaged or faulty"),
    ("you sent the wrong size", "wrong item sent"), ("not as described", "not as described"),
    ("I changed my mind", "changed my mind"), ("other", "other"),
    ("can I speak to a manager?", None), ("how long do refunds take?", None), ("", None),
])  # fmt: skip
def test_return_reasons_from_free_text(text, label):
    assert classify_return_reason(text) == label


def test_a_quantity_change_states_the_money_and_the_invoice_follows(shop):
    preview = shop.change_quantity("ORD-11001", ADA, 2, 1, preview=True).data
    assert (preview["old_quantity"], preview["new_quantity"], preview["refund_amount"]) == (2, 1, 12.5)
    assert preview["charge_amount"] is None and preview["new_total"] == 97.5
    assert preview["refund_method"] == "visa" and preview["refund_expected_by"] == day(5)
    more = shop.change_quantity("ORD-11001", ADA, 1, 2, preview=True).data
    assert (more["charge_amount"], more["refund_amount"], more["new_total"]) == (80.0, None, 190.0)
    shop.change_quantity("ORD-11001", ADA, 2, 1)
    assert shop.get_invoice("ORD-11001", ADA).data["total"] == 97.5
    assert shop.refund_status("ORD-11001", ADA).data["latest"]["amount"] == 12.5
