"""Shopping actions on a 12-product catalog with known answers (real encoder and Qdrant Edge)."""

from __future__ import annotations

import json

import pytest
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
    table, cards = payloads(dispatcher)
    assert [i["id"] for i in cards["items"]] == ["T04", "T11"]
    assert table["type"] == "comparison" and [i["id"] for i in table["items"]] == ["T04", "T11"]
    rows = {row["label"]: row["values"] for row in table["rows"]}
    assert rows["Price"] == ["$60", "$199"]
    assert rows["Brand"] == ["Asics", "Sony"]
    assert rows["Rating"] == ["4.1/5 (64 reviews)", "4.8/5 (500 reviews)"]
    assert rows["Sizes"] == ["7, 8, 9", "n/a"] and rows["Colours"] == ["black", "black"]
    assert list(rows) == ["Price", "Brand", "Rating", "Colours", "Sizes", "Materials", "Availability"]


def add_button(product_id: str, **choice: str):
    """The widget's Add to cart payload: ``/add_to_cart{"product_id", "size"?, "color"?}``."""
    tracker = load_tracker("add_button")
    values = {"product_id": product_id, **choice}
    tracker.latest_message = {**tracker.latest_message, "text": f"/add_to_cart{json.dumps(values)}",
                              "entities": [{"entity": k, "value": v} for k, v in values.items()]}
    return tracker


async def test_add_to_cart_writes_the_cart(services, domain, shop):
    dispatcher, events = await run(ActionAddToCart(), load_tracker("add_button"), domain)
    assert responses(dispatcher) == ["utter_added_to_cart"]
    cart = shop.get_cart("conv-cart")
    # T07 comes in sizes 9-11 and one colour: the colour is its own, the size not chosen
    assert [(i["product_id"], i["size"], i["color"], i["quantity"]) for i in cart.data["items"]] == [
        ("T07", None, "brown", 1)]
    assert payloads(dispatcher) == [{
        "type": "cart", "item_count": 1, "total": 129.0, "currency": "USD",
        "items": [{"id": "T07", "title": "Ridge Waterproof Hiking Boots", "size": None,
                   "color": "brown", "quantity": 1, "line_total": 129.0}]}]
    dispatcher, _ = await run(ActionViewCart(), load_tracker("view_cart"), domain)
    message, (payload,) = dispatcher.messages[0], payloads(dispatcher)
    assert message["response"] == "utter_cart_contents"
    assert "Ridge Waterproof Hiking Boots (brown) × 1" in message["lines"] and message["total"] == "$129"
    assert payload["type"] == "cart" and payload["item_count"] == 1 and payload["total"] == 129.0


async def test_add_to_cart_keeps_the_chosen_size_and_colour(services, domain, shop):
    await run(ActionAddToCart(), add_button("T05", size="9", color="White"), domain)
    dispatcher, _ = await run(ActionAddToCart(), add_button("T05", size="8", color="blue"), domain)
    assert responses(dispatcher) == ["utter_added_to_cart"]
    [payload] = payloads(dispatcher)
    # the product's own spelling ("white"), one line per size and colour
    assert [(i["id"], i["size"], i["color"]) for i in payload["items"]] == [("T05", "9", "white"), ("T05", "8", "blue")]
    assert (payload["item_count"], payload["total"]) == (2, 156.0)
    # a size word names the catalog's size: "medium" is the rain jacket's M
    dispatcher, _ = await run(ActionAddToCart(), add_button("T09", size="medium"), domain)
    [payload] = payloads(dispatcher)
    assert (payload["items"][-1]["size"], payload["items"][-1]["color"]) == ("M", "yellow")


@pytest.mark.parametrize(("choice", "response", "said"), [
    ({"size": "12"}, "utter_size_not_available", {"size": "12", "sizes": "8, 9"}),
    ({"size": "9", "color": "red"}, "utter_color_not_available", {"color": "red", "colors": "blue, white"}),
])
async def test_add_to_cart_refuses_a_size_or_colour_the_product_lacks(services, domain, shop, choice,
                                                                      response, said):
    dispatcher, events = await run(ActionAddToCart(), add_button("T05", **choice), domain)
    [message] = dispatcher.messages
    assert message["response"] == response and message["title"] == "Cloud Glide Running Shoes"
    assert {k: message[k] for k in said} == said
    assert not shop.get_cart("conv-cart").ok  # nothing added
    assert slot_events(events) == {"focus_product_id": "T05"}


async def test_empty_cart(services, domain):
    dispatcher, _ = await run(ActionViewCart(), load_tracker("view_cart"), domain)
    assert responses(dispatcher) == ["utter_cart_empty"]
    assert payloads(dispatcher) == [{"type": "cart", "items": [], "item_count": 0, "total": 0.0,
                                     "currency": "USD"}]


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
