"""Conversation → constraints → filter: pure, table-driven."""

from __future__ import annotations

import json

import pytest

from recommender.query import (
    Constraints,
    ConversationState,
    apply_turn,
    build_query,
    parse_price,
    parse_rating,
    to_filter,
)
from recommender.store.base import AnyOf, HasProductId, Range

C = Constraints

# (start constraints, message, expected subset of fields after the turn)
TURNS = [
    (C(), "waterproof hiking boots", dict(product_type="Hiking Boots", keywords=["waterproof"])),
    (C(), "hiking boots for men under $150", dict(product_type="Hiking Boots", gender="men", price_max=150.0)),
    (C(), "red running shoes", dict(product_type="Running Shoes", colors=["red"])),
    (C(), "show me Nike sneakers", dict(product_type="Sneakers", brands=["Nike"])),
    (C(), "sneakers, not Nike", dict(product_type="Sneakers", exclude_brands=["Nike"], brands=[])),
    (C(), "jackets but not from Patagonia", dict(category="Outerwear", exclude_brands=["Patagonia"])),
    (C(), "no leather please", dict(exclude_materials=["leather"])),
    (C(), "boots without leather", dict(category="Boots", exclude_materials=["leather"])),
    (C(), "anything but red", dict(exclude_colors=["red"], colors=[])),
    (C(), "not Nike or Adidas", dict(exclude_brands=["Nike", "Adidas"])),
    (C(), "I don't like black, show blue", dict(exclude_colors=["black"], colors=["blue"])),
    (C(), "no leather, suede is fine", dict(exclude_materials=["leather"], materials=["suede"])),
    (C(colors=["red"]), "in blue instead", dict(colors=["blue"])),
    (C(colors=["red"]), "what about navy", dict(colors=["navy"])),
    (C(colors=["red"]), "also in blue", dict(colors=["red", "blue"])),
    (C(colors=["red"]), "or blue", dict(colors=["red", "blue"])),
    (C(colors=["red"]), "blue too", dict(colors=["red", "blue"])),
    (C(colors=["red"]), "not red", dict(colors=[], exclude_colors=["red"])),
    (C(exclude_colors=["red"]), "actually red is fine, red please", dict(colors=["red"], exclude_colors=[])),
    (C(brands=["Nike"]), "Adidas instead", dict(brands=["Adidas"])),
    (C(exclude_brands=["Nike"]), "not Adidas either", dict(exclude_brands=["Nike", "Adidas"])),
    (C(materials=["leather"]), "suede instead", dict(materials=["suede"])),
    (C(), "size 10", dict(sizes=["10"])),
    (C(), "in size M", dict(sizes=["M"])),
    (C(), "for women", dict(gender="women")),
    (C(), "something for my husband, he is a man", dict(gender="men")),
    (C(), "under 50 bucks", dict(price_max=50.0, price_min=None)),
    (C(), "below $80", dict(price_max=80.0)),
    (C(), "less than 100 dollars", dict(price_max=100.0)),
    (C(), "between 20 and 40", dict(price_min=20.0, price_max=40.0)),
    (C(), "$30-60", dict(price_min=30.0, price_max=60.0)),
    (C(), "$30 to $60", dict(price_min=30.0, price_max=60.0)),
    (C(), "30-60 dollars", dict(price_min=30.0, price_max=60.0)),
    (C(), "over 100", dict(price_min=100.0, price_max=None)),
    (C(), "at least $200", dict(price_min=200.0)),
    (C(), "around $100", dict(price_min=80.0, price_max=120.0)),
    (C(), "max 1k", dict(price_max=1000.0)),
    (C(price_max=50.0), "any price is ok", dict(price_max=None)),
    (C(), "at least 4 stars", dict(min_rating=4.0, price_min=None)),
    (C(), "highly rated headphones", dict(min_rating=4.5, product_type="Headphones")),
    (C(), "include out of stock", dict(in_stock_only=False)),
    (C(), "a tent for 6 people", dict(product_type="Tents", price_min=None)),
    (C(), "water bottle that keeps drinks cold for 24 hours", dict(product_type="Bottles", price_min=None)),
    # a new department starts a new search; the same department keeps the constraints
    (C(product_type="Hiking Boots", sizes=["10"], colors=["brown"], gender="men"), "headphones",
     dict(product_type="Headphones", sizes=[], colors=[], gender="men")),
    (C(product_type="Hiking Boots", sizes=["10"], gender="men"), "running shoes",
     dict(product_type="Running Shoes", sizes=["10"])),
    (C(product_type="Hiking Boots"), "boots", dict(product_type="Hiking Boots")),
    (C(product_type="Hiking Boots", price_max=150.0), "in brown", dict(product_type="Hiking Boots",
                                                                       colors=["brown"], price_max=150.0)),
]


@pytest.mark.parametrize(("start", "text", "expected"), TURNS, ids=[t[1] for t in TURNS])
def test_apply_turn(vocab, start, text, expected):
    result = apply_turn(start, text, [], vocab)
    for key, value in expected.items():
        assert getattr(result, key) == value, key
    assert start == start.copy()  # the input is not mutated


