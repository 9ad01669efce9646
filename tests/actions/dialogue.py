"""A stand-in for Rasa around the customer-service actions, for conversation tests without a
trained model: the slot mappings of domain.yml (entities, order_request from the intent), the
order form as Rasa 3.6 runs it (activation validates the pre-filled slots; each reply is
extracted and validated by ``validate_order_form``; a reply that fills nothing is rejected; the
next slot is asked by its ``action_ask_*`` action or ``utter_ask_*`` response; a completed form
runs ``action_order_request``) and the rules of data/rules/orders.yml for rejected replies.

The NLU is the test's: each message comes with its intent; order numbers and e-mails are found
by the regexes of data/nlu/regexes.yml. What Rasa's policies decide is checked separately by the
test stories (tests/test_stories.yml), against a trained model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionOutOfScope
from actions.faq import ActionAnswerFaq
from actions.forms import ValidateOrderForm
from actions.handoff import ActionHandleComplaint, ActionHandoff
from actions.orders import (
    ActionAskChangeItem,
    ActionAskNewQuantity,
    ActionAskOrderConfirmed,
    ActionAskReturnItems,
    ActionConfirmOffer,
    ActionOrderRequest,
    ActionStopOrderForm,
)
from rasa_ext.intent_evidence import SHOPPING_INTENTS

ORDER_ID = re.compile(r"\bORD-?\d{5}\b", re.IGNORECASE)
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
REQUEST_OF = {"track_order": "track_order", "cancel_order": "cancel_order", "change_order": "change_order",
              "change_shipping_address": "change_shipping_address", "get_refund": "get_refund",
              "track_refund": "track_refund", "get_invoice": "get_invoice", "check_invoice": "get_invoice"}  # fmt: skip
FAQ_INTENTS = {"check_refund_policy", "delivery_options", "delivery_period", "check_payment_methods",
               "payment_issue", "check_cancellation_fee", "contact_customer_service", "review",
               "newsletter_subscription", "create_account", "delete_account", "edit_account",
               "recover_password", "registration_problems", "switch_account", "set_up_shipping_address",
               "place_order"}  # fmt: skip
SHOPPING = SHOPPING_INTENTS - {"inform"}  # inside the form, "inform" answers its question
SMALL_TALK = {"greet": "utter_greet", "thank": "utter_you_are_welcome", "bot_challenge": "utter_iamabot"}
FORM_SLOTS = ("order_id", "email")  # the form's required slots in domain.yml
ASK_ACTIONS = {"order_confirmed": ActionAskOrderConfirmed(), "return_items": ActionAskReturnItems(),
               "change_item": ActionAskChangeItem(), "new_quantity": ActionAskNewQuantity()}


class Rejected(Exception):
    pass


@dataclass
class Turn:
    text: str
    intent: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def responses(self) -> list[str]:
        return [m["response"] for m in self.messages if m.get("response")]

    def message(self, response: str) -> dict[str, Any]:
        return next(m for m in self.messages if m.get("response") == response)


class Dialogue:
    def __init__(self, domain: dict[str, Any], sender: str = "conv-test") -> None:
        self.domain = domain
        self.sender = sender
        self.slots: dict[str, Any] = {
            name: spec.get("initial_value") for name, spec in domain["slots"].items()
        }
        self.slots["requested_slot"] = None
        self.events: list[dict[str, Any]] = []
        self.active_loop: str | None = None
        self.latest: dict[str, Any] = {}
        self.turns: list[Turn] = []

    # ------------------------------------------------------------------ the shopper
    async def say(self, text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> Turn:
        """``entities``: besides the order ids and e-mails in the text (a button's payload)."""
        entities = [*(entities or []), *({"entity": "order_id", "value": m} for m in ORDER_ID.findall(text))]
        entities += [{"entity": "email", "value": m} for m in EMAIL.findall(text)]
        self.latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities}
        self.events += [{"event": "action", "name": "action_listen"},
                        {"event": "user", "text": text, "parse_data": self.latest}]  # fmt: skip
        turn = Turn(text, intent)
        self.turns.append(turn)
        extracted = {e["entity"]: e["value"] for e in entities}
        if intent in REQUEST_OF:
            extracted["order_request"] = REQUEST_OF[intent]
        self._set(extracted)  # action_extract_slots
        self._extracted_now = extracted
        if self.active_loop:
            try:
                await self._form(turn, activation=False)
            except Rejected:
                await self._in_form_rule(turn, intent)
        else:
            await self._outside_form(turn, intent, bool(entities), "order_id" in extracted)
        return turn

    # ------------------------------------------------------------------ Rasa's side
    def _set(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            self.slots[name] = value
            self.events.append({"event": "slot", "name": name, "value": value})

    def tracker(self, extra: list[dict[str, Any]] | None = None) -> Tracker:
        return Tracker(
            self.sender, dict(self.slots), self.latest, [*self.events, *(extra or [])], False, None,
            {"name": self.active_loop} if self.active_loop else {}, "action_listen",
        )  # fmt: skip

    async def _run(self, turn: Turn, action: Any, candidates: dict[str, Any] | None = None) -> list[dict]:
        extra = [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, self.tracker(extra), self.domain)
        turn.actions.append(action.name())
        turn.messages += dispatcher.messages
        for event in events:
            if event.get("event") == "slot":
                self._set({event["name"]: event["value"]})
            elif event.get("event") == "active_loop":
                self.active_loop = event.get("name")
        return events

    async def _form(self, turn: Turn, activation: bool, resume: bool = False) -> None:
        if activation:
            self.active_loop = "order_form"
            candidates = {s: self.slots[s] for s in FORM_SLOTS if self.slots.get(s) is not None}
        elif resume:
            candidates = {}
        else:
            wanted = {*FORM_SLOTS, self.slots.get("requested_slot")}
            candidates = {k: v for k, v in self._extracted_now.items() if k in wanted}
        requested = self.slots.get("requested_slot")
        events = await self._run(turn, ValidateOrderForm(), candidates)
        validated = [e for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"]
        if not activation and not resume and requested and not candidates and not validated:
            turn.actions.pop()
            raise Rejected
        asked = [e["value"] for e in events if e.get("event") == "slot" and e["name"] == "requested_slot"]
        if asked:
            slot = asked[0]
        else:
            slot = next((s for s in FORM_SLOTS if self.slots.get(s) is None), None)
            self._set({"requested_slot": slot})
        if slot is None:
            self.active_loop = None
            done = await self._run(turn, ActionOrderRequest())
            if any(e.get("event") == "followup" and e.get("name") == "order_form" for e in done):
                await self._form(turn, activation=True)  # the request goes on in the form
        elif slot in ASK_ACTIONS:
            await self._run(turn, ASK_ACTIONS[slot])
        else:
            turn.messages.append({"response": f"utter_ask_{slot}"})

    async def _stop(self, turn: Turn) -> None:
        await self._run(turn, ActionStopOrderForm())
        self.active_loop = None

    async def _in_form_rule(self, turn: Turn, intent: str) -> None:
        """data/rules/orders.yml, for a reply the form rejected."""
        if intent == "deny":
            await self._stop(turn)
        elif intent == "contact_human_agent":
            await self._stop(turn)
            await self._run(turn, ActionHandoff())
        elif intent == "complaint":
            await self._stop(turn)
            await self._run(turn, ActionHandleComplaint())
        elif intent == "goodbye":
            await self._stop(turn)
            turn.messages.append({"response": "utter_goodbye"})
        elif intent in REQUEST_OF and intent != "track_refund":
            await self._stop(turn)
            await self._form(turn, activation=True)
        elif intent in FAQ_INTENTS or intent == "track_refund":
            await self._run(turn, ActionAnswerFaq())
            await self._form(turn, activation=False, resume=True)
        elif intent in SHOPPING:
            await self._stop(turn)
            turn.actions.append("shopping")
        elif intent in SMALL_TALK:
            turn.messages.append({"response": SMALL_TALK[intent]})
            await self._form(turn, activation=False, resume=True)
        elif intent == "out_of_scope":
            await self._run(turn, ActionOutOfScope())
            await self._form(turn, activation=False, resume=True)
        else:  # affirm, inform, anything else: asked again
            await self._form(turn, activation=False, resume=True)

    async def _outside_form(self, turn: Turn, intent: str, entities: bool, order_id: bool) -> None:
        email = any(e["entity"] == "email" for e in self.latest["entities"])
        if intent in REQUEST_OF or (order_id and intent in ("inform", "search_product", "refine_search",
                                                            "nlu_fallback")) or (email and intent == "inform"):  # fmt: skip
            await self._form(turn, activation=True)
        elif intent in ("affirm", "deny"):
            await self._run(turn, ActionConfirmOffer())
        elif intent == "contact_human_agent":
            await self._run(turn, ActionHandoff())
        elif intent in FAQ_INTENTS:
            await self._run(turn, ActionAnswerFaq())
        elif intent == "complaint":
            await self._run(turn, ActionHandleComplaint())
        elif intent in SMALL_TALK:
            turn.messages.append({"response": SMALL_TALK[intent]})
        elif intent == "out_of_scope":
            await self._run(turn, ActionOutOfScope())
        else:
            turn.actions.append("shopping" if intent in SHOPPING else "other")
