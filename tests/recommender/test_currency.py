"""Prices in explanations and relaxation notes are in the product's (the catalog's) currency."""

from __future__ import annotations

from recommender.explain import explain
from recommender.query import Constraints, Vocabulary
from recommender.ranking import relaxation_steps

EUR_BOOT = {"id": "E1", "title": "Alpen Boot", "price": 129.0, "currency": "EUR",
            "product_type": "Hiking Boots", "category": ["Shoes", "Hiking Boots"]}


def test_explanation_of_a_euro_product_shows_euros():
    sentence, matched = explain(EUR_BOOT, Constraints(price_max=150))
    assert sentence == "under €150 ✓" and matched == ["under €150"]
    sentence, _ = explain(EUR_BOOT, Constraints(price_min=20, price_max=100))
    assert sentence == "€129, outside €20–€100 ✗"
    assert "$" not in explain({**EUR_BOOT, "price": 89.5}, Constraints(price_min=50))[0]


def test_a_product_without_a_currency_is_in_dollars():
    sentence, _ = explain({"price": 89.5}, Constraints(price_max=80))
    assert sentence == "$89.50, outside under $80 ✗"


def test_relaxation_notes_use_the_catalog_currency():
    vocab = Vocabulary.from_products([EUR_BOOT, {**EUR_BOOT, "id": "E2"}, {"id": "U1", "price": 5.0}])
    assert vocab.currency == "EUR"  # most products'
    _, notes = next(relaxation_steps(Constraints(price_max=50), vocab))
    assert notes["price"] == "price up to €65 instead of €50"
    _, notes = next(relaxation_steps(Constraints(price_max=50)))  # no vocabulary: dollars
    assert notes["price"] == "price up to $65 instead of $50"
