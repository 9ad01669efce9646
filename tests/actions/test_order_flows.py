"""Whole customer-service conversations against the SQL shop seeded from data/shop, table-driven:
what the bot answers at each turn, and each order's state before and after — unchanged after a
"no", an abort or a change of subject. Rasa around the actions is ``tests/actions/dialogue.py``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.actions.dialogue import Dialogue

MAYA, SOFIA, AISHA, YUKI = "maya.tan@example.com", "sofia.rossi@example.com", "aisha.khan@example.com", "yuki.sato@example.com"  # fmt: skip
OWNERS = {"ORD-10401": MAYA, "ORD-10427": MAYA, "ORD-10405": SOFIA, "ORD-10455": SOFIA,
          "ORD-10407": AISHA, "ORD-10415": YUKI, "ORD-10409": "hannah.fischer@example.com",
          "ORD-10450": "marcus.reid@example.com", "ORD-10402": "liam.walker@example.com",
          "ORD-10439": "daniel.kim@example.com", "ORD-10408": "lucas.silva@example.com"}  # fmt: skip
LUCAS = OWNERS["ORD-10408"]
DAY = re.compile(r"^[A-Z][a-z]+day,? \d{1,2} [A-Z][a-z]+( \d{4})?$")  # the shop's locale (en_GB)


def snapshot(shop: Any, order_id: str) -> dict[str, Any]:
    data = shop.order_status(order_id, OWNERS[order_id]).data
    refunds = shop.refund_status(order_id, OWNERS[order_id])
    return {"status": data["status"], "address": data["shipping_address"],
            "returned": [line["returned_quantity"] for line in data["items"]],
            "quantities": [line["quantity"] for line in data["items"]],
            "refunds": len(refunds.data.get("refunds", [])), "events": len(shop.events(order_id))}  # fmt: skip


QUANTITY_BUTTON = ('/change_order{"order_change": "quantity"}', "change_order",
                   [{"entity": "order_change", "value": "quantity"}])


async def talk(domain: dict, turns: list[tuple], sender: str = "conv-flow") -> Dialogue:
    """Each turn: (text, intent) or (text, intent, entities of a button's payload)."""
    dialogue = Dialogue(domain, sender)
    for text, intent, *entities in turns:
        await dialogue.say(text, intent, *entities)
    return dialogue


CANCEL_10401 = [("I want to cancel my order", "cancel_order"), ("ORD-10401", "inform"), (MAYA, "inform")]
RETURN_10405 = [("I want to return order ORD-10405", "get_refund"), (SOFIA, "inform")]

# name, the conversation, the responses of each turn, the orders changed, their new status
FLOWS = [
    ("cancel: happy path", [*CANCEL_10401, ("yes please", "affirm")],
     [["utter_ask_order_id"], ["utter_ask_email"], ["utter_confirm_cancel"], ["utter_order_cancelled"]],
     {"ORD-10401": "cancelled"}),
    ("cancel: the shopper says no", [*CANCEL_10401, ("no, keep it", "deny")],
     [["utter_ask_order_id"], ["utter_ask_email"], ["utter_confirm_cancel"], ["utter_change_declined"]], {}),
    ("cancel: a change of subject, then a late yes",
     [*CANCEL_10401, ("actually show me some earbuds", "search_product"), ("yes", "affirm")],
     [["utter_ask_order_id"], ["utter_ask_email"], ["utter_confirm_cancel"], ["utter_order_left_as_is"],
      ["utter_anything_else"]], {}),
    ("cancel: never mind before the e-mail", [CANCEL_10401[0], CANCEL_10401[1], ("never mind", "deny")],
     [["utter_ask_order_id"], ["utter_ask_email"], ["utter_order_form_stopped"]], {}),
    ("cancel: a hedged yes is asked again, then a clear one",
     [*CANCEL_10401, ("ok but how long does the refund take?", "affirm"), ("yes", "affirm")],
     [["utter_ask_order_id"], ["utter_ask_email"], ["utter_confirm_cancel"],
      ["utter_confirm_yes_or_no", "utter_confirm_cancel"], ["utter_order_cancelled"]], {"ORD-10401": "cancelled"}),
    ("cancel: a question while the yes is awaited, then the yes",
     [*CANCEL_10401, ("do I have to pay anything to cancel?", "check_cancellation_fee"), ("yes", "affirm")],
     [["utter_ask_order_id"], ["utter_ask_email"], ["utter_confirm_cancel"],
      ["utter_faq_answer", "utter_confirm_cancel"], ["utter_order_cancelled"]], {"ORD-10401": "cancelled"}),
    ("cancel: a shipped order is refused, nothing offered; a yes then does nothing",
     [("please cancel ORD-10427, I changed my mind", "cancel_order"), (MAYA, "inform"), ("yes", "affirm")],
     [["utter_ask_email"], ["utter_cancel_shipped"], ["utter_anything_else"]], {}),
    ("cancel: order id and e-mail in one message", [(f"cancel ORD-10407, my email is {AISHA}", "cancel_order"),
                                                    ("yes", "affirm")],
     [["utter_confirm_cancel"], ["utter_order_cancelled"]], {"ORD-10407": "cancelled"}),
    ("return: one item, reason from the list, yes", [*RETURN_10405, ("it doesn't fit", "inform"), ("yes", "affirm")],
     [["utter_ask_email"], ["utter_ask_return_reason"], ["utter_confirm_return"], ["utter_return_created"]],
     {"ORD-10405": "returned"}),
    ("return: damaged, the shipping comes back too", [*RETURN_10405, ("it arrived damaged", "inform"), ("yes", "affirm")],
     [["utter_ask_email"], ["utter_ask_return_reason"], ["utter_confirm_return_with_shipping"],
      ["utter_return_created"]], {"ORD-10405": "returned"}),
    ("return: a human asked for at the reason", [*RETURN_10405, ("can I speak to a manager?", "contact_human_agent")],
     [["utter_ask_email"], ["utter_ask_return_reason"], ["utter_handoff"]], {}),
    ("return: a policy question at the reason, then the reason",
     [*RETURN_10405, ("and do I have to pay for return shipping?", "check_refund_policy"),
      ("changed my mind", "inform"), ("no", "deny")],
     [["utter_ask_email"], ["utter_ask_return_reason"], ["utter_faq_answer", "utter_ask_return_reason"],
      ["utter_confirm_return"], ["utter_change_declined"]], {}),
    ("return: the item named in the request", [("I want to return one thing from ORD-10455, the backpack", "get_refund"),
                                               (SOFIA, "inform"), ("it's too small", "inform"), ("yes", "affirm")],
     [["utter_ask_email"], ["utter_ask_return_reason"], ["utter_confirm_return"], ["utter_return_created"]],
     {"ORD-10455": "delivered"}),
    ("return: which items, asked", [("I'd like to return ORD-10450", "get_refund"), ("marcus.reid@example.com", "inform"),
                                    ("the second one", "inform"), ("wrong item sent", "inform"), ("yes", "affirm")],
     [["utter_ask_email"], ["utter_ask_return_items"], ["utter_ask_return_reason"], ["utter_confirm_return"],
      ["utter_return_created"]], {"ORD-10450": "delivered"}),
    ("return: outside the window, no reason asked", [("I want to send back ORD-10402, it doesn't fit", "get_refund"),
                                                     ("liam.walker@example.com", "inform"),
                                                     ("that's rubbish, can I speak to a manager?", "contact_human_agent")],
     [["utter_ask_email"], ["utter_outside_return_window"], ["utter_handoff"]], {}),
    ("refund: a bare e-mail read as another request keeps the request",
     [("I want a refund", "get_refund"), ("ORD-10439", "inform"), ("it's daniel.kim@example.com", "get_invoice")],
     [["utter_ask_order_id"], ["utter_ask_email"], ["utter_return_exists", "utter_refund_pending"]], {}),
    ("return: not delivered yet", [("can I return ORD-10427?", "get_refund"), (MAYA, "inform")],
     [["utter_ask_email"], ["utter_not_delivered_yet"]], {}),
    ("track: id and e-mail in one message, then an address change refused at once",
     [(f"can you check on ORD-10415 for me? my email is {YUKI}", "track_order"),
      ("can I change the delivery address to 22 Elm Road, Portland?", "change_shipping_address")],
     [["utter_order_status_shipped"], ["utter_address_locked"]], {}),
    ("address: the new address in the request, yes", [("please send ORD-10409 to 8 Harbour Street, Bristol BS1 4QA instead",
                                                       "change_shipping_address"),
                                                      ("hannah.fischer@example.com", "inform"), ("yes", "affirm")],
     [["utter_ask_email"], ["utter_confirm_address"], ["utter_address_changed"]], {"ORD-10409": "pending"}),
    ("address: asked, then no", [("I need to change the delivery address on ORD-10409", "change_shipping_address"),
                                 ("hannah.fischer@example.com", "inform"), ("5 Market Street, Boston, MA 02110", "inform"),
                                 ("no", "deny")],
     [["utter_ask_email"], ["utter_ask_shipping_address"], ["utter_confirm_address"], ["utter_change_declined"]], {}),
    ("quantity: which item, how many, stated, yes",
     [("I'd like to change the quantity of something in ORD-10408", "change_order"), (LUCAS, "inform"),
      ("the headphones", "inform"), ("just 1", "inform"), ("yes", "affirm")],
     [["utter_ask_email"], ["utter_ask_change_item"], ["utter_ask_new_quantity"], ["utter_confirm_quantity_refund"],
      ["utter_quantity_changed_refund"]], {"ORD-10408": "processing"}),
    ("quantity: the number in the request, then no",
     [("ORD-10401: I only want 1 of the tank tops, not 2", "change_order"), (MAYA, "inform"), ("no", "deny")],
     [["utter_ask_email"], ["utter_confirm_quantity_refund"], ["utter_change_declined"]], {}),
    ("quantity: from the options' button, more of it, charged",
     [(f"I want to change my order ORD-10401, {MAYA}", "change_order"), QUANTITY_BUTTON, ("3", "inform"),
      ("yes please", "affirm")],
     [["utter_change_order_options"], ["utter_ask_new_quantity"], ["utter_confirm_quantity_charge"],
      ["utter_quantity_changed_charge"]], {"ORD-10401": "processing"}),
    ("quantity: the only item to 0 is a cancel, then never mind",
     [(f"change the quantity on ORD-10401 please, {MAYA}", "change_order"), ("0", "inform"),
      ("never mind", "deny")],
     [["utter_ask_new_quantity"], ["utter_quantity_last_item", "utter_ask_new_quantity"],
      ["utter_order_form_stopped"]], {}),
    ("quantity: a shipped order cannot change", [(f"can I change the quantity on ORD-10427? {MAYA}", "change_order")],
     [["utter_change_shipped"]], {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "turns", "replies", "changed"), FLOWS, ids=[f[0] for f in FLOWS])
async def test_flow(services, domain, shop, name, turns, replies, changed):
    before = {order_id: snapshot(shop, order_id) for order_id in OWNERS}
    dialogue = await talk(domain, turns)
    assert [turn.responses for turn in dialogue.turns] == replies
    after = {order_id: snapshot(shop, order_id) for order_id in OWNERS}
    assert {o for o in OWNERS if after[o] != before[o]} == set(changed), "only the confirmed order changes"
    for order_id, status in changed.items():
        assert after[order_id]["status"] == status
        assert [e["conversation_id"] for e in shop.events(order_id)][before[order_id]["events"]:] == ["conv-flow"]


async def test_the_confirmation_states_what_will_happen(services, domain, shop):
    dialogue = await talk(domain, [*RETURN_10405, ("it doesn't fit", "inform")])
    stated = dialogue.turns[-1].message("utter_confirm_return")
    assert stated["items"] == "Women's Heritage Fleece-Lined Beanie" and stated["reason"] == "doesn't fit"
    assert stated["amount"] == "$33.95" and stated["method"] == "PayPal account"
    assert DAY.match(stated["ship_by"]) and stated["days"] == 10
    assert shop.refund_status("ORD-10405", SOFIA).code == "no_refund"  # stated, not done
    await dialogue.say("yes", "affirm")
    done = dialogue.turns[-1].message("utter_return_created")
    assert done["amount"] == stated["amount"] and done["ship_by"] == stated["ship_by"]
    assert done["label_url"].startswith("/returns/RET-") and "&sig=" in done["label_url"]  # a signed link


async def test_the_return_of_a_named_item_is_only_that_item(services, domain, shop):
    dialogue = await talk(domain, [("I want to return one thing from ORD-10455, the backpack", "get_refund"),
                                   (SOFIA, "inform"), ("it's too small", "inform")])  # fmt: skip
    assert dialogue.turns[-1].message("utter_confirm_return")["items"] == "Waterproof Hiking Backpack"
    await dialogue.say("yes", "affirm")
    returned = shop.order_status("ORD-10455", SOFIA).data["items"]
    assert [line["returned_quantity"] for line in returned] == [0, 1]


async def test_the_items_are_listed_with_buttons(services, domain):
    dialogue = await talk(domain, [("I'd like to return ORD-10450", "get_refund"), ("marcus.reid@example.com", "inform")])
    asked = dialogue.turns[-1].message("utter_ask_return_items")
    assert asked["items"].startswith("1. Heritage Blanket Scarf; 2. Kids' Low-Top Sneaker")
    assert [b["title"] for b in asked["buttons"]][:2] == ["Heritage Blanket Scarf", "Kids' Low-Top Sneaker"]


async def test_tracking_has_the_carrier_link_and_readable_dates(services, domain):
    dialogue = await talk(domain, [(f"where is ORD-10427? {MAYA}", "track_order")])
    status = dialogue.turns[-1].message("utter_order_status_shipped")
    assert status["tracking"] == "https://tools.usps.com/go/TrackConfirmAction?tLabels=94001003871701"
    assert DAY.match(status["shipped_at"]) and DAY.match(status["estimated_delivery"])


class TestVerificationPerOrder:
    async def test_the_same_customers_other_order_needs_no_new_email(self, services, domain, shop):
        dialogue = await talk(domain, [("where is my order ORD-10427", "track_order"), (MAYA, "inform"),
                                       ("I also have order ORD-10401, can you cancel that one?", "cancel_order")])  # fmt: skip
        assert dialogue.turns[-1].responses == ["utter_confirm_cancel"], "stated and asked, not done"
        assert snapshot(shop, "ORD-10401")["status"] == "processing"
        await dialogue.say("yes", "affirm")
        assert snapshot(shop, "ORD-10401")["status"] == "cancelled"

    async def test_another_customers_order_needs_its_own_email(self, services, domain, shop):
        dialogue = await talk(domain, [("where is my order ORD-10427", "track_order"), (MAYA, "inform"),
                                       ("my friend asked me to return her order ORD-10405", "get_refund")])  # fmt: skip
        assert dialogue.turns[-1].responses == ["utter_ask_email"]
        assert not any(m for m in dialogue.turns[-1].messages if m.get("response", "").startswith(
            ("utter_order_status", "utter_confirm", "utter_ask_return")))  # fmt: skip
        await dialogue.say(MAYA, "inform")  # her own e-mail does not open someone else's order
        assert dialogue.turns[-1].responses == ["utter_email_mismatch", "utter_ask_email"]
        await dialogue.say(f"sorry, it's {SOFIA}", "inform")
        assert dialogue.turns[-1].responses == ["utter_ask_return_reason"]

    async def test_an_email_in_the_same_message_verifies_that_order(self, services, domain):
        dialogue = await talk(domain, [(f"my friend asked me to return her order ORD-10405, the email is {SOFIA}",
                                        "get_refund")])  # fmt: skip
        assert dialogue.turns[-1].responses == ["utter_ask_return_reason"]

    async def test_the_third_wrong_email_locks_order_actions(self, services, domain, shop):
        before = snapshot(shop, "ORD-10401")
        dialogue = await talk(domain, [("where's ORD-10427", "track_order"), ("a@example.com", "inform"),
                                       ("b@example.com", "inform"), ("c@example.com", "inform")])  # fmt: skip
        assert [t.responses for t in dialogue.turns] == [
            ["utter_ask_email"], ["utter_email_mismatch", "utter_ask_email"],
            ["utter_email_mismatch", "utter_ask_email"], ["utter_order_actions_locked"]]
        # even with the right e-mail, for another order of hers, in the same conversation
        await dialogue.say(f"cancel ORD-10401, email {MAYA}", "cancel_order")
        assert dialogue.turns[-1].responses == ["utter_order_actions_locked"]
        await dialogue.say("yes", "affirm")
        assert dialogue.turns[-1].actions == ["action_confirm_offer"]
        assert snapshot(shop, "ORD-10401") == before

    async def test_failures_count_across_orders_of_one_conversation(self, services, domain):
        dialogue = await talk(domain, [("where's ORD-10427", "track_order"), ("a@example.com", "inform"),
                                       (MAYA, "inform"), ("and ORD-10405?", "track_order"),
                                       ("b@example.com", "inform"), ("c@example.com", "inform")])  # fmt: skip
        assert dialogue.turns[-1].responses == ["utter_order_actions_locked"]

    async def test_a_new_conversation_is_not_locked(self, services, domain):
        await talk(domain, [("where's ORD-10427", "track_order"), ("a@x.com", "inform"), ("b@x.com", "inform"),
                            ("c@x.com", "inform")], sender="conv-a")  # fmt: skip
        other = await talk(domain, [(f"where's ORD-10427, {MAYA}", "track_order")], sender="conv-b")
        assert other.turns[-1].responses == ["utter_order_status_shipped"]

    async def test_an_unknown_order_then_the_right_one_with_the_same_email(self, services, domain):
        dialogue = await talk(domain, [("hey can you check order ORD-12345 email kai.lee@example.com", "track_order"),
                                       ("hmm, maybe it's ORD-10448", "inform")])  # fmt: skip
        assert dialogue.turns[0].responses == ["utter_order_not_found", "utter_ask_order_id"]
        assert dialogue.turns[1].responses[0].startswith("utter_order_status_")


async def test_a_shipped_order_cannot_be_changed_and_nothing_is_offered(services, domain):
    dialogue = await talk(domain, [(f"I want to change my order ORD-10427, {MAYA}", "change_order")])
    [message] = dialogue.turns[-1].messages
    assert message["response"] == "utter_change_shipped" and message["tracking"].startswith("https://")
    assert not message["buttons"]


async def test_a_quantity_change_states_the_item_counts_and_money(services, domain, shop):
    dialogue = await talk(domain, [("I'd like to change the quantity of something in ORD-10408", "change_order"),
                                   (LUCAS, "inform"), ("the headphones", "inform"), ("1", "inform")])  # fmt: skip
    stated = dialogue.turns[-1].message("utter_confirm_quantity_refund")
    assert (stated["old"], stated["new"]) == (2, 1) and "Headphone" in stated["title"]
    assert stated["amount"].startswith("$") and DAY.match(stated["expected_by"])
    assert snapshot(shop, "ORD-10408")["quantities"] == [1, 1, 2], "stated, not done"
    await dialogue.say("yes", "affirm")
    done = dialogue.turns[-1].message("utter_quantity_changed_refund")
    assert (done["amount"], done["total"]) == (stated["amount"], stated["total"])
    assert snapshot(shop, "ORD-10408")["quantities"] == [1, 1, 1]
    [event] = shop.events("ORD-10408")
    assert event["kind"] == "quantity_changed" and event["conversation_id"] == "conv-flow"
