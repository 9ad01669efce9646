"""Customer-service requests on one order, run after the order form has verified it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, off_loop
from actions.forms import MAX_EMAIL_FAILURES, is_verified
from actions.handoff import handoff
from actions.services import get_services
from common.money import format_money

if TYPE_CHECKING:
    from shop.backend import ShopBackend

OPEN_STATUSES = ("pending", "processing")

logger = logging.getLogger(__name__)


def _status_response(dispatcher: CollectingDispatcher, data: dict[str, Any]) -> None:
    fields = {k: data.get(k) or "n/a" for k in (
        "order_id", "status", "estimated_delivery", "shipped_at", "delivered_at", "carrier", "tracking_number")}  # fmt: skip
    dispatcher.utter_message(response=f"utter_order_status_{data.get('status', 'pending')}", **fields)


def _cancel(dispatcher: CollectingDispatcher, shop: ShopBackend, order_id: str, email: str) -> list[EventType]:
    outcome = shop.cancel_order(order_id, email)
    data = outcome.data
    if outcome.code == "cancelled":
        dispatcher.utter_message(response="utter_order_cancelled", order_id=order_id, amount=format_money(data.get("refund_amount"), data.get("currency")))
    elif outcome.code == "already_cancelled":
        dispatcher.utter_message(response="utter_order_already_cancelled", order_id=order_id)
    elif outcome.code == "already_shipped":
        dispatcher.utter_message(response="utter_cancel_shipped_offer_return", order_id=order_id)
        return [SlotSet("pending_offer", "return")]
    elif outcome.code == "already_returned":
        dispatcher.utter_message(response="utter_return_exists", order_id=order_id)
    else:
        dispatcher.utter_message(response="utter_service_unavailable")
    return []


def start_return(
    dispatcher: CollectingDispatcher, shop: ShopBackend, order_id: str, email: str, reason: str | None
) -> list[EventType]:
    outcome = shop.request_return(order_id, email, reason=reason)
    data = outcome.data
    if outcome.code == "return_created":
        dispatcher.utter_message(
            response="utter_return_created",
            order_id=order_id,
            return_id=data.get("return_id"),
            amount=format_money(data.get("refund_amount"), data.get("currency")),
        )
    elif outcome.code == "not_delivered_yet":
        dispatcher.utter_message(response="utter_not_delivered_yet", order_id=order_id)
    elif outcome.code == "outside_return_window":
        dispatcher.utter_message(response="utter_outside_return_window", order_id=order_id, days=data.get("window_days"))
    elif outcome.code == "already_returned":
        dispatcher.utter_message(response="utter_return_exists", order_id=order_id)
    elif outcome.code == "already_cancelled":
        dispatcher.utter_message(response="utter_order_status_cancelled", order_id=order_id)
    else:
        dispatcher.utter_message(response="utter_service_unavailable")
    return []


def _refund(dispatcher: CollectingDispatcher, shop: ShopBackend, order_id: str, email: str) -> list[EventType]:
    outcome = shop.refund_status(order_id, email)
    if outcome.code == "no_refund":
        dispatcher.utter_message(response="utter_no_refund", order_id=order_id)
        return []
    if not outcome.ok:
        dispatcher.utter_message(response="utter_service_unavailable")
        return []
    latest = outcome.data["latest"]
    fields = {
        "order_id": order_id,
        "amount": format_money(latest.get("amount"), latest.get("currency")),
        "method": (latest.get("method") or "payment method").replace("_", " "),
        "expected_by": latest.get("expected_by") or "n/a",
        "issued_at": latest.get("issued_at") or "n/a",
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
    if request == "cancel_order":
        return _cancel(dispatcher, shop, order_id, email)
    if request == "get_refund":
        return start_return(dispatcher, shop, order_id, email, tracker.get_slot("return_reason"))
    if request == "track_refund":
        return _refund(dispatcher, shop, order_id, email)
    if request == "change_shipping_address":
        outcome = shop.change_shipping_address(order_id, email, tracker.get_slot("shipping_address") or "")
        if outcome.code == "address_changed":
            dispatcher.utter_message(
                response="utter_address_changed", order_id=order_id, address=outcome.data["new_address"]
            )
        elif outcome.code == "address_locked":
            dispatcher.utter_message(response="utter_address_locked", order_id=order_id)
        else:
            dispatcher.utter_message(response="utter_invalid_address")
        return []
    if request == "get_invoice":
        outcome = shop.get_invoice(order_id, email)
        if outcome.ok:
            data = outcome.data
            dispatcher.utter_message(
                response="utter_invoice",
                order_id=order_id,
                invoice_id=data["invoice_id"],
                total=format_money(data.get("total"), data.get("currency")),
                url=data["url"],
            )
        else:
            dispatcher.utter_message(response="utter_service_unavailable")
        return []
    outcome = shop.order_status(order_id, email)
    if not outcome.ok:
        dispatcher.utter_message(response="utter_service_unavailable")
    elif request == "change_order":
        status = outcome.data["status"]
        response = "utter_change_order_options" if status in OPEN_STATUSES else "utter_order_locked"
        dispatcher.utter_message(response=response, order_id=order_id, status=status)
    else:
        _status_response(dispatcher, outcome.data)
    return []


class ActionOrderRequest(Action):
    """Runs the request the order form was opened for (``order_request``) on the verified order."""

    def name(self) -> str:
        return "action_order_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        one_shot = [SlotSet("shipping_address", None), SlotSet("return_reason", None)]
        if not is_verified(tracker):
            if (tracker.get_slot("verification_failures") or 0) >= MAX_EMAIL_FAILURES:
                dispatcher.utter_message(response="utter_verification_failed")
                return [
                    *one_shot,
                    SlotSet("verification_failures", 0),
                    SlotSet("order_id", None),
                    SlotSet("email", None),
                    SlotSet("pending_offer", "handoff"),
                ]
            dispatcher.utter_message(response="utter_anything_else")
            return one_shot
        request = tracker.get_slot("order_request") or "track_order"
        try:
            events = await off_loop(
                _run_request, dispatcher, tracker, request, tracker.get_slot("order_id"), tracker.get_slot("email")
            )
        except Exception:  # the shop database is down: say so; searches keep working
            logger.exception("order request %s failed", request)
            dispatcher.utter_message(response="utter_service_unavailable")
            return one_shot
        return [*one_shot, *events]


class ActionStopOrderForm(Action):
    """The shopper gave up on the form ("never mind"): close it and forget the half-given details."""

    def name(self) -> str:
        return "action_stop_order_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_order_form_stopped")
        events: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None)]
        if not is_verified(tracker):
            events += [SlotSet("order_id", None), SlotSet("email", None)]
        return [*events, SlotSet("shipping_address", None), SlotSet("return_reason", None),
                SlotSet("verification_failures", 0)]  # fmt: skip


class ActionConfirmOffer(Action):
    """Answers a yes/no to the last offer: a return (after "can't cancel, shipped") or a human."""

    def name(self) -> str:
        return "action_confirm_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        offer = tracker.get_slot("pending_offer")
        said_yes = latest_intent(tracker) == "affirm"
        if said_yes and offer == "handoff":
            return handoff(dispatcher, tracker)
        if said_yes and offer == "return" and is_verified(tracker):
            events = await off_loop(
                start_return, dispatcher, get_services().shop, tracker.get_slot("order_id"),
                tracker.get_slot("email"), None,
            )  # fmt: skip
            return [SlotSet("pending_offer", None), *events]
        if offer == "return":
            dispatcher.utter_message(response="utter_return_declined")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending_offer", None)]
