"""Dialogue invariants of product search, as properties over generated conversations (real
encoder and Qdrant Edge on the 12-product catalog of the action tests):

- "more" (or "what else") never shows a product already shown in the conversation;
- "cheaper" never raises the cap and shows only products below the median of the last page,
  or says there is nothing cheaper;
- every product of a page meets every current constraint unless the reply says what it relaxed.

On the code before these invariants were enforced, the first failed after a refinement (paging
restarted and earlier products came back) and the second whenever nothing was cheaper (the
price was relaxed back up past what had been shown).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.recommend import ActionRecommendProducts, ActionShowMore
from recommender.matching import unmet
from recommender.query import Constraints
from tests.actions.conftest import payloads, responses, slot_events

START = ["running shoes", "hiking boots", "rain jackets", "show me running shoes under 80"]
TURNS = [
    ("cheaper", "refine_search"), ("anything cheaper?", "refine_search"),
    ("not so pricey", "refine_search"), ("not Nike", "refine_search"), ("in black", "refine_search"),
    ("under 100", "refine_search"), ("what else have you got?", "refine_search"),
    ("show more", "show_more"), ("more", "show_more"), ("any colour", "refine_search"),
]
RELAXED = {"utter_products_relaxed", "utter_relaxed_note"}


class Chat:
    """The slots of one conversation, carried from action to action as Rasa would."""

    def __init__(self, domain: dict[str, Any]) -> None:
        self.domain, self.slots = domain, {}
        self.shown: set[str] = set()

    async def say(self, text: str, intent: str) -> tuple[list[dict], list[str], dict]:
        message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
        tracker = Tracker("prop", dict(self.slots), message, [], False, None, {}, "action_listen")
        action = ActionShowMore() if intent == "show_more" else ActionRecommendProducts()
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, tracker, self.domain)
        self.slots.update(slot_events(events))
        items = [i for p in payloads(dispatcher) if p.get("type") == "products" for i in p["items"]]
        return items, responses(dispatcher), dict(self.slots)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.sampled_from(START), turns=st.lists(st.sampled_from(TURNS), min_size=1, max_size=5))
def test_more_cheaper_and_exact_matches_hold(services, domain, recommender, start, turns):
    asyncio.run(_conversation(domain, recommender, start, turns))


async def _conversation(domain, recommender, start, turns) -> None:
    chat = Chat(domain)
    items, _, _ = await chat.say(start, "search_product")
    last_prices = [i["price"] for i in items]
    chat.shown |= {i["id"] for i in items}
    for text, intent in turns:
        before = Constraints.from_dict(chat.slots.get("search_constraints"))
        items, said, slots = await chat.say(text, intent)
        ids = {i["id"] for i in items}
        if intent == "show_more" or "else" in text:
            assert not ids & chat.shown, f"{text!r} repeated {sorted(ids & chat.shown)}"
        after = Constraints.from_dict(slots.get("search_constraints"))
        if ("cheap" in text or "pricey" in text) and last_prices:
            assert after.price_max is not None
            assert before.price_max is None or after.price_max <= before.price_max
            median = statistics.median(last_prices)
            assert all(i["price"] < median for i in items) or "utter_no_cheaper" in said, \
                f"{text!r}: {[i['price'] for i in items]} against median {median}"
        if items and not RELAXED & set(said):  # nothing relaxed: every card is an exact match
            for item in items:
                payload = recommender.store.get([item["id"]])[0].payload
                assert not unmet(payload, after), f"{item['title']} misses {unmet(payload, after)}"
        chat.shown |= ids
        if items:
            last_prices = [i["price"] for i in items]
