"""bot.cards: the product card fields the gateway adds to the products payload."""

from __future__ import annotations

from bot.cards import enrich_item, enrich_messages, split_explanation
from recommender.catalog import Product

JACKET = Product(id="P7", title="Rain Shell", brand="Fjellby", price=120.0, gender="women",
                 category=["Apparel", "Outerwear", "Rain Jackets"], colors=["black", "green"],
                 sizes=["S", "M"])


def test_the_explanation_is_split_into_what_matches_and_what_was_relaxed():
    met, unmet = split_explanation(
        "rain jackets ✓ · green ✓ · $165.00, outside under $150 ✗ · 'hood' in title · not blue ✗")
    assert met == ["rain jackets", "green", "'hood' in title"]
    assert unmet == ["$165.00, outside under $150", "not blue"]
    assert split_explanation("closest match to what you described") == ([], [])
    assert split_explanation("") == ([], [])


def test_cards_get_catalog_fields_and_the_matched_colour_in_the_picture():
    item = {"id": "P7", "title": "Rain Shell", "image_url": "/images/P7.svg",
            "explanation": "green ✓ · under $150 ✓"}
    card = enrich_item(item, {"P7": JACKET})
    assert card["sizes"] == ["S", "M"] and card["gender"] == "women" and card["brand"] == "Fjellby"
    assert card["kind"] == "Rain Jackets" and card["colors"] == ["black", "green"]
    assert card["image_url"] == "/images/P7.svg?color=green"  # "green ✓" is drawn green
    black = enrich_item({**item, "explanation": "black ✓"}, {"P7": JACKET})
    assert black["image_url"] == "/images/P7.svg"  # the first colour is the default drawing
    foreign = enrich_item({**item, "image_url": "https://cdn.example/p7.jpg"}, {"P7": JACKET})
    assert foreign["image_url"] == "https://cdn.example/p7.jpg"  # a shop's own photo is kept


def test_unknown_products_and_other_messages_pass_through():
    assert enrich_item({"id": "nope", "title": "X", "explanation": "red ✗"}, {}) == {
        "id": "nope", "title": "X", "explanation": "red ✗", "met": [], "unmet": ["red"]}
    text = {"type": "text", "text": "hi"}
    assert enrich_messages([text], {"P7": JACKET}) == [text]
