"""Product search that holds a conversation: search, refine, page, details, compare, like/reject.

The running search lives in slots (``search_constraints`` as a dict, ``shown_ids``,
``last_page_ids`` …); ``recommender.query.apply_turn`` folds each message into it and the
recommender (off the event loop) returns the page, sent as the ``products`` payload.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.carried import not_carried_reply
from actions.common import (
    entity_values,
    join_values,
    latest_text,
    off_loop,
    ordinal_positions,
    pick,
)
from actions.faq import question_answer
from actions.forms import wants_quantity_change
from actions.services import get_services
from common.metrics import STAGE_SECONDS, log_turn
from common.money import format_money
from recommender.query import GIFT_WORDS

if TYPE_CHECKING:
    from recommender.query import Constraints

logger = logging.getLogger(__name__)

PAGE_SIZE = 5
MAX_TRACKED = 200  # ids kept in shown/liked/rejected lists
VAGUE_WORDS = GIFT_WORDS | {"dad", "mom", "mum", "father", "mother", "wife", "husband", "friend", "son",
                            "daughter", "someone", "idea", "ideas", "shopping", "nice", "cool", "want", "need"}  # fmt: skip


MORE_CUES = re.compile(r"\b(?:what|anything|something) else\b|\bother (?:ones|options)\b|"
                       r"\bmore\b(?! (?:expensive|like|affordable|premium|upmarket))|\bothers\b", re.I)


def _list(tracker: Tracker, slot: str) -> list[str]:
    return [str(x) for x in tracker.get_slot(slot) or []]


def shopper_text(tracker: Tracker) -> str:
    """The latest message's text, or "" for a button payload ("/search_product{…}")."""
    text = latest_text(tracker)
    return "" if text.startswith("/") else text


def is_vague(constraints: Any) -> bool:
    """Nothing to search on yet ("a gift for my dad", "I want to buy something")."""
    if constraints.product_type or constraints.category or constraints.brands:
        return False
    if constraints.colors or constraints.materials:
        return False
    return all(word in VAGUE_WORDS for word in constraints.keywords)


def summary(constraints: Any) -> str:
    """The catalog words of the search, e.g. "blue Nike running shoes" (data, not prose)."""
    what = constraints.product_type or constraints.category or ""
    parts = [*constraints.colors, *constraints.materials, *constraints.brands, what.lower()]
    text = " ".join(p for p in parts if p).strip()
    return text or "items"


def product_item(product: Any) -> dict[str, Any]:
    """One product in the ``products`` payload shape (for details and comparisons)."""
    return {
        "id": product.id,
        "title": product.title,
        "price": product.price,
        "currency": product.currency,
        "image_url": product.image_url or f"/images/{product.id}.svg",
        "url": product.url or f"/products/{product.id}",
        "explanation": "",
        "matched": [],
    }


def _rating(product: Any) -> str:
    if product.rating is None:
        return "n/a"
    reviews = f" ({product.review_count} reviews)" if product.review_count else ""
    return f"{product.rating:g}/5{reviews}"


def _stock(product: Any) -> str:
    return "n/a" if product.stock is None else "In stock" if product.stock > 0 else "Out of stock"


# the comparison table's rows: label and the product's value in words
COMPARED: tuple[tuple[str, Any], ...] = (
    ("Price", lambda p: format_money(p.price, p.currency) if p.price is not None else "n/a"),
    ("Brand", lambda p: p.brand or "n/a"),
    ("Rating", _rating),
    ("Colours", lambda p: join_values(p.colors, limit=8)),
    ("Sizes", lambda p: join_values(p.sizes, limit=12)),
    ("Materials", lambda p: join_values(p.materials)),
    ("Availability", _stock),
)


def comparison_payload(products: list[Any]) -> dict[str, Any]:
    """The ``comparison`` json_message: the products and one row per compared property."""
    return {
        "type": "comparison",
        "items": [product_item(p) for p in products],
        "rows": [{"label": label, "values": [value(p) for p in products]} for label, value in COMPARED],
    }


def resolve_product_id(tracker: Tracker) -> str | None:
    """The product the shopper means: a button's product_id, an ordinal of the last page,
    the product in focus, or the only product shown."""
    ids = entity_values(tracker, "product_id")
    if ids:
        return ids[-1]
    page = _list(tracker, "last_page_ids")
    positions = ordinal_positions(tracker)
    if positions:
        return pick(page, positions[0])
    if tracker.get_slot("focus_product_id"):
        return tracker.get_slot("focus_product_id")
    return page[0] if len(page) == 1 else None


