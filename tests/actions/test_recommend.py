"""Shopping actions on a 12-product catalog with known answers (real encoder and Qdrant Edge)."""

from __future__ import annotations

from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.cart import ActionAddToCart, ActionViewCart
from actions.recommend import (
    ActionCompareProducts,
    ActionProductDetails,
    ActionRecommendProducts,
    ActionRejectProduct,
    ActionShowMore,
    ActionStartOver,
)
from tests.actions.conftest import load_tracker, payloads, responses, slot_events

RUNNING_SHOES = {"T01", "T02", "T03", "T04", "T05", "T06"}  # all in stock; T01, T03 are Nike


async def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


async def test_search_applies_type_and_price(services, domain):
    dispatcher, events = await run(ActionRecommendProducts(), load_tracker("search_running_shoes_under_80"), domain)
    slots = slot_events(events)
    assert slots["search_constraints"]["product_type"] == "Running Shoes"
    assert slots["search_constraints"]["price_max"] == 80
    [payload] = payloads(dispatcher)
    assert payload["type"] == "products"
    ids = [item["id"] for item in payload["items"]]
    # every running shoe of the catalog at or under $80, and nothing else
    assert set(ids) == {"T01", "T02", "T04", "T05", "T06"}
    assert all(item["price"] <= 80 for item in payload["items"])
    assert slots["last_page_ids"] == ids and slots["shown_ids"] == ids
    assert responses(dispatcher) == ["utter_products_found"]


async def test_refine_excludes_a_brand(services, domain):
    dispatcher, events = await run(ActionRecommendProducts(), load_tracker("refine_not_nike"), domain)
    constraints = slot_events(events)["search_constraints"]
    assert constraints["exclude_brands"] == ["Nike"]
    [payload] = payloads(dispatcher)
    # every running shoe but the two Nike ones; the exclusion is not relaxed to fill the page
    assert {item["id"] for item in payload["items"]} == RUNNING_SHOES - {"T01", "T03"}
    assert payload["relaxed"] == []
    assert responses(dispatcher) == ["utter_products_found"]


async def test_show_more_never_repeats(services, domain):
    tracker = load_tracker("show_more")
    dispatcher, events = await run(ActionShowMore(), tracker, domain)
    [payload] = payloads(dispatcher)
    ids = [item["id"] for item in payload["items"]]
    assert set(ids) == RUNNING_SHOES - {"T01", "T02", "T03"}  # the three not shown yet
    assert payload["relaxed"] == []
    slots = slot_events(events)
    assert set(slots["shown_ids"]) == RUNNING_SHOES and slots["last_page_ids"] == ids
    assert responses(dispatcher) == ["utter_more_products"]


async def test_show_more_when_everything_was_shown(services, domain):
    everything = sorted(RUNNING_SHOES)
    tracker = load_tracker("show_more", shown_ids=everything, last_page_ids=everything[-3:])
    dispatcher, events = await run(ActionShowMore(), tracker, domain)
    # every running shoe was shown: nothing is shown again, and the shopper is told so
    assert responses(dispatcher) == ["utter_no_more_results"]
    assert payloads(dispatcher) == []
    slots = slot_events(events)
    assert slots["last_page_ids"] == [] and "shown_ids" not in slots  # the shown list is kept


async def test_vague_gift_request_asks_with_buttons(services, domain):
    dispatcher, events = await run(ActionRecommendProducts(), load_tracker("gift_for_dad"), domain)
    assert responses(dispatcher) == ["utter_ask_gift_category"]
    assert not payloads(dispatcher)
    buttons = domain["responses"]["utter_ask_gift_category"][0]["buttons"]
    assert buttons and all(b["payload"].startswith("/search_product") for b in buttons)


async def test_no_exact_match_is_relaxed_and_said(services, domain):
    """No running shoe is leather or under $10: price and material are relaxed (the product type
    is kept, as enough running shoes remain) and the shopper is told which."""
    dispatcher, events = await run(ActionRecommendProducts(), load_tracker("no_results"), domain)
    [message] = [m for m in dispatcher.messages if m.get("response")]
    assert message["response"] == "utter_products_relaxed"
    [payload] = payloads(dispatcher)
    expected = ["any price instead of under $10", "other materials than leather"]  # relaxation order
    assert payload["relaxed"] == expected
    assert message["relaxed"].split("; ") == expected
    ids = [item["id"] for item in payload["items"]]
    assert len(ids) == 5 and set(ids) <= RUNNING_SHOES  # a full page (PAGE_SIZE) of running shoes
    assert all("✗" in item["explanation"] for item in payload["items"])
    assert slot_events(events)["last_page_ids"] == ids


async def test_details_of_the_second_one(services, domain):
    dispatcher, events = await run(ActionProductDetails(), load_tracker("details_second"), domain)
    message = next(m for m in dispatcher.messages if m.get("response"))
    assert message["response"] == "utter_product_details"
    assert message["title"] == "Commuter Backpack"
    assert "utter_product_out_of_stock" in responses(dispatcher)  # T12 has stock 0
    assert slot_events(events) == {"focus_product_id": "T12"}


