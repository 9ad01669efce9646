"""Requests in shoppers' words, on the catalog's own evidence: what the shop does not carry
("do you sell laptops?" — "laptop" only qualifies a power bank), a title's head noun naming its
type ("a throw for the sofa" — throws are blankets, "Throw Pillow Cover" a cushion), a British
spelling the encoder lacks put in the one it knows ("cosy" → cozy), a gender implied by whom a
gift is for relaxed first, and children's products shown for a request naming no gender said as
a widening. Each failed before its rule: laptops became power banks, the throw found cushion
covers, the encoder read "cosy" as water bottles, a wool scarf "for my mum" became acrylic
gloves before a unisex wool one, and kids' dresses came as "more" dresses without a word."""

from __future__ import annotations

import pytest

from recommender.carried import not_carried
from recommender.phrase import head_noun
from recommender.query import (
    QUERY_NOISE,
    Constraints,
    ConversationState,
    Vocabulary,
    apply_turn,
    words,
)

PRODUCTS = [
    {"title": "Vector Laptop Power Bank", "category": ["Electronics", "Power", "Power Banks"], "price": 40.0},
    {"title": "Nova Slim Power Bank Max", "category": ["Electronics", "Power", "Power Banks"], "price": 30.0},
    {"title": "Haven Faux Fur Knit Throw", "category": ["Home", "Bedding", "Throw Blankets"], "price": 90.0},
    {"title": "Wool Throw Max", "category": ["Home", "Bedding", "Throw Blankets"], "price": 80.0},
    {"title": "Loft Throw Pillow Cover", "category": ["Home", "Decor", "Cushions"], "price": 30.0},
    {"title": "Velvet Cushion Max", "category": ["Home", "Decor", "Cushions"], "price": 35.0},
    {"title": "Ridge Hiking Boot Max", "category": ["Footwear", "Boots", "Hiking Boots"], "price": 120.0,
     "gender": "men"},
    {"title": "Trail Running Shoe Max", "category": ["Footwear", "Sneakers", "Running Shoes"], "price": 90.0},
    {"title": "Linen Dress Max", "category": ["Apparel", "Dresses"], "price": 60.0, "gender": "women",
     "materials": ["wool"]},
]
VOCAB = Vocabulary.from_products(PRODUCTS)
SERVICE = set(words("Reset your password from the sign-in page. Change the delivery address of an order."))


@pytest.mark.parametrize(("text", "thing"), [
    ("do you sell laptops?", "laptops"), ("looking for a 55 inch TV", "TV"),
    ("I need a new mattress", "mattress"), ("I need a suit for a job interview", "suit"),
    ("do you sell power banks?", None), ("have you got a throw?", None),  # sold
    ("I need a new password", None), ("I want to change my address", None),  # service topics
    ("I want to talk to someone", None), ("do you have them in blue?", None),  # no thing asked
    ("with a hood", None), ("something cosy for my sister", None), ("a gift for my dad", None),
    ("do you have wellies?", None),  # a word the language does not know: maybe the shop's
])
def test_what_the_catalog_does_not_carry(text, thing):
    assert not_carried(text, VOCAB, SERVICE) == thing


def test_the_head_noun_of_a_request():
    def head(text: str, framed: bool = False) -> str | None:
        toks = words(text)
        i = head_noun(toks, QUERY_NOISE, framed)
        return None if i is None else toks[i]

    assert head("a throw for the sofa, something cosy") == "throw"
    assert head("ok, a wireless keyboard then") == "keyboard"
    assert head("looking for a 55 inch TV") == "tv"
    assert head("a throw for the sofa", framed=True) is None  # no request verb
    assert head("something comfy for standing all day") is None


def test_a_title_head_names_its_type():
    assert VOCAB.title_heads["throw"] == {"Throw Blankets"}  # "Max" is a model suffix, not a head
    assert apply_turn(Constraints(), "a throw for the sofa, something cosy", [], VOCAB).product_type \
        == "Throw Blankets"
    assert VOCAB.names_kind("throw") and not VOCAB.names_kind("laptop")


def test_a_british_spelling_the_encoder_does_not_know_is_put_in_the_one_it_does():
    # the base MiniLM has no "cosy": it read "she loves cosy stuff" as water bottles
    assert VOCAB.spelling("cosy") == "cozy" and VOCAB.spelling("colour") == "colour"


def test_childrens_products_for_no_gender_are_said(encoder, fresh_store):
    from recommender.catalog import Product
    from recommender.ingest import ingest_products
    from recommender.service import KIDS_TOO, Recommender

    dresses = [Product.model_validate({"id": f"D{i}", "title": f"Linen Dress {i}", "price": 50.0 + i,
                                       "category": ["Apparel", "Dresses"], "gender": gender})
               for i, gender in enumerate(["women", "women", "kids", "kids"])]
    ingest_products(dresses, fresh_store, encoder)
    rec = Recommender(fresh_store, encoder)
    state = ConversationState(constraints=apply_turn(Constraints(), "linen dress", [], rec.vocabulary))
    result = rec.recommend(state, k=4)
    assert [s.payload["gender"] for s in result.suggestions][:2] == ["women", "women"]  # adults first
    assert KIDS_TOO in result.relaxed
    assert KIDS_TOO not in rec.recommend(state, k=2).relaxed  # only when one is shown


def test_a_gender_implied_by_whom_it_is_for_is_relaxed_first():
    from recommender.ranking import relaxation_steps

    gift = apply_turn(Constraints(), "a wool linen dress for my mum", [], VOCAB)
    gift = apply_turn(gift, "under 50", [], VOCAB)
    assert gift.gender == "women" and gift.gender_implied
    assert next(iter(relaxation_steps(gift, VOCAB)))[1].keys() == {"gender"}  # not the stated wool
    stated = apply_turn(Constraints(), "a women's dress, under 50", [], VOCAB)
    assert not stated.gender_implied and "gender" not in next(iter(relaxation_steps(stated, VOCAB)))[1]
