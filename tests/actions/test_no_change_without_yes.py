"""Property: no sequence of shopper messages changes an order without an explicit yes, in the same
conversation, to the bot's statement of that very change of that order; and nothing about an
order is shown before its customer's e-mail was given.

Seeded random sequences (hypothesis is not among the project's requirements) over a vocabulary of
requests, order numbers, right and wrong e-mails, answers, hedged and clear yeses, noes,
questions and changes of subject, against the SQL shop seeded from data/shop; Rasa around the
actions is ``tests/actions/dialogue.py``.
"""

from __future__ import annotations

import random
import re

import pytest

from actions.common import is_explicit_yes
from tests.actions.dialogue import Dialogue
from tests.actions.test_order_flows import OWNERS, snapshot

MAYA, SOFIA, HANNAH, MARCUS = ("maya.tan@example.com", "sofia.rossi@example.com",
                               "hannah.fischer@example.com", "marcus.reid@example.com")  # fmt: skip
MESSAGES = [
    ("I want to cancel my order", "cancel_order"), ("cancel ORD-10401", "cancel_order"),
    (f"cancel ORD-10401, my email is {MAYA}", "cancel_order"), ("cancel ORD-10407", "cancel_order"),
    ("please cancel ORD-10427", "cancel_order"), ("I want to return order ORD-10405", "get_refund"),
    (f"return ORD-10405, email {SOFIA}", "get_refund"), ("return the backpack from ORD-10455", "get_refund"),
    ("I'd like to return ORD-10450", "get_refund"), ("I want to return something", "get_refund"),
    ("change the address of ORD-10409 to 8 Harbour Street, Bristol BS1 4QA", "change_shipping_address"),
    ("I need to change my delivery address", "change_shipping_address"), ("where is ORD-10427", "track_order"),
    ("has my refund come through?", "track_refund"), ("I want to change my order", "change_order"),
    ("ORD-10408: I only want 1 of the headphones", "change_order"), ("change the quantity on ORD-10401", "change_order"),
    ('/change_order{"order_change": "quantity"}', "change_order"), ("2", "inform"), ("0", "inform"),
    ("ORD-10401", "inform"), ("ORD-10405", "inform"), ("ORD-10409", "inform"), ("ORD-10450", "inform"),
    ("ORD-10455", "inform"), ("ORD-10999", "inform"),
    (MAYA, "inform"), (SOFIA, "inform"), (HANNAH, "inform"), (MARCUS, "inform"), ("aisha.khan@example.com", "inform"),
    ("wrong@example.com", "inform"),
    ("it doesn't fit", "inform"), ("it arrived damaged", "inform"), ("all of them", "inform"),
    ("the first one", "inform"), ("5 Market Street, Boston, MA 02110", "inform"), ("blue please", "inform"),
    ("no", "deny"), ("never mind", "deny"), ("no, keep it", "deny"),
    ("do I have to pay for return shipping?", "check_refund_policy"), ("is there a fee to cancel?", "check_cancellation_fee"),
    ("how long until I get my money back?", "track_refund"), ("show me some earbuds", "search_product"),
    ("talk to a human", "contact_human_agent"), ("hi", "greet"), ("thanks", "thank"), ("bye", "goodbye"),
    ("this is ridiculous", "complaint"), ("what's the weather", "out_of_scope"),
]  # fmt: skip
YESES = [("yes", "affirm"), ("yes please", "affirm"), ("/affirm", "affirm"), ("ok", "affirm"),
         ("ok but wait", "affirm"), ("yes?", "affirm"), ("sure, why not", "affirm")]  # fmt: skip
CHANGE_DONE = {"utter_order_cancelled", "utter_return_created", "utter_address_changed",
               "utter_quantity_changed_refund", "utter_quantity_changed_charge"}  # fmt: skip
