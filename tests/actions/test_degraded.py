"""Each dependency degrades on its own: the vector store down → searches say so and keep the
shopper's constraints, while the order flows still answer; the shop database down → the reverse."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ActionOrderRequest
from actions.recommend import ActionRecommendProducts
from actions.services import Services, set_services
from tests.actions.conftest import load_tracker, payloads, responses, slot_events


class DeadStore:
    """The real recommender, but its vector store is unreachable."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def recommend(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("qdrant: connection refused")


class DeadShop:
    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("shop database: connection refused")
        return call


async def run(action: Any, tracker: Any, domain: dict) -> tuple[CollectingDispatcher, list]:
    dispatcher = CollectingDispatcher()
    return dispatcher, await action.run(dispatcher, tracker, domain)


async def test_store_down_search_says_so_and_orders_still_work(shop, recommender, faq, domain) -> None:
    set_services(Services(shop=shop, recommender=DeadStore(recommender), faq=faq))
    try:
        dispatcher, events = await run(ActionRecommendProducts(),
                                       load_tracker("search_running_shoes_under_80"), domain)
        assert responses(dispatcher) == ["utter_service_unavailable"] and payloads(dispatcher) == []
        constraints = slot_events(events)["search_constraints"]
        assert constraints["price_max"] == 80  # kept for the turn after the store is back
        dispatcher, _ = await run(ActionOrderRequest(), load_tracker("request_track_shipped"), domain)
        assert responses(dispatcher) == ["utter_order_status_shipped"]
    finally:
        set_services(None)


async def test_shop_down_orders_say_so_and_search_still_works(recommender, faq, domain) -> None:
    set_services(Services(shop=DeadShop(), recommender=recommender, faq=faq))
    try:
        dispatcher, _ = await run(ActionOrderRequest(), load_tracker("request_track_shipped"), domain)
        assert "utter_service_unavailable" in responses(dispatcher)
        dispatcher, _ = await run(ActionRecommendProducts(), load_tracker("search_running_shoes_under_80"),
                                  domain)
        assert payloads(dispatcher) and payloads(dispatcher)[0]["items"]
    finally:
        set_services(None)
