"""Understanding on evidence only: a size needs a size context, a number is a price only with a
price cue, "her order" is no gender, typos of catalog words are put right, "cheaper" never
raises the cap. Before these rules, "I'm" (Rasa's size entity on its "m") became size M and
"men's 12" a price cap of $12."""

from __future__ import annotations

import pytest

from recommender.query import Constraints, Vocabulary, apply_turn, child_age, query_text
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


def test_an_english_word_is_no_typo_of_a_catalog_word():
    bedding = Vocabulary.from_products([*PRODUCTS, {"title": "Linen Sheet", "category": ["Home", "Bedding", "Sheets"]}])
    shoes = Constraints(product_type="Running Shoes")
    assert apply_turn(shoes, "it's for a wedding", [], bedding, ()).product_type == "Running Shoes"
    assert apply_turn(Constraints(), "some beddng", [], bedding, ()).category == "Bedding"
    pajamas = Vocabulary.from_products([{"title": "Silk Pajama Set", "category": ["Apparel", "Pajamas"]},
                                        {"title": "Zoom Camera", "category": ["Electronics", "Cameras"]}])
    assert apply_turn(Constraints(), "silk pyjamas", [], pajamas, ()).product_type == "Pajamas"  # a spelling


@pytest.mark.parametrize("text", ["cheaper", "anything cheaper?", "not so pricey", "bit pricey"])
def test_cheaper_never_raises_the_cap_and_is_never_relaxed(text):
    start = Constraints(product_type="Running Shoes", price_max=50.0)
    after = turn(text, start=start, shown=[40.0, 48.0, 200.0])
    assert after.price_max is not None and after.price_max <= 50.0 and after.price_firm
    assert all(c.price_max == after.price_max for c, _ in relaxation_steps(after, VOCAB))
    assert not turn("under 100", start=after).price_firm  # a stated price can be relaxed again
    later = turn("in blue", start=after)  # the next refinement: an ordinary cap again
    assert later.price_max == after.price_max and not later.price_firm


def test_the_cheaper_cap_is_a_whole_amount_just_below_the_median():
    assert turn("cheaper", shown=[40.0, 48.0, 200.0]).price_max == 47.0  # median 48
    assert turn("cheaper", shown=[6.0, 8.0]).price_max == 6.99
    # "cheaper" means below the median of what was shown: a $38.99 hoodie after a page whose
    # median is $39.95 is cheaper (a cap of 0.95 × median had left it out, and with it every
    # exact match)
    assert turn("cheaper", shown=[69.99, 48.0, 39.95, 31.5, 31.0]).price_max == 39.0


def test_forgetting_a_constraint():
    start = Constraints(product_type="Running Shoes", colors=["black"], brands=["Stride"])
    after = turn("ok forget the colour, what else have you got?", start=start)
    assert after.colors == [] and after.brands == ["Stride"]


def test_a_type_named_only_by_words_of_its_titles():
    assert turn("a runner please").product_type == "Running Shoes"  # only running shoes say it
    assert turn("something road").product_type is None  # "road": shoes and bottles both
    assert turn("a runner", start=Constraints(product_type="Water Bottles")).product_type == "Water Bottles"


def test_two_words_the_catalog_writes_as_one():
    watches = Vocabulary.from_products([{"title": "Zenith GPS Smartwatch", "category": ["Electronics", "Smartwatches"]}])
    assert apply_turn(Constraints(), "smart watch under 150", [], watches, ()).product_type == "Smartwatches"
    assert apply_turn(Constraints(), "a smart choice", [], watches, ()).product_type is None


@pytest.mark.parametrize(("text", "age"), [
    ("my daughter's 6 and needs a jumper", 6), ("party dress for my niece, she's 12", 12),
    ("a jumper for my 6 year old", 6), ("shoes for my 7yo", 7),
    ("she's 40 and loves yoga", None), ("a 2 year warranty", None), ("he's 10 dollars short", None),
])
def test_a_child_s_age(text, age):
    assert child_age(text) == age


def test_a_child_s_age_is_the_kids_range_and_a_clothes_size():
    kids = Vocabulary.from_products([
        {"title": "Kids' Crew Sweater", "gender": "kids", "sizes": ["4Y", "6Y", "8Y"], "category": ["Apparel", "Sweaters"]},
        {"title": "Kids' Pac Boot", "gender": "kids", "sizes": ["12K", "1Y", "6Y"], "category": ["Footwear", "Winter Boots"]},
    ])
    jumper = apply_turn(Constraints(), "my daughter's 6 and needs a sweater", [], kids, ())
    assert (jumper.gender, jumper.sizes) == ("kids", ["6Y"])
    boots = apply_turn(Constraints(), "winter boots for my son, he's 6", [], kids, ())
    assert (boots.gender, boots.sizes) == ("kids", [])  # a shoe size 6Y is no six-year-old's


def test_the_latest_wish_is_relaxed_after_the_older_ones():
    pink = turn("do any come in black?", start=Constraints(product_type="Running Shoes", price_max=100.0))
    assert pink.latest == ["colors"]
    later = turn("ok, up to 250 then", start=pink)
    assert later.latest == ["price"]
    first, *_ = relaxation_steps(later, VOCAB)
    assert first[0].colors == [] and first[0].price_max == 250.0 and list(first[1]) == ["colors"]
    steps = [list(notes) for _, notes in relaxation_steps(pink, VOCAB)]
    assert steps[0] == ["price"]  # otherwise the usual order: price first


def test_an_entity_inside_a_longer_value_of_the_text_adds_nothing():
    cotton = Vocabulary.from_products([{"title": "Organic Cotton Hoodie", "materials": ["organic cotton"]},
                                       {"title": "Cotton Hoodie", "materials": ["cotton"]}])
    entity = {"entity": "material", "value": "cotton", "start": 23, "end": 29}
    c = apply_turn(Constraints(), "a comfy hoodie, organic cotton pls", [entity], cotton, ())
    assert c.materials == ["organic cotton"]


def test_gift_words_are_no_search_words():
    assert query_text(Constraints(keywords=["gift", "idea", "techie"], price_max=50.0)) == "idea techie"


@pytest.mark.parametrize(("text", "colors"), [
    ("olive oil", []), ("a charcoal grill", []), ("orange juicer", []),  # part of a name
    ("olive jacket", ["olive"]), ("black runner", ["black"]),  # before a catalog word
    ("in olive please", ["olive"]), ("charcoal or orange", ["charcoal", "orange"]),
    ("any in black?", ["black"]), ("black", ["black"]), ("black or green", ["black", "green"]),
    ("black ones pls", ["black"]), ("a black one for men", ["black"]),
])
def test_a_colour_is_a_filter_only_as_a_colour(text, colors):
    jacket = {"title": "Fjord Field Jacket", "colors": ["olive", "charcoal", "orange"],
              "category": ["Apparel", "Outerwear", "Coats"], "price": 80.0}
    c = apply_turn(Constraints(), text, [], Vocabulary.from_products([*PRODUCTS, jacket]))
    assert c.colors == colors
    if not colors:  # the words still steer the ranking
        assert set(text.split()) & set(c.keywords)
