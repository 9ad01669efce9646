"""The order form: which order (verified against the shop data), then what the request needs,
then — for a change — an explicit yes to exactly what will happen.

Verification is per order: an e-mail shown to be the customer's in this conversation covers that
customer's orders (``verified_emails``); another customer's order is asked its own e-mail. Every
wrong e-mail typed for an existing order counts in ``verification_failures`` for the whole
conversation; the ``MAX_EMAIL_FAILURES``-th locks order actions (the form stops asking and
``action_order_request`` says how to reach a person).

Once the order is verified, the request adds its slots — only when the shop says the change is
possible at all (a shipped order is not asked for a new address): a return asks which items
(when more than one is still kept) and the reason (a short list), an address change the new
address; every change (cancel, return, address) then asks ``order_confirmed``, stated by
``action_ask_order_confirmed`` from the shop's own preview. The slot holds the key of the plan
the shopper said yes to, so a yes never carries over to another order, item list or amount.

Replies are read for the slot asked; a reply that is another request ("talk to a human", "never
mind", a question, a product search) is left to the rules (``data/rules/orders.yml``), which
answer it and resume or end the form.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import entity_values, is_explicit_yes, latest_intent, latest_text, off_loop
from actions.services import get_services

if TYPE_CHECKING:
    from shop.backend import Outcome

MAX_EMAIL_FAILURES = 3
# the requests that change an order: stated, then done only on an explicit yes
CHANGES = ("cancel_order", "get_refund", "change_shipping_address", "change_quantity")
# the intents that open each request (order_request's from_intent mappings in domain.yml)
REQUEST_INTENTS = {
    "track_order": ("track_order",), "cancel_order": ("cancel_order",),
    "change_order": ("change_order",), "change_shipping_address": ("change_shipping_address",),
    "get_refund": ("get_refund",), "track_refund": ("track_refund",),
    "get_invoice": ("get_invoice", "check_invoice"),
    "change_quantity": ("change_order",),  # a change_order that asks for another quantity
}  # fmt: skip
# intents a reply to the form's question can come with; anything else is another request
ANSWER_INTENTS = frozenset({"inform", "nlu_fallback", "affirm", "out_of_scope", "complaint"})
# never an answer, whatever words the message has
ESCAPE_INTENTS = frozenset({"contact_human_agent", "deny"})
DECLINED = "declined"  # order_confirmed after a "no"
UNCLEAR = "unclear"  # order_confirmed after a yes that was not clearly one (asked again)
UNCLEAR_ITEMS = "?"
# words besides the order number or e-mail in a reply that only answers ("sorry, try x@y.com")
MAX_ANSWER_WORDS = 4

# a 5-digit order number inside free text: "ORD-10427", "ord10427", "order #10427", "10427"
_ORDER_IN_TEXT = re.compile(r"\b(?:ord(?:er)?)?\s*[#:_\-]?\s*(\d{5})\b", re.IGNORECASE)
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>()\"',;]+@[^@\s<>()\"',;]+\.[a-z]{2,}", re.IGNORECASE)
# an order number with its prefix ("ORD-10427", "order #10427"): not part of an address (a bare
# 5-digit number may be a ZIP code)
_ORDER_REF = re.compile(r"\bord(?:er)?\s*(?:no\.?|number)?\s*[#:_\-]?\s*\d{5}\b", re.IGNORECASE)
# a street address inside a sentence: from a house number followed by a word, to the end
_ADDRESS_START = re.compile(r"\b\d{1,6}[a-z]?\s+[a-z]", re.IGNORECASE)
_ADDRESS_TAIL = re.compile(r"[\s,.!?]*\b(instead|please|pls|thanks|thank you|asap)\b[\s,.!?]*$|[\s,.!?]+$", re.I)
_ALL_ITEMS = re.compile(r"\b(all|everything|both|entire|whole order|all of them|every item)\b", re.I)
_WORD = re.compile(r"[a-z]+", re.IGNORECASE)
_ITEM_NUMBER = re.compile(r"\b(?:item|line|number|no\.?|#)\s*(\d{1,2})\b|^\s*(\d{1,2})\s*$", re.I)
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                  "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6}  # fmt: skip
# words of a reply that never pick an item by its title
_NOT_TITLE_WORDS = frozenset((
    "the", "and", "for", "from", "with", "this", "that", "these", "those", "one", "ones",
    "thing", "things", "item", "items", "order", "want", "would", "like", "return", "send",
    "back", "please", "just", "only", "them", "they", "also", "too", "all", "not", "but",
))  # fmt: skip
# a change_order that is about how many: "only 1 of the mugs", "change the quantity", "3 instead of 2"
_QUANTITY_CUE = re.compile(
    r"\b(quantit(y|ies)|how many|(only|just) (want|need) (\d{1,2}|one|two|three)|"
    r"(\d{1,2}|one|two|three|four|five) (instead of|rather than)|one more|an extra|fewer)\b", re.I)
_NUMBER_WORDS = {"none": 0, "zero": 0, "one": 1, "single": 1, "two": 2,
                 "couple": 2, "pair": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_QUANTITY = re.compile(r"\b(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
# a quantity said inside a request ("change the socks to 1", "I only want 2 of them", "3 instead of 2")
_QUANTITY_IN_REQUEST = re.compile(
    r"\b(?:to|make it|want|need|only)\s+(\d{1,2}|one|two|three|four|five)\b|"
    r"\b(\d{1,2}|one|two|three|four|five)\s+(?:instead|rather)\b", re.I)
_REMOVE = re.compile(r"\b(remove|take (it|them) off|drop (it|them)|don'?t want (it|them|any))\b", re.I)
# a syntactically valid address that belongs to no customer, to ask "does this order exist?"
_PROBE_EMAIL = "probe@invalid.example"


def _normalise_order_id(text: str | None) -> str | None:
    from shop.rules import normalise_order_id

    return normalise_order_id(text)


def _normalise_email(text: str | None) -> str | None:
    from shop.rules import normalise_email

    return normalise_email(text)


def is_locked(tracker: Tracker) -> bool:
    """Order actions stop for this conversation after too many wrong e-mails."""
    return (tracker.get_slot("verification_failures") or 0) >= MAX_EMAIL_FAILURES


def is_verified(tracker: Tracker) -> bool:
    order_id = tracker.get_slot("order_id")
    return bool(
        order_id
        and tracker.get_slot("email")
        and tracker.get_slot("verified_order_id") == order_id
        and not is_locked(tracker)
    )


def request_of(tracker: Tracker) -> str:
    return tracker.get_slot("order_request") or "track_order"


def request_text(tracker: Tracker) -> str:
    """The shopper's message that asked for the current request ("I want to return the
    backpack from ORD-10455"): the latest user message with one of its intents, else the latest
    that named an order number (one the NLU took for shopping: "ORD-10401: I only want 1 of
    the tank tops")."""
    intents = REQUEST_INTENTS.get(request_of(tracker), ())
    named = ""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") in intents:
            return event.get("text") or ""
        if not named and any(e.get("entity") == "order_id" for e in parse.get("entities") or []):
            named = event.get("text") or ""
    return named


def given_now(tracker: Tracker, email: str) -> bool:
    """Did the shopper type this e-mail in the latest message (not an earlier one in a slot)?"""
    typed = [_normalise_email(v) for v in entity_values(tracker, "email")]
    typed += [_normalise_email(m) for m in _EMAIL_IN_TEXT.findall(latest_text(tracker))]
    return email in typed


def address_in_text(text: str) -> str | None:
    """A street address inside a sentence ("… the address to 22 Elm Road, Portland?"), without
    order numbers or e-mails; None when there is none that could be one."""
    from shop.rules import valid_address_text

    text = _EMAIL_IN_TEXT.sub(" ", _ORDER_REF.sub(" ", text or ""))
    match = _ADDRESS_START.search(text)
    if not match:
        return None
    address = " ".join(text[match.start() :].split())
    while (shorter := _ADDRESS_TAIL.sub("", address)) != address:
        address = shorter
    return address if valid_address_text(address) else None


def match_items(text: str, lines: list[dict[str, Any]]) -> list[int]:
    """Line numbers of ``lines`` a reply picks: "all of them", "the second one", "item 2",
    or words of their titles ("the backpack"); empty when it picks none."""
    if not lines:
        return []
    if _ALL_ITEMS.search(text):
        return [line["line_no"] for line in lines]
    positions: list[int] = []
    for match in _ITEM_NUMBER.finditer(text):
        positions.append(int(match.group(1) or match.group(2)))
    words = [w.lower() for w in _WORD.findall(text)]
    positions += [_ORDINAL_WORDS[w] for w in words if w in _ORDINAL_WORDS]
    if "last" in words:
        positions.append(len(lines))
    chosen = [lines[p - 1]["line_no"] for p in positions if 1 <= p <= len(lines)]
    wanted = {_stem(w) for w in words if len(w) >= 3 and w not in _NOT_TITLE_WORDS}
    for line in lines:
        title = {_stem(w.lower()) for w in _WORD.findall(line["title"])}
        if wanted & title and line["line_no"] not in chosen:
            chosen.append(line["line_no"])
    return sorted(set(chosen))


def wants_quantity_change(text: str) -> bool:
    return bool(_QUANTITY_CUE.search(_ORDER_REF.sub(" ", text or "")))


def quantity_in(text: str, in_request: bool = False) -> int | None:
    """The number of items a reply asks for ("2", "just one", "none, remove them": 0); inside a
    request sentence only one with a cue ("change the socks to 1"); None when there is none."""
    text = _EMAIL_IN_TEXT.sub(" ", _ORDER_REF.sub(" ", text or ""))
    if in_request:
        match = _QUANTITY_IN_REQUEST.search(text)
        value = (match.group(1) or match.group(2)).lower() if match else None
    else:
        if _REMOVE.search(text):
            return 0
        match = _QUANTITY.search(text)
        value = match.group(1).lower() if match else None
    if value is None:
        return None
    return int(value) if value.isdigit() else _NUMBER_WORDS[value]


def order_lines(tracker: Tracker) -> list[dict[str, Any]]:
    """The verified order's items (blocking)."""
    outcome = get_services().shop.order_status(tracker.get_slot("order_id"), tracker.get_slot("email"))
    return outcome.data.get("items") or [] if outcome.ok else []


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def preview(tracker: Tracker) -> Outcome | None:
    """What the current change would do, from the shop (blocking; None for other requests)."""
    shop = get_services().shop
    request, order_id, email = request_of(tracker), tracker.get_slot("order_id"), tracker.get_slot("email")
    if request == "cancel_order":
        return shop.cancel_order(order_id, email, preview=True)
    if request == "get_refund":
        items = [i for i in tracker.get_slot("return_items") or [] if isinstance(i, int)]
        return shop.request_return(
            order_id, email, reason=tracker.get_slot("return_reason"), item_ids=items or None, preview=True
        )
    if request == "change_shipping_address":
        return shop.change_shipping_address(
            order_id, email, tracker.get_slot("shipping_address") or "", preview=True
        )
    if request == "change_quantity":
        return shop.change_quantity(order_id, email, changed_item(tracker), new_quantity(tracker), preview=True)
    return None


def _whole(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def changed_item(tracker: Tracker) -> int | None:
    return _whole(tracker.get_slot("change_item"))


def new_quantity(tracker: Tracker) -> int:
    """The quantity asked for; -1 (which the shop refuses) while there is none."""
    found = _whole(tracker.get_slot("new_quantity"))
    return -1 if found is None else found


def say_quantity_refused(dispatcher: CollectingDispatcher, data: dict[str, Any]) -> None:
    """Why the shop refused a number (``invalid_quantity``): it is the count already, or it would
    take the order's last item off (that is a cancel)."""
    response = "utter_quantity_last_item" if data.get("last_item") else "utter_quantity_unchanged"
    dispatcher.utter_message(response=response, title=data.get("title"), quantity=data.get("old_quantity"),
                             order_id=data.get("order_id"))  # fmt: skip


def plan_key(request: str, outcome: Outcome) -> str:
    """What a yes is given to: the request, the order and everything the shopper was told."""
    data = outcome.data
    items = ",".join(str(line.get("line_no")) for line in data.get("items") or [])
    if data.get("item"):  # a quantity change: the item and both counts
        items = f"{data['item'].get('line_no')}:{data.get('old_quantity')}>{data.get('new_quantity')}"
    return "|".join(str(part) for part in (
        request, data.get("order_id"), items, data.get("reason") or "", data.get("new_address") or "",
        data.get("refund_amount"), data.get("charge_amount"),
    ))  # fmt: skip


def request_before_answer(tracker: Tracker) -> tuple[bool, str | None]:
    """(True, the request before this message) when this message only answers the question the
    form asked ("it's x@example.com" to "what's your e-mail?") and yet changed ``order_request``:
    the NLU read the bare answer as another request (an e-mail as ``get_invoice``). An answer
    does not change what the form is for; a sentence that asks for something else does."""
    requested = tracker.get_slot("requested_slot")
    if requested not in ("order_id", "email"):
        return False, None
    text = latest_text(tracker)
    found = _EMAIL_IN_TEXT.search(text) if requested == "email" else _ORDER_IN_TEXT.search(text)
    if not found:
        return False, None
    rest = _WORD.findall(_EMAIL_IN_TEXT.sub(" ", _ORDER_IN_TEXT.sub(" ", text)))
    if len(rest) > MAX_ANSWER_WORDS:
        return False, None
    before, changed, seen_user = None, False, False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                continue
            seen_user = True
        elif event.get("event") == "slot" and event.get("name") == "order_request":
            if not seen_user:
                changed = True
            else:
                before = event.get("value")
                break
    if changed and before != tracker.get_slot("order_request"):
        return True, before
    return False, None


def quantity_request_slots(tracker: Tracker, order_id: str, email: str, text: str) -> dict[str, Any]:
    """The item and the number a quantity request already named ("only 1 of the mugs")
    (blocking)."""
    found: dict[str, Any] = {}
    lines = get_services().shop.order_status(order_id, email).data.get("items") or []
    chosen = match_items(_ORDER_REF.sub(" ", text), lines) if len(lines) > 1 else []
    if len(chosen) == 1 and tracker.get_slot("change_item") is None:
        found["change_item"] = chosen[0]
    quantity = quantity_in(text, in_request=True)
    if quantity is not None and tracker.get_slot("new_quantity") is None:
        item = found.get("change_item", tracker.get_slot("change_item"))
        # only a number the shop takes for that item: else the form asks (and says why)
        if get_services().shop.change_quantity(order_id, email, item, quantity, preview=True).ok:
            found["new_quantity"] = quantity
    return found


class ValidateOrderForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        keep, request = request_before_answer(tracker)
        if keep:
            tracker.slots["order_request"] = request
        events = await super().run(dispatcher, tracker, domain)
        return [SlotSet("order_request", request), *events] if keep else events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if is_locked(tracker):
            return []  # stop asking: action_order_request says how to reach a person
        slots = list(domain_slots)
        request = request_of(tracker)
        if not is_verified(tracker) or request not in CHANGES:
            return slots
        outcome = await off_loop(preview, tracker)
        if request == "get_refund" and (outcome.ok or outcome.code == "item_not_found"):
            if len(outcome.data.get("returnable_items") or []) > 1:
                slots.append("return_items")
            slots += ["return_reason", "order_confirmed"]
        elif request == "cancel_order" and outcome.ok:
            slots.append("order_confirmed")
        elif request == "change_shipping_address" and (outcome.ok or outcome.code == "invalid_address"):
            slots += ["shipping_address", "order_confirmed"]
        elif request == "change_quantity" and outcome.code in ("quantity_changed", "invalid_quantity",
                                                               "item_not_found"):  # fmt: skip
            lines = await off_loop(order_lines, tracker)
            slots += [*(["change_item"] if len(lines) > 1 else []), "new_quantity", "order_confirmed"]
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
        if not self._asked(tracker, "shipping_address"):
            return {}
        text = " ".join(latest_text(tracker).split())
        found = address_in_text(text)
        if found:
            return {"shipping_address": found}
        return {"shipping_address": text} if latest_intent(tracker) in ANSWER_INTENTS else {}

    async def extract_return_items(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._asked(tracker, "return_items"):
            return {}
        outcome = await off_loop(preview, tracker)
        chosen = match_items(latest_text(tracker), outcome.data.get("returnable_items") or [])
        if chosen:
            return {"return_items": chosen}
        intent = latest_intent(tracker)
        return {"return_items": [UNCLEAR_ITEMS]} if intent in ANSWER_INTENTS else {}

    async def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        from shop.rules import OTHER_REASON, classify_return_reason

        if not self._asked(tracker, "return_reason"):
            return {}
        text = " ".join(latest_text(tracker).split())
        label = classify_return_reason(text)
        if label:
            return {"return_reason": label}
        if latest_intent(tracker) in ANSWER_INTENTS:
            return {"return_reason": f"{OTHER_REASON}: {text[:200]}"}
        return {}

    async def extract_change_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._asked(tracker, "change_item"):
            return {}
        lines = await off_loop(order_lines, tracker)
        chosen = match_items(latest_text(tracker), lines) if not _ALL_ITEMS.search(latest_text(tracker)) else []
        if len(chosen) == 1:
            return {"change_item": chosen[0]}
        return {"change_item": UNCLEAR_ITEMS} if latest_intent(tracker) in ANSWER_INTENTS else {}

    async def extract_new_quantity(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._asked(tracker, "new_quantity"):
            return {}
        found = quantity_in(latest_text(tracker))
        if found is not None:
            return {"new_quantity": found}
        return {"new_quantity": UNCLEAR_ITEMS} if latest_intent(tracker) in ANSWER_INTENTS else {}

    async def extract_order_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "order_confirmed":
            return {}
        if entity_values(tracker, "order_id") or entity_values(tracker, "email"):
            return {}  # another order or e-mail: validated first, the question comes again
        intent, text = latest_intent(tracker), latest_text(tracker).strip()
        if intent == "deny" or text.startswith("/deny"):
            return {"order_confirmed": DECLINED}
        if intent == "affirm" or text.startswith("/affirm"):
            if text.startswith("/affirm") or is_explicit_yes(text):
                return {"order_confirmed": tracker.get_slot("confirmation_key") or UNCLEAR}
            return {"order_confirmed": UNCLEAR}
        return {}

    @staticmethod
    def _asked(tracker: Tracker, slot: str) -> bool:
        """This slot was asked, and the reply is not a way out (a human, "never mind")."""
        text = latest_text(tracker).strip()
        return (
            tracker.get_slot("requested_slot") == slot
            and bool(text)
            and not text.startswith("/")
            and latest_intent(tracker) not in ESCAPE_INTENTS
        )

    # ---- validation against the shop data ----
    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order_id = _normalise_order_id(str(value)) if value else None
        if order_id is None:
            dispatcher.utter_message(response="utter_invalid_order_id")
            return {"order_id": None}
        if is_locked(tracker):
            return {"order_id": order_id, "verified_order_id": None}
        fresh = {} if order_id == tracker.get_slot("verified_order_id") else self._forget_request_details()
        shop = get_services().shop
        # an e-mail already shown to be this customer's covers their other orders
        known = [*(tracker.get_slot("verified_emails") or []), tracker.get_slot("email")]
        for email in dict.fromkeys(_normalise_email(e) for e in known if e):
            if email and (await off_loop(shop.verify_order, order_id, email)).ok:
                verified = await self._verified(tracker, order_id, email)
                return {**fresh, "order_id": order_id, **verified}
        outcome = await off_loop(shop.verify_order, order_id, _PROBE_EMAIL)
        if outcome.code == "not_found":
            dispatcher.utter_message(response="utter_order_not_found", order_id=order_id)
            return {"order_id": None, "verified_order_id": None}
        # the order exists and no e-mail of this conversation is its customer's: ask for it
        # (validate_email checks one typed in this very message)
        email = tracker.get_slot("email")
        keep = email if email and given_now(tracker, _normalise_email(email) or "") else None
        return {**fresh, "order_id": order_id, "email": keep, "verified_order_id": None}

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = _normalise_email(str(value)) if value else None
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
            return {"email": None}
        order_id = tracker.get_slot("order_id")
        if not order_id or is_locked(tracker):
            return {"email": email}
        if tracker.get_slot("verified_order_id") == order_id and not given_now(tracker, email):
            return {"email": tracker.get_slot("email")}  # verified just now by another e-mail
        outcome = await off_loop(get_services().shop.verify_order, order_id, email)
        if outcome.ok:
            return {"email": email, **await self._verified(tracker, order_id, email)}
        if not given_now(tracker, email):  # an e-mail from earlier, not typed for this order
            return {"email": None, "verified_order_id": None}
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

    async def validate_return_items(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        items = [i for i in value or [] if isinstance(i, int)] if isinstance(value, list) else []
        if not items:
            dispatcher.utter_message(response="utter_return_items_unclear")
            return {"return_items": None}
        return {"return_items": items}

    async def validate_change_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied earlier in this turn (another request): nothing to say
            return {"change_item": None}
        if _whole(value) is None:
            dispatcher.utter_message(response="utter_change_item_unclear")
            return {"change_item": None}
        return {"change_item": _whole(value)}

    async def validate_new_quantity(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied earlier in this turn (another request): nothing to say
            return {"new_quantity": None}
        from shop.rules import MAX_QUANTITY

        quantity = _whole(value)
        if quantity is None or not 0 <= quantity <= MAX_QUANTITY:
            dispatcher.utter_message(response="utter_quantity_unclear", max=MAX_QUANTITY)
            return {"new_quantity": None}
        outcome = await off_loop(
            get_services().shop.change_quantity, tracker.get_slot("order_id"), tracker.get_slot("email"),
            changed_item(tracker), quantity, preview=True,
        )  # fmt: skip
        if outcome.code == "invalid_quantity":  # as it is already, or the order's last item gone
            say_quantity_refused(dispatcher, outcome.data)
            return {"new_quantity": None}
        return {"new_quantity": quantity}

    async def validate_return_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())[:250]
        return {"return_reason": text or None}

    async def validate_order_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # emptied earlier in this turn (another request): nothing to say
            return {"order_confirmed": None}
        if value == DECLINED:
            return {"order_confirmed": DECLINED}
        key = tracker.get_slot("confirmation_key")
        if value == UNCLEAR or not key or value != key:
            dispatcher.utter_message(response="utter_confirm_yes_or_no")
            return {"order_confirmed": None}
        return {"order_confirmed": value}

    # ---- helpers ----
    async def _verified(self, tracker: Tracker, order_id: str, email: str) -> dict[str, Any]:
        """The slots of a verified order: its customer's e-mail remembered, and what the request
        message already said (the item, the reason, the new address)."""
        emails = list(dict.fromkeys([*(tracker.get_slot("verified_emails") or []), email]))
        said = await off_loop(self._from_request_text, tracker, order_id, email)
        return {"email": email, "verified_order_id": order_id, "verified_emails": emails, **said}

    @staticmethod
    def _forget_request_details() -> dict[str, Any]:
        """Another order: nothing said or confirmed about the previous one carries over."""
        return {"return_items": None, "return_reason": None, "shipping_address": None,
                "change_item": None, "new_quantity": None, "order_confirmed": None,
                "confirmation_key": None}  # fmt: skip

    @staticmethod
    def _from_request_text(tracker: Tracker, order_id: str, email: str) -> dict[str, Any]:
        """Blocking (a shop preview): run off the event loop."""
        from shop.rules import OTHER_REASON, classify_return_reason

        request, text = request_of(tracker), request_text(tracker)
        if not text:
            return {}
        if request == "change_shipping_address" and not tracker.get_slot("shipping_address"):
            address = address_in_text(text)
            return {"shipping_address": address} if address else {}
        if request == "change_quantity":
            return quantity_request_slots(tracker, order_id, email, text)
        if request != "get_refund":
            return {}
        found: dict[str, Any] = {}
        label = classify_return_reason(text)
        if label and label != OTHER_REASON and not tracker.get_slot("return_reason"):
            found["return_reason"] = label
        outcome = get_services().shop.request_return(order_id, email, preview=True)
        lines = outcome.data.get("returnable_items") or []
        chosen = match_items(_ORDER_REF.sub(" ", text), lines) if len(lines) > 1 else []
        if chosen and not tracker.get_slot("return_items"):
            found["return_items"] = chosen
        return found