async def test_details_without_anything_shown(services, domain):
    tracker = load_tracker("details_second", last_page_ids=[], shown_ids=[])
    dispatcher, events = await run(ActionProductDetails(), tracker, domain)
    assert responses(dispatcher) == ["utter_nothing_shown_yet"] and events == []


async def test_compare_first_two(services, domain):
    dispatcher, _ = await run(ActionCompareProducts(), load_tracker("compare_first_two"), domain)
    [message] = [m for m in dispatcher.messages if m.get("response")]
    assert message["response"] == "utter_compare_two"
    assert (message["first_title"], message["second_title"]) == ("Daily Trainer Running Shoes", "Studio Wireless Headphones")
    assert message["cheaper"] == "Daily Trainer Running Shoes"
    assert [i["id"] for i in payloads(dispatcher)[0]["items"]] == ["T04", "T11"]


async def test_add_to_cart_writes_the_cart(services, domain, shop):
    dispatcher, events = await run(ActionAddToCart(), load_tracker("add_button"), domain)
    assert responses(dispatcher) == ["utter_added_to_cart"]
    cart = shop.get_cart("conv-cart")
    assert [(i["product_id"], i["quantity"]) for i in cart.data["items"]] == [("T07", 1)]
    dispatcher, _ = await run(ActionViewCart(), load_tracker("view_cart"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_cart_contents"
    assert "Ridge Waterproof Hiking Boots" in message["lines"] and message["total"] == "$129"


async def test_empty_cart(services, domain):
    dispatcher, _ = await run(ActionViewCart(), load_tracker("view_cart"), domain)
    assert responses(dispatcher) == ["utter_cart_empty"]


async def test_reject_keeps_it_out(services, domain):
    tracker = load_tracker("refine_not_nike")
    tracker.latest_message = {"text": "/reject_product", "intent": {"name": "reject_product"},
                              "entities": [{"entity": "product_id", "value": "T01"}]}
    dispatcher, events = await run(ActionRejectProduct(), tracker, domain)
    assert slot_events(events)["rejected_ids"] == ["T01"]
    assert responses(dispatcher) == ["utter_rejected_product"]
    # the rest of the page (T03) stays eligible; only the rejected shoe goes
    assert {i["id"] for i in payloads(dispatcher)[0]["items"]} == RUNNING_SHOES - {"T01"}


async def test_disliking_a_brand_refines_the_search(services, domain):
    tracker = load_tracker("refine_not_nike")
    tracker.latest_message = {"text": "I don't like Asics", "intent": {"name": "reject_product"},
                              "entities": []}
    dispatcher, events = await run(ActionRejectProduct(), tracker, domain)
    assert "Asics" in slot_events(events)["search_constraints"]["exclude_brands"]
    assert {i["id"] for i in payloads(dispatcher)[0]["items"]} == RUNNING_SHOES - {"T04", "T05"}


async def test_a_price_taken_for_a_product_question_refines_the_search(services, domain):
    tracker = load_tracker("refine_not_nike")
    tracker.latest_message = {"text": "ok, what about up to 70 then",
                              "intent": {"name": "product_details"}, "entities": []}
    dispatcher, events = await run(ActionProductDetails(), tracker, domain)
    assert slot_events(events)["search_constraints"]["price_max"] == 70
    [payload] = payloads(dispatcher)
    prices = [i["price"] for i in payload["items"]]
    assert prices[0] <= 70 and (all(p <= 70 for p in prices) or payload["relaxed"])
    assert "utter_which_product" not in responses(dispatcher)


async def test_start_over_clears_the_search(services, domain):
    dispatcher, events = await run(ActionStartOver(), load_tracker("start_over"), domain)
    slots = slot_events(events)
    assert slots["search_constraints"] is None
    assert slots["shown_ids"] == slots["liked_ids"] == slots["last_page_ids"] == []
    assert responses(dispatcher) == ["utter_start_over"]


async def test_a_message_with_an_order_number_opens_the_order_form_not_a_search(services, domain):
    for text, request in (("ORD-10401: I only want 1 of the tank tops, not 2", "change_order"),
                          ("ORD-10401 black tops", None)):
        tracker = load_tracker("fallback_first")
        tracker.latest_message.update(text=text, intent={"name": "refine_search", "confidence": 0.52},
                                      entities=[{"entity": "order_id", "value": "ORD-10401"},
                                                {"entity": "price", "value": "1"}])
        dispatcher = CollectingDispatcher()
        events = await ActionRecommendProducts().run(dispatcher, tracker, domain)
        assert payloads(dispatcher) == [] and events[-1] == FollowupAction("order_form"), text
        assert slot_events(events).get("order_request") == request
