"""Order form validation and order requests against a real SQLite shop seeded from data/shop."""

from __future__ import annotations

import re

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateOrderForm, plan_key, preview
from actions.orders import ActionConfirmOffer, ActionOrderRequest, ActionStopOrderForm
from common.money import format_money
from tests.actions.conftest import load_tracker, responses, slot_events


async def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


def order(shop, order_id, email):
    return shop.order_status(order_id, email).data


# ---- the form ----
async def test_unknown_order_is_asked_again(services, domain):
    dispatcher, events = await run(ValidateOrderForm(), load_tracker("form_order_id_unknown"), domain)
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert slot_events(events)["order_id"] is None


async def test_order_id_from_free_text_then_email_is_asked(services, domain):
    dispatcher, events = await run(ValidateOrderForm(), load_tracker("form_order_id_free_text"), domain)
    slots = slot_events(events)
    assert slots["order_id"] == "ORD-10427"
    assert responses(dispatcher) == []
    # Rasa asks the next required slot (email) itself: the default required slots are unchanged
    assert "requested_slot" not in slots


async def test_wrong_email_is_said_and_counted(services, domain):
    dispatcher, events = await run(ValidateOrderForm(), load_tracker("form_email_wrong"), domain)
    slots = slot_events(events)
    assert responses(dispatcher) == ["utter_email_mismatch"]
    assert slots["email"] is None and slots["verification_failures"] == 1


async def test_third_wrong_email_stops_the_form(services, domain):
    dispatcher, events = await run(ValidateOrderForm(), load_tracker("form_email_wrong_third"), domain)
    slots = slot_events(events)
    assert slots["verification_failures"] == 3
    assert slots["requested_slot"] is None  # no required slot left: the form ends
    dispatcher, events = await run(ActionOrderRequest(), load_tracker("request_unverified_after_failures"), domain)
    assert responses(dispatcher) == ["utter_order_actions_locked"]
    assert slot_events(events)["pending_offer"] == "handoff"


async def test_verified_address_change_asks_for_the_address(services, domain):
    dispatcher, events = await run(ValidateOrderForm(), load_tracker("form_email_right_address_change"), domain)
    slots = slot_events(events)
    assert slots["verified_order_id"] == "ORD-10409"
    assert slots["requested_slot"] == "shipping_address"


# ---- the requests ----
def confirmed(name: str, **slots):
    """The fixture's tracker after the shopper said yes to the change the shop would make."""
    tracker = load_tracker(name, **slots)
    plan = preview(tracker)
    return load_tracker(name, **slots, order_confirmed=plan_key(tracker.get_slot("order_request"), plan))