def _state(tracker: Tracker, constraints: Any, **overrides: Any) -> Any:
    from recommender.query import ConversationState

    values = {
        "constraints": constraints,
        "user_turns": _list(tracker, "user_turns"),
        "shown_ids": _list(tracker, "shown_ids"),
        "liked_ids": _list(tracker, "liked_ids"),
        "rejected_ids": _list(tracker, "rejected_ids"),
        "shown_prices": [float(p) for p in tracker.get_slot("shown_prices") or []],
    }
    values.update(overrides)
    return ConversationState(**values)


def _constraints(tracker: Tracker) -> Any:
    from recommender.query import Constraints

    return Constraints.from_dict(tracker.get_slot("search_constraints") or {})


async def show_page(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    constraints: Any,
    state: Any,
    *,
    found_response: str = "utter_products_found",
    empty_response: str = "utter_no_results",
    **response_vars: Any,
) -> list[EventType]:
    """Run the recommender, send text + products payload, and return the slot updates."""
    try:
        recommendation = await off_loop(get_services().recommender.recommend, state, PAGE_SIZE)
    except Exception:  # store or encoder down: say so, keep the constraints for when it is back
        logger.exception("product search failed")
        dispatcher.utter_message(response="utter_service_unavailable")
        return [SlotSet("search_constraints", constraints.to_dict())]
    items = list(recommendation.suggestions)
    for stage, ms in recommendation.timings.items():
        STAGE_SECONDS.labels(stage).observe(ms / 1000)
    log_turn(process="actions", conversation=tracker.sender_id[:12], products=len(items),
             **{f"{stage}_ms": ms for stage, ms in recommendation.timings.items()})
    text_vars = {"summary": summary(constraints), "count": len(items), **response_vars}
    if not items:
        if constraints.price_firm and empty_response == "utter_no_results":
            empty_response = "utter_no_cheaper"  # honest: nothing below what was shown
        dispatcher.utter_message(response=empty_response, **text_vars)
        return [SlotSet("search_constraints", constraints.to_dict()), SlotSet("last_page_ids", [])]
    relaxed = "; ".join(recommendation.relaxed or [])
    if relaxed and found_response == "utter_products_found":
        dispatcher.utter_message(response="utter_products_relaxed", relaxed=relaxed, **text_vars)
    else:
        dispatcher.utter_message(response=found_response, **text_vars)
        if relaxed:  # "more", "more like this": a page past the exact matches says so
            dispatcher.utter_message(response="utter_relaxed_note", relaxed=relaxed)
    dispatcher.utter_message(json_message=recommendation.to_payload())
    page_ids = [s.id for s in items]
    prices = [s.price for s in items if s.price is not None]
    # every product shown in the conversation, whatever search showed it: "more" skips them all
    shown = list(dict.fromkeys(_list(tracker, "shown_ids") + state.shown_ids + page_ids))[-MAX_TRACKED:]
    return [
        SlotSet("search_constraints", constraints.to_dict()),
        SlotSet("shown_ids", shown),
        SlotSet("last_page_ids", page_ids),
        SlotSet("shown_prices", prices),
        SlotSet("focus_product_id", None),
    ]


