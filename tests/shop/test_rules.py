"""The customer-service rules, asserted against a real database (SQLite; PostgreSQL too when
AISLE_TEST_POSTGRES_URL is set). Expected amounts are worked out by hand from the seed in conftest."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shop import CODES, Outcome, ShopData, normalise_order_id
from shop.sql.models import Order, OrderEvent, Refund, Return

from .conftest import TODAY

ADA, BEN = "ada.stone@example.com", "ben.ortiz@example.com"


def check(outcome: Outcome, code: str) -> dict:
    assert outcome.code in CODES, f"undeclared code {outcome.code}"
    assert outcome.code == code, outcome
    return outcome.data


def day(days_from_today: int) -> str:
    return (TODAY.date() + timedelta(days=days_from_today)).isoformat()


def order_row(shop: ShopData, ref: str) -> dict:
    with shop.session() as session:
        order = session.scalar(select(Order).where(Order.order_ref == ref))
        return {
            "status": order.status,
            "address": order.shipping_address.one_line(),
            "quantities": {i.product_id: i.quantity for i in order.items},
            "returned": {i.product_id: i.returned_quantity for i in order.items},
            "refunds": sorted((r.kind, r.amount_cents, r.status) for r in order.refunds),
            "returns": len(order.returns),
        }


def event_count(shop: ShopData) -> int:
    with shop.session() as session:
        return session.scalar(select(func.count()).select_from(OrderEvent))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ORD-10427", "ORD-10427"), ("ord 10427", "ORD-10427"), ("ord-10427", "ORD-10427"),
     ("#10427", "ORD-10427"), ("10427", "ORD-10427"), (" Order #10427 ", "ORD-10427"),
     ("ord10427", "ORD-10427"), ("ORD-1042", None), ("ORD-104270", None), ("hello", None), ("", None), (None, None)],
)  # fmt: skip
def test_order_ids_are_normalised(text, expected):
    assert normalise_order_id(text) == expected


class TestLookup:
    def test_verify_accepts_any_id_spelling_and_email_case(self, shop):
        data = check(shop.verify_order("ord 11003", "  ADA.Stone@Example.com "), "verified")
        assert data == {"order_id": "ORD-11003", "status": "shipped"}

    @pytest.mark.parametrize(
        ("order_id", "email", "code"),
        [("ORD-11003", BEN, "email_mismatch"), ("ORD-19999", ADA, "not_found"),
         ("my order", ADA, "invalid_order_id"), ("ORD-11003", "not-an-email", "invalid_email")],
    )  # fmt: skip
    def test_verify_failures(self, shop, order_id, email, code):
        outcome = shop.verify_order(order_id, email)
        assert not outcome.ok
        check(outcome, code)

    def test_failed_lookups_do_not_leak_order_details(self, shop):
        data = check(shop.order_status("ORD-11003", BEN), "email_mismatch")
        assert set(data) == {"order_id"}

    def test_status_of_a_shipped_order(self, shop):
        data = check(shop.order_status("#11003", ADA), "order_status")
        assert data["status"] == "shipped"
        assert (data["carrier"], data["tracking_number"]) == ("UPS", "1Z999")
        # shipped a day ago, standard delivery promises 5 days
        assert data["estimated_delivery"] == day(-1 + 5)
        assert data["total"] == 85.0 and data["items"][0]["product_id"] == "P00012"


class TestCancel:
    def test_pending_order_is_cancelled_and_fully_refunded(self, shop):
        data = check(shop.cancel_order("ORD-11001", ADA, reason="ordered twice"), "cancelled")
        # items 80 + 2 × 12.50 = 105, shipping 5, no fee
        assert data["refund_amount"] == 110.0 and data["fee"] == 0.0
        assert data["refund_expected_by"] == day(5)
        row = order_row(shop, "ORD-11001")
        assert row["status"] == "cancelled"
        assert row["refunds"] == [("cancellation", 11000, "pending")]
        assert [e["kind"] for e in shop.events("ORD-11001")] == ["order_cancelled"]
        assert shop.events("ORD-11001")[0]["detail"]["reason"] == "ordered twice"

    def test_processing_order_can_be_cancelled(self, shop):
        check(shop.cancel_order("ORD-11002", ADA), "cancelled")
        assert order_row(shop, "ORD-11002")["status"] == "cancelled"

    def test_cancelling_twice_is_refused(self, shop):
        check(shop.cancel_order("ORD-11001", ADA), "cancelled")
        check(shop.cancel_order("ORD-11001", ADA), "already_cancelled")
        assert len(order_row(shop, "ORD-11001")["refunds"]) == 1

    @pytest.mark.parametrize(
        ("ref", "email", "status"), [("ORD-11003", ADA, "shipped"), ("ORD-11004", BEN, "delivered")]
    )
    def test_shipped_or_delivered_order_cannot_be_cancelled(self, shop, ref, email, status):
        before = event_count(shop)
        data = check(shop.cancel_order(ref, email), "already_shipped")
        assert data["status"] == status
        assert order_row(shop, ref)["status"] == status
        assert event_count(shop) == before

    def test_wrong_email_cancels_nothing(self, shop):
        check(shop.cancel_order("ORD-11001", BEN), "email_mismatch")
        assert order_row(shop, "ORD-11001")["status"] == "pending"


class TestReturns:
    def test_return_inside_window_refunds_the_items(self, shop):
        data = check(
            shop.request_return("ORD-11004", BEN, reason="changed my mind"), "return_created"
        )
        # items only: shipping is kept when the fault is not ours
        assert data["refund_amount"] == 105.0
        assert data["shipping_refunded"] is False
        assert data["return_deadline"] == day(-10 + 30)
        assert data["refund_expected_by"] == day(10)
        assert data["return_id"].startswith("RET-") and data["refund_id"].startswith("RFD-")
        row = order_row(shop, "ORD-11004")
        assert row["status"] == "returned" and row["returns"] == 1
        assert row["refunds"] == [("return", 10500, "pending")]
        assert row["returned"] == {"P00012": 1, "P00041": 2}
        assert [e["kind"] for e in shop.events("ORD-11004")] == ["return_created"]

    def test_damaged_items_also_refund_shipping(self, shop):
        data = check(
            shop.request_return("ORD-11004", BEN, reason="The shoes arrived damaged"),
            "return_created",
        )
        assert data["refund_amount"] == 110.0 and data["shipping_refunded"] is True

    def test_partial_return_then_the_rest(self, shop):
        first = check(
            shop.request_return("ORD-11004", BEN, reason="defective", item_ids=["P00041"]),
            "return_created",
        )
        # 2 × 12.50; not the whole order, so no shipping even though defective
        assert first["refund_amount"] == 25.0
        assert order_row(shop, "ORD-11004")["status"] == "delivered"
        second = check(shop.request_return("ORD-11004", BEN, item_ids=[1]), "return_created")
        assert second["refund_amount"] == 80.0
        assert order_row(shop, "ORD-11004")["status"] == "returned"
        check(shop.request_return("ORD-11004", BEN), "already_returned")
        assert [e["kind"] for e in shop.events("ORD-11004")] == ["return_created", "return_created"]

    def test_unknown_item_is_refused(self, shop):
        check(shop.request_return("ORD-11004", BEN, item_ids=["P99999"]), "item_not_found")
        assert order_row(shop, "ORD-11004")["returns"] == 0

    def test_return_window_ends_30_days_after_delivery(self, shop, clock):
        clock.advance(days=20)  # delivered 30 days ago: last day of the window
        check(shop.request_return("ORD-11004", BEN, item_ids=["P00041"]), "return_created")
        clock.advance(days=1)  # day 31
        data = check(
            shop.request_return("ORD-11004", BEN, item_ids=["P00012"]), "outside_return_window"
        )
        assert data["days_since_delivery"] == 31 and data["window_days"] == 30

    def test_return_outside_window_is_refused_and_nothing_written(self, shop):
        before = event_count(shop)
        data = check(shop.request_return("ORD-11005", BEN), "outside_return_window")
        assert data["days_since_delivery"] == 45
        assert order_row(shop, "ORD-11005")["returns"] == 0
        assert event_count(shop) == before

    @pytest.mark.parametrize(
        ("ref", "email", "code"),
        [("ORD-11001", ADA, "not_delivered_yet"), ("ORD-11003", ADA, "not_delivered_yet"),
         ("ORD-11006", BEN, "already_cancelled"), ("ORD-11007", BEN, "already_returned")],
    )  # fmt: skip
    def test_return_refused_before_delivery_or_after_cancel(self, shop, ref, email, code):
        check(shop.request_return(ref, email), code)


class TestRefundStatus:
    def test_issued_refund_of_a_returned_order(self, shop):
        data = check(shop.refund_status("ORD-11007", BEN), "refund_found")
        assert data["latest"]["status"] == "issued" and data["latest"]["amount"] == 80.0
        assert data["latest"]["issued_at"] == day(-12)

    def test_no_refund_on_a_plain_order(self, shop):
        check(shop.refund_status("ORD-11003", ADA), "no_refund")

    def test_new_refund_shows_as_pending_then_overdue(self, shop, clock):
        check(shop.cancel_order("ORD-11002", ADA), "cancelled")
        latest = check(shop.refund_status("ORD-11002", ADA), "refund_found")["latest"]
        assert (latest["status"], latest["amount"], latest["overdue"]) == ("pending", 80.0, False)
        clock.advance(days=6)
        assert (
            check(shop.refund_status("ORD-11002", ADA), "refund_found")["latest"]["overdue"] is True
        )


class TestChanges:
    def test_address_change_before_shipping(self, shop):
        data = check(
            shop.change_shipping_address("ORD-11001", ADA, "40 Canal Street, Manchester M1 3HE"),
            "address_changed",
        )
        assert data["old_address"].startswith("12 Quay Road")
        assert (
            order_row(shop, "ORD-11001")["address"]
            == "40 Canal Street, Manchester M1 3HE, United Kingdom"
        )
        assert [e["kind"] for e in shop.events("ORD-11001")] == ["address_changed"]

    def test_structured_address(self, shop):
        address = {"line1": "1 Main St", "city": "Leeds", "postcode": "LS2 7AA"}
        check(shop.change_shipping_address("ORD-11002", ADA, address), "address_changed")
        assert (
            order_row(shop, "ORD-11002")["address"] == "1 Main St, Leeds, LS2 7AA, United Kingdom"
        )

    def test_address_change_blocked_after_shipping(self, shop):
        before = order_row(shop, "ORD-11003")["address"]
        check(
            shop.change_shipping_address("ORD-11003", ADA, "40 Canal Street, Manchester M1 3HE"),
            "address_locked",
        )
        assert order_row(shop, "ORD-11003")["address"] == before
        assert shop.events("ORD-11003") == []

    @pytest.mark.parametrize("address", ["", "home", "somewhere nice", {"line1": "1 Main St"}])
    def test_invalid_address(self, shop, address):
        check(shop.change_shipping_address("ORD-11001", ADA, address), "invalid_address")


class TestInvoices:
    def test_invoice_by_order(self, shop):
        data = check(shop.get_invoice("ORD-11001", ADA), "invoice")
        assert data["invoice_id"] == "INV-21001"
        assert (data["items_total"], data["shipping"], data["total"]) == (105.0, 5.0, 110.0)
        assert [line["line_total"] for line in data["lines"]] == [80.0, 25.0]
        assert data["url"] == "/invoices/INV-21001"


class TestCart:
    def test_cart_per_conversation(self, shop):
        check(shop.get_cart("conv-a"), "cart_empty")
        check(shop.add_to_cart("conv-a", "P00012", "Trail Shoes", 80.0), "added")
        data = check(shop.add_to_cart("conv-a", "P00012", "Trail Shoes", 80.0, quantity=2), "added")
        assert data["items"] == [
            {
                "product_id": "P00012",
                "title": "Trail Shoes",
                "size": None,
                "color": None,
                "price": 80.0,
                "quantity": 3,
                "line_total": 240.0,
            }
        ]
        check(shop.add_to_cart("conv-b", "P00041", "Wool Socks", 12.5), "added")
        assert check(shop.get_cart("conv-a"), "cart")["total"] == 240.0
        assert check(shop.get_cart("conv-b"), "cart")["item_count"] == 1
        kinds = [e["kind"] for e in shop.events(conversation_id="conv-a")]
        assert kinds == ["cart_item_added", "cart_item_added"]

    def test_a_size_and_colour_make_their_own_line(self, shop):
        check(shop.add_to_cart("conv-v", "P00012", "Trail Shoes", 80.0, size="9", color="black"), "added")
        check(shop.add_to_cart("conv-v", "P00012", "Trail Shoes", 80.0, size="10", color="black"), "added")
        data = check(shop.add_to_cart("conv-v", "P00012", "Trail Shoes", 80.0, size="9", color="black"),
                     "added")
        assert data["added"] == {"product_id": "P00012", "title": "Trail Shoes", "size": "9",
                                 "color": "black", "quantity": 2}
        lines = [(i["size"], i["color"], i["quantity"]) for i in check(shop.get_cart("conv-v"), "cart")["items"]]
        assert lines == [("9", "black", 2), ("10", "black", 1)]
        assert data["item_count"] == 3 and data["total"] == 240.0
        [first, *_] = shop.events(conversation_id="conv-v")
        assert (first["detail"]["size"], first["detail"]["color"]) == ("9", "black")

    @pytest.mark.parametrize("quantity", [0, -2, 100, 1.5])
    def test_bad_quantity(self, shop, quantity):
        check(
            shop.add_to_cart("conv-c", "P00012", "Trail Shoes", 80.0, quantity=quantity),
            "invalid_quantity",
        )
        check(shop.get_cart("conv-c"), "cart_empty")


def test_every_change_is_recorded(shop):
    """A session of successful and refused operations: one event per successful change, none otherwise."""
    operations = [
        (shop.cancel_order("ORD-11002", ADA), "order_cancelled"),
        (shop.cancel_order("ORD-11003", ADA), None),
        (
            shop.change_shipping_address("ORD-11001", ADA, "5 New Road, Leeds LS1 1AA"),
            "address_changed",
        ),
        (shop.change_shipping_address("ORD-11004", BEN, "5 New Road, Leeds LS1 1AA"), None),
        (shop.request_return("ORD-11004", BEN), "return_created"),
        (shop.request_return("ORD-11005", BEN), None),
        (shop.add_to_cart("conv-z", "P00012", "Trail Shoes", 80.0), "cart_item_added"),
    ]
    with shop.session() as session:
        events = session.scalars(select(OrderEvent).order_by(OrderEvent.id)).all()
        assert [e.kind for e in events] == [kind for outcome, kind in operations if kind]
        assert all(outcome.ok == bool(kind) for outcome, kind in operations)
        assert all(e.created_at.date() == TODAY.date() for e in events)
        # the seeded refunded order's return + the new one
        assert session.scalar(select(func.count()).select_from(Return)) == 1 + 1
        assert session.scalar(select(func.count()).select_from(Refund)) == 2 + 2  # 2 seeded + 2 new


def test_dates_are_relative_to_the_clock(shop):
    data = check(shop.order_status("ORD-11005", BEN), "order_status")
    assert data["delivered_at"] == (TODAY.date() - timedelta(days=45)).isoformat()
    assert date.fromisoformat(data["placed_at"]) < date.fromisoformat(data["delivered_at"])


class TestConcurrency:
    """Several action-server threads at once: no lost update, no double refund."""

    def test_concurrent_cart_adds_are_all_counted(self, shop):
        def add_five(worker: int) -> list[str]:
            return [
                shop.add_to_cart(f"conv-{worker % 3}", "P00012", "Trail Shoes", 80.0).code
                for _ in range(5)
            ]

        with ThreadPoolExecutor(6) as pool:
            codes = [code for codes in pool.map(add_five, range(6)) for code in codes]
        assert set(codes) == {"added"}
        for conversation in ("conv-0", "conv-1", "conv-2"):
            assert check(shop.get_cart(conversation), "cart")["item_count"] == 2 * 5
            assert len(shop.events(conversation_id=conversation)) == 2 * 5

    def test_concurrent_cancels_refund_once(self, shop):
        with ThreadPoolExecutor(4) as pool:
            codes = sorted(pool.map(lambda _: shop.cancel_order("ORD-11001", ADA).code, range(4)))
        assert codes == ["already_cancelled"] * 3 + ["cancelled"]
        assert order_row(shop, "ORD-11001")["refunds"] == [("cancellation", 11000, "pending")]
        assert [e["kind"] for e in shop.events("ORD-11001")] == ["order_cancelled"]