async def test_cancel_processing_order_is_written_after_a_yes(services, domain, shop):
    before = order(shop, "ORD-10401", "maya.tan@example.com")
    assert before["status"] == "processing"
    dispatcher, _ = await run(ActionOrderRequest(), confirmed("request_cancel_processing"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_cancelled"
    assert message["amount"] == format_money(before["total"])  # everything paid, no fee
    assert message["method"] == "American Express card" and message["expected_by"][0].isalpha()
    assert order(shop, "ORD-10401", "maya.tan@example.com")["status"] == "cancelled"
    [event] = shop.events("ORD-10401")
    assert event["conversation_id"] == "conv-test"


@pytest.mark.parametrize("said", [None, "declined", "cancel_order|ORD-10401|1||||1.0"])
async def test_no_change_without_a_yes_to_this_very_plan(services, domain, shop, said):
    """No yes, a no, or a yes to other terms (another amount): the order stays as it is."""
    tracker = load_tracker("request_cancel_processing", order_confirmed=said)
    dispatcher, _ = await run(ActionOrderRequest(), tracker, domain)
    assert responses(dispatcher) == ["utter_change_declined"]
    assert order(shop, "ORD-10401", "maya.tan@example.com")["status"] == "processing"
    assert shop.events("ORD-10401") == []


async def test_shipped_order_cannot_be_cancelled_and_nothing_is_offered(services, domain, shop):
    dispatcher, events = await run(ActionOrderRequest(), load_tracker("request_cancel_shipped"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_cancel_shipped"
    assert message["tracking"].startswith("https://tools.usps.com/")
    assert "pending_offer" not in slot_events(events), "no offer the bot cannot keep"
    assert order(shop, "ORD-10427", "maya.tan@example.com")["status"] == "shipped"


async def test_return_with_refund_amount(services, domain, shop):
    before = order(shop, "ORD-10405", "sofia.rossi@example.com")
    tracker = confirmed("request_return_damaged", return_reason="arrived damaged or faulty")
    dispatcher, _ = await run(ActionOrderRequest(), tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_return_created"
    # damaged: the items and the original shipping come back
    expected = round(before["items_total"] + before["shipping"], 2)
    assert message["amount"] == format_money(expected)
    assert message["label_url"].startswith("/returns/RET-") and message["ship_by"][0].isalpha()
    assert shop.refund_status("ORD-10405", "sofia.rossi@example.com").data["latest"]["amount"] == expected


async def test_return_outside_the_window(services, domain):
    dispatcher, events = await run(ActionOrderRequest(), load_tracker("request_return_too_late"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_outside_return_window" and message["days"] == 30
    assert slot_events(events)["pending_offer"] == "handoff"  # a colleague: an offer that is kept


async def test_refund_tracking_and_invoice(services, domain):
    dispatcher, _ = await run(ActionOrderRequest(), load_tracker("request_track_refund_issued"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_refund_issued"
    # ORD-10413 (data/shop): both items returned, 73.50 + 47.99, back to PayPal
    assert (message["order_id"], message["amount"], message["method"]) == ("ORD-10413", "$121.49", "PayPal account")
    dispatcher, _ = await run(ActionOrderRequest(), load_tracker("request_invoice"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_invoice" and message["invoice_id"] == "INV-20413"


async def test_address_change_is_written_or_refused(services, domain, shop):
    dispatcher, events = await run(ActionOrderRequest(), confirmed("request_address_change"), domain)
    assert responses(dispatcher) == ["utter_address_changed"]
    assert "12 Baker Street" in order(shop, "ORD-10409", "hannah.fischer@example.com")["shipping_address"]
    assert slot_events(events)["shipping_address"] is None  # asked again next time
    locked_before = order(shop, "ORD-10415", "yuki.sato@example.com")["shipping_address"]
    dispatcher, _ = await run(ActionOrderRequest(), load_tracker("request_address_locked"), domain)
    assert responses(dispatcher) == ["utter_address_locked"]  # shipped: too late to change
    assert order(shop, "ORD-10415", "yuki.sato@example.com")["shipping_address"] == locked_before
    assert "Elm Road" not in locked_before


async def test_status_of_a_shipped_order(services, domain):
    dispatcher, _ = await run(ActionOrderRequest(), load_tracker("request_track_shipped"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_order_status_shipped"
    # ORD-10427 in data/shop: shipped with USPS, this tracking number, not delivered yet
    assert (message["order_id"], message["carrier"], message["tracking_number"]) == (
        "ORD-10427", "USPS", "94001003871701")
    assert message["tracking"] == "https://tools.usps.com/go/TrackConfirmAction?tLabels=94001003871701"
    assert message["delivered_at"] == "?" and re.fullmatch(r"[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+( \d{4})?",
                                                           message["shipped_at"])


async def test_a_yes_answers_only_the_offer_just_made(services, domain, shop):
    """The old "shall I start a return?" offer on a shipped order is gone; a yes with no fresh
    offer behind it does nothing to any order."""
    assert shop.refund_status("ORD-10405", "sofia.rossi@example.com").code == "no_refund"
    dispatcher, events = await run(ActionConfirmOffer(), load_tracker("confirm_return_yes"), domain)
    assert responses(dispatcher) == ["utter_anything_else"]
    assert slot_events(events)["pending_offer"] is None
    assert shop.refund_status("ORD-10405", "sofia.rossi@example.com").code == "no_refund"


async def test_no_to_an_offer(services, domain):
    tracker = load_tracker("confirm_return_yes")
    tracker.latest_message["intent"] = {"name": "deny"}
    dispatcher, _ = await run(ActionConfirmOffer(), tracker, domain)
    assert responses(dispatcher) == ["utter_anything_else"]


async def test_stopping_the_form_forgets_unverified_details(services, domain):
    tracker = load_tracker("form_email_wrong")
    tracker.latest_message["intent"] = {"name": "deny"}  # "never mind"
    dispatcher, events = await run(ActionStopOrderForm(), tracker, domain)
    assert responses(dispatcher) == ["utter_order_form_stopped"]
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert slot_events(events)["order_id"] is None
