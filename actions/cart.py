"""The shopper's cart, kept in the shop database per conversation (``tracker.sender_id``).

A line is a product in a size and colour: the widget's chooser sends them in the button's
payload (``/add_to_cart{"product_id", "size", "color"}``), a typed message as entities. Both
actions also send the cart as a ``cart`` payload, which the widget's mini cart shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import join_values, off_loop
from actions.recommend import product_or_ask
from actions.services import get_services
from common.money import format_money
from recommender.query import SIZE_WORDS


@dataclass(frozen=True)
class Variant:
    """The size and colour of a cart line (None: not chosen), or what the product lacks."""

    size: str | None = None
    color: str | None = None
    missing: str | None = None  # "size" or "color": the shopper asked for one it does not have


def _requested(tracker: Tracker, name: str) -> str | None:
    """The latest message's own value of an entity (no role: "not blue" chooses nothing)."""
    values = [str(e.get("value")).strip() for e in tracker.latest_message.get("entities") or []
              if e.get("entity") == name and not e.get("role") and str(e.get("value") or "").strip()]
    return values[-1] if values else None


def _match(asked: str, offered: list[str], words: dict[str, str] | None = None) -> str | None:
    """The product's own spelling of a value ("m", "medium" → "M"), or None when it has none."""
    key = asked.casefold()
    key = (words or {}).get(key, key).casefold()
    return next((value for value in offered if value.casefold() == key), None)


def choose_variant(product: Any, size: str | None, color: str | None) -> Variant:
    """The line's size and colour: what was asked, in the product's spelling; a product with one
    size or colour has it without asking; a value it does not have is ``missing``."""
    sizes, colors = [str(s) for s in product.sizes or []], [str(c) for c in product.colors or []]
    chosen: dict[str, str | None] = {}
    for name, asked, offered, words in (("size", size, sizes, SIZE_WORDS), ("color", color, colors, None)):
        if asked and offered:
            value = _match(asked, offered, words)
            if value is None:
                return Variant(missing=name)
            chosen[name] = value
        else:
            chosen[name] = offered[0] if len(offered) == 1 else None
    return Variant(chosen["size"], chosen["color"])


def cart_payload(data: dict[str, Any]) -> dict[str, Any]:
    """The ``cart`` json_message of a cart outcome (docs/architecture.md §3.4)."""
    return {
        "type": "cart",
        "items": [
            {"id": i["product_id"], "title": i["title"], "size": i.get("size"), "color": i.get("color"),
             "quantity": i["quantity"], "line_total": i["line_total"]}
            for i in data.get("items") or []
        ],
        "item_count": data.get("item_count", 0),
        "total": data.get("total", 0.0),
        "currency": data.get("currency") or "USD",
    }  # fmt: skip


class ActionAddToCart(Action):
    def name(self) -> str:
        return "action_add_to_cart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        product = await off_loop(product_or_ask, dispatcher, tracker)
        if product is None:
            return []
        variant = choose_variant(product, _requested(tracker, "size"), _requested(tracker, "color"))
        if variant.missing == "size":
            dispatcher.utter_message(response="utter_size_not_available", title=product.title,
                                     size=_requested(tracker, "size"), sizes=join_values(product.sizes, limit=12))
            return [SlotSet("focus_product_id", product.id)]
        if variant.missing == "color":
            dispatcher.utter_message(response="utter_color_not_available", title=product.title,
                                     color=_requested(tracker, "color"), colors=join_values(product.colors, limit=12))
            return [SlotSet("focus_product_id", product.id)]
        outcome = await off_loop(
            get_services().shop.add_to_cart, tracker.sender_id, product.id, product.title,
            product.price or 0.0, size=variant.size, color=variant.color,
        )  # fmt: skip
        if not outcome.ok:
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        data = outcome.data
        dispatcher.utter_message(
            response="utter_added_to_cart",
            title=product.title,
            item_count=data["item_count"],
            total=format_money(data["total"], data.get("currency")),
        )
        dispatcher.utter_message(json_message=cart_payload(data))
        return [SlotSet("focus_product_id", product.id)]


class ActionViewCart(Action):
    def name(self) -> str:
        return "action_view_cart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        outcome = await off_loop(get_services().shop.get_cart, tracker.sender_id)
        if not outcome.ok:
            dispatcher.utter_message(response="utter_cart_empty")
            if outcome.code == "cart_empty":  # the mini cart empties too; a failed read says nothing
                dispatcher.utter_message(json_message=cart_payload(outcome.data))
            return []
        data = outcome.data
        currency = data.get("currency")
        lines = "; ".join(
            f"{item['title']}{_variant_words(item)} × {item['quantity']} "
            f"({format_money(item['line_total'], currency)})"
            for item in data["items"]
        )
        dispatcher.utter_message(response="utter_cart_contents", lines=lines, total=format_money(data["total"], currency))
        dispatcher.utter_message(json_message=cart_payload(data))
        return []


def _variant_words(item: dict[str, Any]) -> str:
    """" (M, navy)" for a line with a size or colour; "" without."""
    words = ", ".join(str(item[k]) for k in ("size", "color") if item.get(k))
    return f" ({words})" if words else ""
