"""Customer-service requests on one order, run after the order form has verified it.

A change (cancel, return, new address) is made only when the shopper said yes to the plan the
bot stated (``order_confirmed`` holds that plan's key, see ``actions.forms``); the plan is the
shop's own preview, so what is said is what is done. A "no" leaves the order as it is. A change
the shop refuses is explained with what the shopper can still do, never with an offer the bot
cannot keep.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity_values, latest_intent, off_loop
from actions.forms import (
    CHANGES,
    DECLINED,
    changed_item,
    is_locked,
    is_verified,
    new_quantity,
    order_lines,
    plan_key,
    preview,
    quantity_request_slots,
    request_of,
    request_text,
    say_quantity_refused,
    wants_quantity_change,
)
from actions.handoff import handoff
from actions.services import get_services
from common.dates import format_day
from common.money import format_money

if TYPE_CHECKING:
    from shop.backend import Outcome, ShopBackend

OPEN_STATUSES = ("pending", "processing")
# how payment methods read in a sentence ("back to your {method}")
_METHODS = {"visa": "Visa card", "mastercard": "Mastercard", "amex": "American Express card",
            "paypal": "PayPal account", "apple_pay": "Apple Pay", "google_pay": "Google Pay",
            "gift_card": "gift card", "discover": "Discover card", "card": "card"}  # fmt: skip
# slots that serve one request and are forgotten once it is answered
ONE_SHOT = ("order_request", "shipping_address", "return_items", "return_reason", "change_item",
            "new_quantity", "order_confirmed", "confirmation_key")  # fmt: skip

logger = logging.getLogger(__name__)


def method_text(method: str | None) -> str:
    return _METHODS.get(method or "", (method or "payment method").replace("_", " "))


def items_text(lines: list[dict[str, Any]]) -> str:
    """"2 × Merino Wool Training Tank and Tempo Knit Clog Slipper"."""
    names = [f"{line['quantity']} × {line['title']}" if line.get("quantity", 1) > 1 else line["title"]
             for line in lines]  # fmt: skip
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _money(data: dict[str, Any], key: str) -> str:
    return format_money(data.get(key), data.get("currency"))


def status_response(dispatcher: CollectingDispatcher, data: dict[str, Any]) -> None:
    fields = {
        "order_id": data.get("order_id"),
        "status": data.get("status"),
        "carrier": data.get("carrier") or "the carrier",
        "tracking": data.get("tracking_url") or data.get("tracking_number") or "n/a",
        "tracking_number": data.get("tracking_number") or "n/a",
        **{key: format_day(data.get(key)) for key in (
            "placed_at", "estimated_delivery", "shipped_at", "delivered_at")},
    }  # fmt: skip
    dispatcher.utter_message(response=f"utter_order_status_{data.get('status', 'pending')}", **fields)


def confirmation_message(dispatcher: CollectingDispatcher, request: str, outcome: Outcome) -> None:
    """What the change will do, in full, ending with the question."""
    data = outcome.data
    common = {"order_id": data.get("order_id"), "amount": _money(data, "refund_amount"),
              "method": method_text(data.get("refund_method")),
              "expected_by": format_day(data.get("refund_expected_by"))}  # fmt: skip
    if request == "cancel_order":
        dispatcher.utter_message(response="utter_confirm_cancel", items=items_text(data["items"]), **common)
    elif request == "get_refund":
        from shop.rules import RETURN_REFUND_DAYS

        response = "utter_confirm_return_with_shipping" if data.get("shipping_refunded") else "utter_confirm_return"
        dispatcher.utter_message(
            response=response, items=items_text(data["items"]), reason=data.get("reason") or "not given",
            ship_by=format_day(data.get("ship_by")), days=RETURN_REFUND_DAYS, **common,
        )  # fmt: skip
    elif request == "change_quantity":
        dispatcher.utter_message(response=_quantity_response("utter_confirm_quantity", data), **_quantity_fields(data))
    else:
        dispatcher.utter_message(
            response="utter_confirm_address", order_id=data.get("order_id"),
            address=data.get("new_address"), old_address=data.get("old_address"),
        )  # fmt: skip


def _quantity_response(stem: str, data: dict[str, Any]) -> str:
    """…_refund when fewer items are refunded, …_charge when more are charged."""
    return f"{stem}_refund" if data.get("refund_amount") else f"{stem}_charge"


def _quantity_fields(data: dict[str, Any]) -> dict[str, Any]:
    amount = data.get("refund_amount") or data.get("charge_amount")
    return {"order_id": data.get("order_id"), "title": (data.get("item") or {}).get("title"),
            "old": data.get("old_quantity"), "new": data.get("new_quantity"),
            "amount": format_money(amount, data.get("currency")), "method": method_text(data.get("refund_method")),
            "expected_by": format_day(data.get("refund_expected_by")), "total": _money(data, "new_total")}  # fmt: skip


def refusal(
    dispatcher: CollectingDispatcher, tracker: Tracker, request: str, outcome: Outcome | None
) -> list[EventType]:
    """Why the shop said no to a change, and what the shopper can still do (blocking)."""
    shop = get_services().shop
    order_id, email = tracker.get_slot("order_id"), tracker.get_slot("email")
    code = outcome.code if outcome else "not_found"
    data = outcome.data if outcome else {}
    if code in ("already_shipped", "not_delivered_yet", "address_locked", "already_returned",
                "already_cancelled"):  # fmt: skip
        status = shop.order_status(order_id, email).data
        eta = format_day(status.get("estimated_delivery"))
        tracking = status.get("tracking_url") or status.get("tracking_number") or "n/a"
        fields = {"order_id": order_id, "eta": eta, "tracking": tracking,
                  "carrier": status.get("carrier") or "the carrier"}  # fmt: skip
        if code == "already_cancelled":
            if request == "get_refund":
                return _refund(dispatcher, shop, order_id, email, lead="utter_refund_of_cancelled")
            dispatcher.utter_message(response="utter_order_already_cancelled", order_id=order_id)
        elif code == "already_returned":
            if request == "get_refund":
                return _refund(dispatcher, shop, order_id, email, lead="utter_return_exists")
            dispatcher.utter_message(response="utter_return_exists", order_id=order_id)
        elif status.get("status") in OPEN_STATUSES:  # a return before it even shipped
            amount = _money(status, "total")
            dispatcher.utter_message(response="utter_return_not_shipped", amount=amount, **fields)
        elif status.get("status") == "shipped":
            response = {"cancel_order": "utter_cancel_shipped", "change_shipping_address": "utter_address_locked",
                        "change_order": "utter_change_shipped", "change_quantity": "utter_change_shipped"}  # fmt: skip
            dispatcher.utter_message(response=response.get(request, "utter_not_delivered_yet"), **fields)
        else:  # delivered: a cancel or a new address is too late; a return may still be possible
            back = shop.request_return(order_id, email, preview=True)
            delivered = format_day(status.get("delivered_at"))
            if back.ok:
                dispatcher.utter_message(
                    response="utter_delivered_return_possible", delivered=delivered,
                    deadline=format_day(back.data.get("return_deadline")), **fields,
                )  # fmt: skip
            else:
                dispatcher.utter_message(response="utter_delivered_too_late", delivered=delivered, **fields)
        return []
    if code == "outside_return_window":
        dispatcher.utter_message(
            response="utter_outside_return_window", order_id=order_id, days=data.get("window_days"),
            delivered=format_day(data.get("delivered_at")), deadline=format_day(data.get("return_deadline")),
        )  # fmt: skip
        return [SlotSet("pending_offer", "handoff")]
    if code == "invalid_address":
        dispatcher.utter_message(response="utter_invalid_address")
    elif code == "item_not_found":
        response = "utter_change_item_unclear" if request == "change_quantity" else "utter_return_items_unclear"
        dispatcher.utter_message(response=response)
    elif code == "invalid_quantity":
        say_quantity_refused(dispatcher, data)
    else:
        dispatcher.utter_message(response="utter_service_unavailable")
    return []


def _change(
    dispatcher: CollectingDispatcher, tracker: Tracker, request: str, order_id: str, email: str
) -> list[EventType]:
    """Make the change the shopper said yes to, or leave the order as it is (blocking)."""
    plan = preview(tracker)
    if plan is None or not plan.ok:
        return refusal(dispatcher, tracker, request, plan)
    confirmed = tracker.get_slot("order_confirmed")
    if confirmed == DECLINED or confirmed != plan_key(request, plan):
        dispatcher.utter_message(response="utter_change_declined", order_id=order_id)
        return []
    shop, conversation = get_services().shop, tracker.sender_id
    if request == "cancel_order":
        outcome = shop.cancel_order(order_id, email, conversation_id=conversation)
    elif request == "get_refund":
        items = [i for i in tracker.get_slot("return_items") or [] if isinstance(i, int)]
        outcome = shop.request_return(
            order_id, email, reason=tracker.get_slot("return_reason"), item_ids=items or None,
            conversation_id=conversation,
        )  # fmt: skip
    elif request == "change_quantity":
        outcome = shop.change_quantity(order_id, email, changed_item(tracker), new_quantity(tracker),
                                       conversation_id=conversation)
    else:
        outcome = shop.change_shipping_address(
            order_id, email, tracker.get_slot("shipping_address") or "", conversation_id=conversation
        )
    if not outcome.ok:  # the order changed in between (another channel): say what is true now
        return refusal(dispatcher, tracker, request, outcome)
    data = outcome.data
    if request == "cancel_order":
        dispatcher.utter_message(
            response="utter_order_cancelled", order_id=order_id, amount=_money(data, "refund_amount"),
            method=method_text(data.get("refund_method")), expected_by=format_day(data.get("refund_expected_by")),
        )  # fmt: skip
    elif request == "get_refund":
        dispatcher.utter_message(
            response="utter_return_created", order_id=order_id, return_id=data.get("return_id"),
            amount=_money(data, "refund_amount"), method=method_text(data.get("refund_method")),
            label_url=get_services().link(data.get("return_label_url")), ship_by=format_day(data.get("ship_by")),
            expected_by=format_day(data.get("refund_expected_by")),
        )  # fmt: skip
    elif request == "change_quantity":
        dispatcher.utter_message(response=_quantity_response("utter_quantity_changed", data), **_quantity_fields(data))
    else:
        dispatcher.utter_message(response="utter_address_changed", order_id=order_id, address=data["new_address"])
    return []


def _refund(
    dispatcher: CollectingDispatcher, shop: ShopBackend, order_id: str, email: str, lead: str | None = None
) -> list[EventType]:
    outcome = shop.refund_status(order_id, email)
    if outcome.code == "no_refund":
        dispatcher.utter_message(response="utter_no_refund", order_id=order_id)
        return []
    if not outcome.ok:
        dispatcher.utter_message(response="utter_service_unavailable")
        return []
    if lead:
        dispatcher.utter_message(response=lead, order_id=order_id)
    latest = outcome.data["latest"]
    fields = {
        "order_id": order_id,
        "amount": format_money(latest.get("amount"), latest.get("currency")),
        "method": method_text(latest.get("method")),
        "expected_by": format_day(latest.get("expected_by")),
        "issued_at": format_day(latest.get("issued_at")),
    }
    if latest.get("status") == "issued":
        dispatcher.utter_message(response="utter_refund_issued", **fields)
    elif latest.get("overdue"):
        dispatcher.utter_message(response="utter_refund_overdue", **fields)
        return [SlotSet("pending_offer", "handoff")]
    else:
        dispatcher.utter_message(response="utter_refund_pending", **fields)
    return []


def _run_request(
    dispatcher: CollectingDispatcher, tracker: Tracker, request: str, order_id: str, email: str
) -> list[EventType]:
    """The blocking part (database calls), run in a worker thread."""
    shop = get_services().shop
    if request in CHANGES:
        return _change(dispatcher, tracker, request, order_id, email)
    if request == "track_refund":
        return _refund(dispatcher, shop, order_id, email)
    if request == "get_invoice":
        outcome = shop.get_invoice(order_id, email)
        if outcome.ok:
            data = outcome.data
            dispatcher.utter_message(
                response="utter_invoice",
                order_id=order_id,
                invoice_id=data["invoice_id"],
                total=format_money(data.get("total"), data.get("currency")),
                url=get_services().link(data["url"]),
            )
        else:
            dispatcher.utter_message(response="utter_service_unavailable")
        return []
    outcome = shop.order_status(order_id, email)
    if not outcome.ok:
        dispatcher.utter_message(response="utter_service_unavailable")
    elif request == "change_order":
        status = outcome.data["status"]
        if status in OPEN_STATUSES and wants_quantity(tracker):  # the form goes on for the numbers
            said = quantity_request_slots(tracker, order_id, email, request_text(tracker))
            return [SlotSet("order_request", "change_quantity"), *(SlotSet(k, v) for k, v in said.items()),
                    FollowupAction("order_form")]  # fmt: skip
        if status in OPEN_STATUSES:
            dispatcher.utter_message(response="utter_change_order_options", order_id=order_id, status=status)
        else:  # what can still be done, as for a cancellation the shop refuses
            from shop.backend import Outcome

            code = {"cancelled": "already_cancelled", "returned": "already_returned",
                    "refunded": "already_returned"}.get(status, "already_shipped")  # fmt: skip
            return refusal(dispatcher, tracker, request, Outcome(False, code, {"order_id": order_id}))
    else:
        status_response(dispatcher, outcome.data)
    return []


def wants_quantity(tracker: Tracker) -> bool:
    """A change_order about how many: said in words, or the "Change a quantity" button."""
    return "quantity" in entity_values(tracker, "order_change") or wants_quantity_change(request_text(tracker))


def forget_request() -> list[EventType]:
    return [SlotSet(slot, None) for slot in ONE_SHOT]


class ActionOrderRequest(Action):
    """Runs the request the order form was opened for (``order_request``) on the verified order."""

    def name(self) -> str:
        return "action_order_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if is_locked(tracker):
            dispatcher.utter_message(response="utter_order_actions_locked")
            return [*forget_request(), SlotSet("order_id", None), SlotSet("email", None),
                    SlotSet("verified_order_id", None), SlotSet("pending_offer", "handoff")]  # fmt: skip
        if not is_verified(tracker):
            dispatcher.utter_message(response="utter_anything_else")
            return forget_request()
        request = request_of(tracker)
        try:
            events = await off_loop(
                _run_request, dispatcher, tracker, request, tracker.get_slot("order_id"), tracker.get_slot("email")
            )
        except Exception:  # the shop database is down: say so; searches keep working
            logger.exception("order request %s failed", request)
            dispatcher.utter_message(response="utter_service_unavailable")
            return forget_request()
        if any(isinstance(e, dict) and e.get("event") == "followup" for e in events):
            return events  # the form asks on for this request (a quantity change)
        return [*forget_request(), *events]


class ActionStopOrderForm(Action):
    """The form ends before its request: "never mind", a human, another request or another
    subject. Nothing is changed; half-given details of an unverified order are forgotten."""

    def name(self) -> str:
        return "action_stop_order_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = latest_intent(tracker)
        pending = tracker.get_slot("requested_slot") in (
            "order_confirmed", "return_items", "return_reason", "shipping_address", "change_item",
            "new_quantity")  # fmt: skip
        if intent == "deny":
            dispatcher.utter_message(response="utter_order_form_stopped")
        elif pending and request_of(tracker) in CHANGES and intent not in (
            "contact_human_agent", *CHANGES, "track_order", "change_order", "track_refund",
            "get_invoice", "check_invoice",
        ):  # fmt: skip
            dispatcher.utter_message(response="utter_order_left_as_is", order_id=tracker.get_slot("order_id"))
        events: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if not is_verified(tracker):
            events += [SlotSet("order_id", None), SlotSet("email", None)]
        keep_request = intent in ("cancel_order", "change_order", "track_order", "change_shipping_address",
                                  "get_refund", "track_refund", "get_invoice", "check_invoice")  # fmt: skip
        return [*events, *(e for e in forget_request() if not (keep_request and e["name"] == "order_request"))]


class ActionAskReturnItems(Action):
    """Which of the order's items go back: each one still kept, also as a button."""

    def name(self) -> str:
        return "action_ask_return_items"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        outcome = await off_loop(
            get_services().shop.request_return, tracker.get_slot("order_id"), tracker.get_slot("email"),
            preview=True,
        )  # fmt: skip
        lines = outcome.data.get("returnable_items") or []
        listing = "; ".join(
            f"{number}. {line['title']}" + (f" (×{line['quantity']})" if line["quantity"] > 1 else "")
            for number, line in enumerate(lines, start=1)
        )
        dispatcher.utter_message(
            response="utter_ask_return_items", order_id=tracker.get_slot("order_id"), items=listing,
            buttons=[{"title": line["title"], "payload": line["title"]} for line in lines],
        )  # fmt: skip
        return []


