"""Understanding on evidence only: a size needs a size context, a number is a price only with a
price cue, "her order" is no gender, typos of catalog words are put right, "cheaper" never
raises the cap. Before these rules, "I'm" (Rasa's size entity on its "m") became size M and
"men's 12" a price cap of $12."""

from __future__ import annotations

import pytest

from recommender.query import Constraints, Vocabulary, apply_turn
from recommender.ranking import relaxation_steps

PRODUCTS = [
    {"title": "Stride Road Runner", "brand": "Stride", "colors": ["black"], "sizes": ["S", "M", "L", "10", "12"], "gender": "men",
     "category": ["Footwear", "Sneakers", "Running Shoes"], "price": 90.0},
    {"title": "Fjord Merino Hoodie", "brand": "Fjord", "colors": ["green"], "materials": ["merino wool"], "sizes": ["M"],
     "gender": "women", "category": ["Apparel", "Tops", "Hoodies & Sweatshirts"], "price": 60.0},
    {"title": "Fjord Road Bottle", "category": ["Outdoor", "Hydration", "Water Bottles"], "price": 20.0},
]
VOCAB = Vocabulary.from_products(PRODUCTS).add_aliases({"hoodies & sweatshirts": ["hoodie"]})


def turn(text: str, entities=(), start: Constraints | None = None, shown=()) -> Constraints:
    return apply_turn(start or Constraints(), text, list(entities), VOCAB, shown)


def test_the_m_of_im_is_no_size():
    text = "ok while I'm here, show me running shoes"
    assert turn(text, [{"entity": "size", "value": "M", "start": 11, "end": 12}]).sizes == []


@pytest.mark.parametrize(("text", "sizes"), [
    ("running shoes, men's 12", ["12"]), ("size M", ["M"]), ("I'm a medium", ["M"]),
    ("what about a 10", ["10"]), ("running shoes under 12 dollars", []), ("he's 10", []),
])
def test_sizes_need_a_size_context(text, sizes):
    assert turn(text).sizes == sizes


def test_a_number_is_a_price_only_with_a_price_cue():
    shoes = turn("running shoes, men's 12", [{"entity": "price", "value": "12", "start": 21, "end": 23}])
    assert shoes.price_max is None and shoes.sizes == ["12"]
    capped = turn("running shoes up to 80", [{"entity": "price", "value": "80", "start": 20, "end": 22}])
    assert capped.price_max == 80
    assert turn("nothing over 150 please").price_max == 150  # a cap, not a floor


def test_her_order_is_no_gender_but_for_her_is():
    assert turn("my friend asked me to return her order").gender is None
    assert turn("a hoodie for her").gender == "women"
    assert turn("running shoes for my dad").gender == "men"


def test_typos_and_aliases_of_catalog_words():
    assert turn("runing shoes").product_type == "Running Shoes"
    assert turn("a comfy hoodie").product_type == "Hoodies & Sweatshirts"


@pytest.mark.parametrize("text", ["cheaper", "anything cheaper?", "not so pricey", "bit pricey"])
def test_cheaper_never_raises_the_cap_and_is_never_relaxed(text):
    start = Constraints(product_type="Running Shoes", price_max=50.0)
    after = turn(text, start=start, shown=[40.0, 48.0, 200.0])
    assert after.price_max is not None and after.price_max <= 50.0 and after.price_firm
    assert all(c.price_max == after.price_max for c, _ in relaxation_steps(after, VOCAB))
    assert not turn("under 100", start=after).price_firm  # a stated price can be relaxed again


def test_forgetting_a_constraint():
    start = Constraints(product_type="Running Shoes", colors=["black"], brands=["Stride"])
    after = turn("ok forget the colour, what else have you got?", start=start)
    assert after.colors == [] and after.brands == ["Stride"]


def test_a_type_named_only_by_words_of_its_titles():
    assert turn("a runner please").product_type == "Running Shoes"  # only running shoes say it
    assert turn("something road").product_type is None  # "road": shoes and bottles both
    assert turn("a runner", start=Constraints(product_type="Water Bottles")).product_type == "Water Bottles"