ENTITY_TURNS = [
    ([{"entity": "color", "value": "Red"}], "red ones", dict(colors=["red"])),
    ([{"entity": "brand", "value": "nike"}], "nike", dict(brands=["Nike"])),
    ([{"entity": "brand", "value": "nike", "start": 4}], "not nike", dict(exclude_brands=["Nike"])),
    ([{"entity": "brand", "value": "Nike", "role": "exclude"}], "xx", dict(exclude_brands=["Nike"])),
    ([{"entity": "price", "value": "50", "role": "max"}], "under fifty", dict(price_max=50.0)),
    ([{"entity": "price", "value": "$20", "role": "min"}, {"entity": "price", "value": "40 bucks", "role": "max"}],
     "from twenty to forty", dict(price_min=20.0, price_max=40.0)),
    ([{"entity": "price", "value": "70"}], "70", dict(price_max=70.0)),
    # Rasa tags both numbers as prices; the text says which is the size
    ([{"entity": "price", "value": "120", "role": "max"}, {"entity": "price", "value": "10", "role": "max"}],
     "waterproof hiking boots under 120, size 10", dict(price_max=120.0, sizes=["10"])),
    ([{"entity": "price", "value": "10", "role": "max"}], "boots in size 10", dict(price_max=None, sizes=["10"])),
    ([{"entity": "product_type", "value": "headphones"}], "headphones", dict(product_type="Headphones")),
    ([{"entity": "product_type", "value": "footwear"}], "footwear", dict(category="Footwear")),
    ([{"entity": "size", "value": "10"}], "10", dict(sizes=["10"])),
    ([{"entity": "gender", "value": "ladies"}], "for ladies", dict(gender="women")),
    ([{"entity": "pattern", "value": "floral"}], "floral", dict(keywords=["floral"])),
    ([{"entity": "brand", "value": "UnknownCo"}], "unknownco", dict(brands=[], keywords=["unknownco"])),
]


@pytest.mark.parametrize(("entities", "text", "expected"), ENTITY_TURNS,
                         ids=[str(e[0][0]["value"]) + "-" + e[1] for e in ENTITY_TURNS])
def test_apply_turn_entities(vocab, entities, text, expected):
    result = apply_turn(Constraints(), text, entities, vocab)
    for key, value in expected.items():
        assert getattr(result, key) == value, key


@pytest.mark.parametrize(("text", "shown", "expected"), [
    ("cheaper ones", [100.0, 120.0, 140.0], (None, 119.0)),
    ("something more expensive", [40.0, 60.0], (52.5, None)),
    ("cheaper", [], (None, None)),
    ("size 10", [], (None, None)),
    ("2 person tent", [], (None, None)),
    ("under 25", [], (None, 25.0)),
    ("from $10 to $20", [], (10.0, 20.0)),
    ("no more than 60 euros", [], (None, 60.0)),
])
def test_parse_price(text, shown, expected):
    assert parse_price(text, shown) == expected


def test_cheap_uses_the_cheapest_third_of_the_type(vocab):
    c = apply_turn(Constraints(), "cheap earbuds", [], vocab)
    assert c.product_type == "Earbuds" and c.price_max == 19.0


@pytest.mark.parametrize(("text", "expected"), [
    ("4+ stars", 4.0), ("rated 4.5", 4.5), ("top rated", 4.5), ("7 stars", None), ("boots", None),
])
def test_parse_rating(text, expected):
    assert parse_rating(text) == expected


def test_constraints_round_trip_through_a_slot():
    c = Constraints(product_type="Hiking Boots", colors=["navy"], exclude_brands=["Nike"], price_max=120.0)
    assert Constraints.from_dict(json.dumps(c.to_dict())) == c  # a slot may hold it as JSON text
    assert Constraints.from_dict({"colors": "red", "unknown": 1}).colors == ["red"]
    assert Constraints.from_dict(None) == Constraints()


def test_filter_and_query_from_state():
    c = Constraints(product_type="Hiking Boots", colors=["navy"], exclude_brands=["Nike"],
                    gender="women", price_max=120.0, keywords=["waterproof"])
    state = ConversationState(constraints=c, user_turns=["x"], shown_ids=["F01"], liked_ids=["F02"],
                              rejected_ids=["F03"])
    q = build_query(state)
    assert q.exclude_ids == ["F01", "F03"] and q.positive_ids == ["F02"] and q.negative_ids == ["F03"]
    assert "waterproof" in q.text and "navy" in q.text and "Nike" not in q.text
    # the dense encoder reads whom it is for; the keyword ranking does not (the filter holds it)
    assert "for women" in q.text and q.keyword_text == q.text.replace(" for women", "")
    spec = to_filter(c, q.exclude_ids)
    assert AnyOf("gender", ("women", "unisex")) in spec.must
    assert Range("price", gte=None, lte=120.0) in spec.must
    assert AnyOf("brand", ("Nike",)) in spec.must_not
    assert HasProductId(("F01", "F03")) in spec.must_not
    assert ConversationState.from_dict(state.to_dict()) == state
