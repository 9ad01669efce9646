"""The shopper's cart, kept in the shop database per conversation (``tracker.sender_id``)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import off_loop
from actions.recommend import product_or_ask
from actions.services import get_services
from common.money import format_money


class ActionAddToCart(Action):
    def name(self) -> str:
        return "action_add_to_cart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        product = await off_loop(product_or_ask, dispatcher, tracker)
        if product is None:
            return []
        outcome = await off_loop(
            get_services().shop.add_to_cart, tracker.sender_id, product.id, product.title, product.price or 0.0
        )
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
            return []
        data = outcome.data
        currency = data.get("currency")
        lines = "; ".join(
            f"{item['title']} × {item['quantity']} ({format_money(item['line_total'], currency)})"
            for item in data["items"]
        )
        dispatcher.utter_message(response="utter_cart_contents", lines=lines, total=format_money(data["total"], currency))
        return []