class ActionAskChangeItem(Action):
    """Which of the order's items gets another quantity: each one, also as a button."""

    def name(self) -> str:
        return "action_ask_change_item"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lines = await off_loop(order_lines, tracker)
        listing = "; ".join(f"{number}. {line['quantity']} × {line['title']}"
                            for number, line in enumerate(lines, start=1))  # fmt: skip
        dispatcher.utter_message(
            response="utter_ask_change_item", order_id=tracker.get_slot("order_id"), items=listing,
            buttons=[{"title": line["title"], "payload": line["title"]} for line in lines],
        )  # fmt: skip
        return []


class ActionAskNewQuantity(Action):
    """How many of the chosen item the shopper wants in all, from the order's own count."""

    def name(self) -> str:
        return "action_ask_new_quantity"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lines = await off_loop(order_lines, tracker)
        item = changed_item(tracker)
        line = next((line for line in lines if line["line_no"] == item), lines[0] if len(lines) == 1 else None)
        dispatcher.utter_message(
            response="utter_ask_new_quantity", title=line["title"] if line else "that item",
            quantity=line["quantity"] if line else "?", order_id=tracker.get_slot("order_id"),
        )  # fmt: skip
        return []


class ActionAskOrderConfirmed(Action):
    """States exactly what the change will do (the shop's preview) and asks for a yes; the
    plan's key is kept, so only a yes to this very plan makes the change."""

    def name(self) -> str:
        return "action_ask_order_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        request = request_of(tracker)
        outcome = await off_loop(preview, tracker)
        if outcome is None or not outcome.ok:
            await off_loop(refusal, dispatcher, tracker, request, outcome)
            return [SlotSet("confirmation_key", None)]
        confirmation_message(dispatcher, request, outcome)
        return [SlotSet("confirmation_key", plan_key(request, outcome))]


def offer_is_fresh(tracker: Tracker) -> bool:
    """The offer was made in the bot's last reply: a yes answers only the question just asked."""
    seen_current = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_current:
                return False
            seen_current = True
        elif kind == "slot" and event.get("name") == "pending_offer" and seen_current:
            return event.get("value") is not None
    return False


class ActionConfirmOffer(Action):
    """Answers a yes/no to the offer just made (a human); a stale or missing offer is not
    taken up by a later yes."""

    def name(self) -> str:
        return "action_confirm_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        offer = tracker.get_slot("pending_offer") if offer_is_fresh(tracker) else None
        if latest_intent(tracker) == "affirm" and offer == "handoff":
            return handoff(dispatcher, tracker)
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending_offer", None)]