class ActionRecommendProducts(Action):
    """A new or refined search: fold the message into the constraints and show the first page."""

    def name(self) -> str:
        return "action_recommend_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        from recommender.query import apply_turn

        text = shopper_text(tracker)
        if entity_values(tracker, "order_id"):  # "ORD-10401: I only want 1 of the tank tops"
            # an order matter the NLU read as shopping (its bare numbers were price entities, so
            # no rule for an order number matched): the order form, never a product search
            request = [SlotSet("order_request", "change_order")] if wants_quantity_change(text) else []
            return [*request, FollowupAction("order_form")]
        recommender = get_services().recommender
        before = _constraints(tracker)
        constraints = apply_turn(
            before,
            text,
            tracker.latest_message.get("entities") or [],
            recommender.vocabulary,
            [float(p) for p in tracker.get_slot("shown_prices") or []],
        )
        if await off_loop(not_carried_reply, dispatcher, tracker):  # "do you sell laptops?"
            return []
        # a policy question in shopping words ("will the hoodie come back in stock?") gets the
        # FAQ's answer and leaves the search as it was; one that sets a filter is a search
        if not changes_filters(before, constraints) and (answer := await off_loop(question_answer, text)):
            dispatcher.utter_message(response="utter_faq_answer", answer=answer.answer)
            return []
        turns = ([*_list(tracker, "user_turns"), text] if text else _list(tracker, "user_turns"))[-3:]
        events: list[EventType] = [SlotSet("user_turns", turns)]
        if is_vague(constraints):
            gift = any(word in GIFT_WORDS for word in constraints.keywords)
            dispatcher.utter_message(response="utter_ask_gift_category" if gift else "utter_ask_category")
            return [*events, SlotSet("search_constraints", constraints.to_dict())]
        # a (re)defined search may show earlier products again, unless "what else" asks for new ones
        keep = _list(tracker, "shown_ids") if MORE_CUES.search(text) else []
        state = _state(tracker, constraints, user_turns=turns, shown_ids=keep)
        return events + await show_page(dispatcher, tracker, constraints, state)


class ActionShowMore(Action):
    def name(self) -> str:
        return "action_show_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not tracker.get_slot("search_constraints") and not _list(tracker, "shown_ids"):
            dispatcher.utter_message(response="utter_nothing_shown_yet")
            return []
        constraints = _constraints(tracker)
        return await show_page(
            dispatcher, tracker, constraints, _state(tracker, constraints),
            found_response="utter_more_products", empty_response="utter_no_more_results",
        )  # fmt: skip


REFINED = ("colors", "exclude_colors", "brands", "exclude_brands", "materials", "exclude_materials",
           "sizes", "gender", "price_min", "price_max")


def changes_filters(before: Constraints, after: Constraints) -> bool:
    """Whether a message changed a colour, brand, material, size, gender or price."""
    return any(getattr(before, name) != getattr(after, name) for name in REFINED)


def is_refinement(tracker: Tracker, or_new_search: bool = False) -> bool:
    """Whether a message taken for a product reference refines the search instead ("I don't
    like Quillon", "what about up to 90", "for a man, size M"): it names no product or position
    and changes a colour, brand, material, size, gender or price of the running search. With
    ``or_new_search``, naming another product type or category counts too ("a jumper for my
    daughter": the catalog's words, synonyms and typos, which the NLU may not know)."""
    from recommender.query import apply_turn

    if entity_values(tracker, "product_id"):
        return False
    before = _constraints(tracker)
    after = apply_turn(before, shopper_text(tracker), [], get_services().recommender.vocabulary,
                       [float(p) for p in tracker.get_slot("shown_prices") or []])
    named = (after.product_type, after.category)
    if or_new_search and any(named) and named != (before.product_type, before.category):
        return True  # another kind of product: "my daughter's 6" is an age, not the sixth card
    return not ordinal_positions(tracker) and changes_filters(before, after)


def asks_for_a_gift(tracker: Tracker) -> bool:
    """"I need a gift for my teenage daughter, she loves cosy stuff": a gift request that says
    something about the person (not just "a gift for my dad") is a search, whatever the NLU made
    of it."""
    from recommender.query import Constraints, apply_turn, words

    text = shopper_text(tracker)
    if not any(word in GIFT_WORDS for word in words(text)):
        return False
    return not is_vague(apply_turn(Constraints(), text, [], get_services().recommender.vocabulary))


def product_or_ask(dispatcher: CollectingDispatcher, tracker: Tracker) -> Any:
    product_id = resolve_product_id(tracker)
    if product_id is None:
        if _list(tracker, "last_page_ids"):
            dispatcher.utter_message(response="utter_which_product")
        else:
            dispatcher.utter_message(response="utter_nothing_shown_yet")
        return None
    product = get_services().recommender.product(product_id)
    if product is None:
        dispatcher.utter_message(response="utter_which_product")
    return product


