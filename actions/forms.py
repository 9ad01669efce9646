"""Validation of the order form: order id, then the e-mail on the order, checked in the shop data.

An unknown order id is asked again; a wrong e-mail is said so and asked again, and after
``MAX_EMAIL_FAILURES`` the form stops (no required slots left) and ``action_order_request``
offers a human. Once verified, an address change adds ``shipping_address`` and a return
adds ``return_reason`` to the form.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import entity_values, latest_text, off_loop
from actions.services import get_services

MAX_EMAIL_FAILURES = 3
# a 5-digit order number inside free text: "ORD-10427", "ord10427", "order #10427", "10427"
_ORDER_IN_TEXT = re.compile(r"\b(?:ord(?:er)?)?\s*[#:_\-]?\s*(\d{5})\b", re.IGNORECASE)
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>()\"',;]+@[^@\s<>()\"',;]+\.[a-z]{2,}", re.IGNORECASE)
# a syntactically valid address that belongs to no customer, to ask "does this order exist?"
_PROBE_EMAIL = "probe@invalid.example"


def _normalise_order_id(text: str | None) -> str | None:
    from shop.rules import normalise_order_id

    return normalise_order_id(text)


def _normalise_email(text: str | None) -> str | None:
    from shop.rules import normalise_email

    return normalise_email(text)


def is_verified(tracker: Tracker) -> bool:
    order_id = tracker.get_slot("order_id")
    return bool(order_id and tracker.get_slot("email") and tracker.get_slot("verified_order_id") == order_id)


class ValidateOrderForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if (tracker.get_slot("verification_failures") or 0) >= MAX_EMAIL_FAILURES:
            return []  # stop asking: action_order_request offers a human
        slots = list(domain_slots)
        if is_verified(tracker):
            request = tracker.get_slot("order_request")
            if request == "change_shipping_address":
                slots.append("shipping_address")
            elif request == "get_refund":
                slots.append("return_reason")
        return slots

    # ---- extraction from free text, for replies the NLU did not tag ----
    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "order_id" or entity_values(tracker, "order_id"):
            return {}
        match = _ORDER_IN_TEXT.search(latest_text(tracker))
        return {"order_id": f"ORD-{match.group(1)}"} if match else {}

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "email" or entity_values(tracker, "email"):
            return {}
        match = _EMAIL_IN_TEXT.search(latest_text(tracker))
        return {"email": match.group(0)} if match else {}

    async def extract_shipping_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._reply_for(tracker, "shipping_address")

    async def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._reply_for(tracker, "return_reason")

    @staticmethod
    def _reply_for(tracker: Tracker, slot: str) -> dict[str, Any]:
        """The whole reply fills a free-text slot, when that slot was the one asked for."""
        text = latest_text(tracker).strip()
        if tracker.get_slot("requested_slot") != slot or not text or text.startswith("/"):
            return {}
        return {slot: text}

    # ---- validation against the shop data ----
    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order_id = _normalise_order_id(str(value)) if value else None
        if order_id is None:
            dispatcher.utter_message(response="utter_invalid_order_id")
            return {"order_id": None}
        shop = get_services().shop
        email = _normalise_email(tracker.get_slot("email"))
        outcome = await off_loop(shop.verify_order, order_id, email or _PROBE_EMAIL)
        if outcome.code == "not_found":
            dispatcher.utter_message(response="utter_order_not_found", order_id=order_id)
            return {"order_id": None}
        if outcome.ok:
            return {"order_id": order_id, "email": email, "verified_order_id": order_id}
        # the order exists but the e-mail on file (if any) is not its owner's: ask for it
        return {"order_id": order_id, "email": None, "verified_order_id": None}

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = _normalise_email(str(value)) if value else None
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
            return {"email": None}
        order_id = tracker.get_slot("order_id")
        if not order_id:
            return {"email": email}
        outcome = await off_loop(get_services().shop.verify_order, order_id, email)
        if outcome.ok:
            return {"email": email, "verified_order_id": order_id, "verification_failures": 0}
        failures = int(tracker.get_slot("verification_failures") or 0) + 1
        if failures < MAX_EMAIL_FAILURES:
            dispatcher.utter_message(response="utter_email_mismatch", order_id=order_id)
        return {"email": None, "verified_order_id": None, "verification_failures": failures}

    async def validate_shipping_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        from shop.rules import valid_address_text

        text = " ".join(str(value or "").split())
        if not valid_address_text(text):
            dispatcher.utter_message(response="utter_address_too_short")
            return {"shipping_address": None}
        return {"shipping_address": text}

    async def validate_return_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())[:500]
        return {"return_reason": text or None}