CONFIRMATIONS = {"utter_confirm_cancel", "utter_confirm_return", "utter_confirm_return_with_shipping",
                 "utter_confirm_address", "utter_confirm_quantity_refund", "utter_confirm_quantity_charge"}  # fmt: skip
# replies that say something about an order beyond "which one?" and "that e-mail is not its"
NOT_DETAILS = {"utter_email_mismatch", "utter_order_not_found", "utter_order_left_as_is", "utter_change_declined",
               "utter_order_actions_locked"}  # fmt: skip


# what a cooperative shopper answers to each question (chosen half of the time)
ANSWERS = {
    "utter_ask_order_id": [(order_id, "inform") for order_id in OWNERS],
    "utter_ask_return_reason": [("it doesn't fit", "inform"), ("arrived damaged or faulty", "inform"),
                                ("changed my mind", "inform"), ("they're itchy", "inform")],
    "utter_ask_return_items": [("all of them", "inform"), ("the first one", "inform"), ("the second one", "inform")],
    "utter_ask_shipping_address": [("5 Market Street, Boston, MA 02110", "inform"), ("somewhere", "inform")],
    "utter_ask_change_item": [("the first one", "inform"), ("the headphones", "inform"), ("all of them", "inform")],
    "utter_ask_new_quantity": [("1", "inform"), ("3", "inform"), ("0", "inform"), ("lots", "inform")],
}  # fmt: skip


def next_message(rng: random.Random, dialogue: Dialogue) -> tuple[str, str]:
    """A random next message: often a yes of some kind (so one comes at every point of the flows,
    right after a statement and anywhere else), often the answer the bot just asked for (so the
    flows get far), else anything from the vocabulary."""
    asked = dialogue.turns[-1].responses if dialogue.turns else []
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(YESES)
    if roll < 0.7:
        if "utter_ask_email" in asked and dialogue.slots.get("order_id") in OWNERS:
            right = OWNERS[dialogue.slots["order_id"]]
            return rng.choice([(right, "inform"), (right, "inform"), ("wrong@example.com", "inform")])
        for response, answers in ANSWERS.items():
            if response in asked:
                return rng.choice(answers)
    return rng.choice(MESSAGES)


def explicit_yes(text: str, intent: str) -> bool:
    return intent == "affirm" and (text.startswith("/affirm") or is_explicit_yes(text))


@pytest.mark.parametrize("seed", range(80))
async def test_no_order_changes_without_an_explicit_yes_to_it(services, domain, shop, seed):
    dialogue = Dialogue(domain, sender=f"conv-{seed}")
    typed_emails: set[str] = set()
    state = {order_id: snapshot(shop, order_id) for order_id in OWNERS}
    previous, rng = None, random.Random(seed)
    for _ in range(rng.randint(4, 16)):
        text, intent = next_message(rng, dialogue)
        button = [{"entity": "order_change", "value": "quantity"}] if "order_change" in text else []
        turn = await dialogue.say(text, intent, button)
        typed_emails |= set(re.findall(r"[\w.]+@[\w.]+\.\w+", text))
        now = {order_id: snapshot(shop, order_id) for order_id in OWNERS}
        changed = [order_id for order_id in OWNERS if now[order_id] != state[order_id]]
        if changed:
            [order_id] = changed
            assert explicit_yes(text, intent), f"{order_id} changed on {text!r}"
            asked = [m for m in previous.messages if m.get("response") in CONFIRMATIONS]
            assert [m["order_id"] for m in asked] == [order_id], "the yes answered that order's statement"
            assert CHANGE_DONE & set(turn.responses), "and the shopper is told it is done"
            new_events = shop.events(order_id)[state[order_id]["events"]:]
            assert [e["conversation_id"] for e in new_events] == [dialogue.sender]
        for message in turn.messages:
            shown = message.get("order_id")
            if shown in OWNERS and message.get("response") not in NOT_DETAILS:
                assert OWNERS[shown] in typed_emails, f"{message['response']} about {shown} before its e-mail"
        state, previous = now, turn