class ActionProductDetails(Action):
    def name(self) -> str:
        return "action_product_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if await off_loop(is_refinement, tracker):  # "what about up to 90 then"
            return await ActionRecommendProducts().run(dispatcher, tracker, domain)
        product = await off_loop(product_or_ask, dispatcher, tracker)
        if product is None:
            return []
        dispatcher.utter_message(
            response="utter_product_details",
            title=product.title,
            brand=product.brand or "n/a",
            price=format_money(product.price, product.currency),
            description=product.description,
            colors=join_values(product.colors),
            sizes=join_values(product.sizes, limit=8),
            rating=product.rating if product.rating is not None else "n/a",
        )
        if product.stock is not None and product.stock <= 0:
            dispatcher.utter_message(response="utter_product_out_of_stock")
        dispatcher.utter_message(json_message={"type": "products", "items": [product_item(product)], "relaxed": []})
        return [SlotSet("focus_product_id", product.id)]


class ActionCompareProducts(Action):
    def name(self) -> str:
        return "action_compare_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        page = _list(tracker, "last_page_ids")
        ids = entity_values(tracker, "product_id")
        positions = ordinal_positions(tracker)
        if len(ids) < 2:
            chosen = [pick(page, p) for p in positions[:2]] if len(positions) >= 2 else page[:2]
            ids = [i for i in chosen if i]
        recommender = get_services().recommender
        products = [p for p in (await off_loop(lambda: [recommender.product(i) for i in ids[:2]])) if p]
        if len(products) < 2:
            dispatcher.utter_message(response="utter_need_two_products")
            return []
        first, second = products
        fields: dict[str, Any] = {}
        for key, product in (("first", first), ("second", second)):
            fields[f"{key}_title"] = product.title
            fields[f"{key}_price"] = format_money(product.price, product.currency)
            fields[f"{key}_brand"] = product.brand or "n/a"
            fields[f"{key}_rating"] = product.rating if product.rating is not None else "n/a"
            fields[f"{key}_colors"] = join_values(product.colors, limit=3)
        cheaper = first if (first.price or 0) <= (second.price or 0) else second
        dispatcher.utter_message(response="utter_compare_two", cheaper=cheaper.title, **fields)
        dispatcher.utter_message(json_message=comparison_payload([first, second]))
        dispatcher.utter_message(  # the cards: add to cart, more like this (and clicks to learn from)
            json_message={"type": "products", "items": [product_item(first), product_item(second)], "relaxed": []}
        )
        return []


class ActionMoreLikeThis(Action):
    def name(self) -> str:
        return "action_more_like_this"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if await off_loop(is_refinement, tracker):  # "more like that but in blue" names no product
            return await ActionRecommendProducts().run(dispatcher, tracker, domain)
        product = await off_loop(product_or_ask, dispatcher, tracker)
        if product is None:
            return []
        liked = list(dict.fromkeys([*_list(tracker, "liked_ids"), product.id]))[-MAX_TRACKED:]
        constraints = _constraints(tracker)
        state = _state(tracker, constraints, liked_ids=liked)
        events = await show_page(
            dispatcher, tracker, constraints, state,
            found_response="utter_more_like_this", empty_response="utter_no_more_results", title=product.title,
        )  # fmt: skip
        return [SlotSet("liked_ids", liked), *events]


class ActionRejectProduct(Action):
    def name(self) -> str:
        return "action_reject_product"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if await off_loop(is_refinement, tracker):  # "I don't like Quillon"
            return await ActionRecommendProducts().run(dispatcher, tracker, domain)
        product = await off_loop(product_or_ask, dispatcher, tracker)
        if product is None:
            return []
        rejected = list(dict.fromkeys([*_list(tracker, "rejected_ids"), product.id]))[-MAX_TRACKED:]
        constraints = _constraints(tracker)
        # the rest of the current page stays eligible; only the rejected product goes
        page_rest = [i for i in _list(tracker, "shown_ids") if i not in _list(tracker, "last_page_ids")]
        state = _state(tracker, constraints, rejected_ids=rejected, shown_ids=page_rest)
        events = await show_page(
            dispatcher, tracker, constraints, state,
            found_response="utter_rejected_product", empty_response="utter_no_more_results", title=product.title,
        )  # fmt: skip
        return [SlotSet("rejected_ids", rejected), *events]


class ActionStartOver(Action):
    def name(self) -> str:
        return "action_start_over"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_start_over")
        return [
            SlotSet(slot, value)
            for slot, value in (
                ("search_constraints", None), ("shown_ids", []), ("last_page_ids", []),
                ("shown_prices", []), ("liked_ids", []), ("rejected_ids", []),
                ("user_turns", []), ("focus_product_id", None),
            )
        ]  # fmt: skip
