"""Rerank normalisation and the query-understanding rules added after the per-query analysis
of data/eval: material families, a head noun naming one product type, spec terms."""

from __future__ import annotations

import math

import pytest

from recommender import ranking
from recommender.query import Constraints, Vocabulary, apply_turn, material_matches, to_filter
from recommender.ranking import rerank, violations
from recommender.store.base import AnyOf, Hit

VOCAB = Vocabulary.from_products([
    {"brand": "A", "category": ["Apparel", "Knitwear", "Sweaters"], "materials": ["wool"], "price": 50},
    {"brand": "B", "category": ["Apparel", "Knitwear", "Sweaters"], "materials": ["merino wool"], "price": 60},
    {"brand": "C", "category": ["Footwear", "Shoes", "Dress Shoes"], "materials": ["nubuck leather"], "price": 90},
    {"brand": "D", "category": ["Footwear", "Shoes", "Dress Shoes"], "materials": ["protein leather"], "price": 70},
    {"brand": "E", "category": ["Footwear", "Shoes", "Dress Shoes"], "materials": ["leather"], "price": 80},
    {"brand": "F", "category": ["Electronics", "Audio", "Bluetooth Speakers"], "materials": ["plastic"], "price": 40},
    {"brand": "G", "category": ["Electronics", "Audio", "Headphones"], "materials": ["plastic"], "price": 90},
    {"brand": "H", "category": ["Outdoor", "Jackets", "Rain Jackets"], "materials": ["nylon"], "price": 90},
    {"brand": "I", "category": ["Outdoor", "Jackets", "Down Jackets"], "materials": ["down"], "price": 190},
])


@pytest.mark.parametrize(
    ("wanted", "material", "expected"),
    [
        ("wool", "wool", True),
        ("wool", "merino wool", True),
        ("leather", "nubuck leather", True),
        ("leather", "protein leather", False),  # an imitation is not the real thing
        ("protein leather", "protein leather", True),
        ("cotton", "cotton sateen", True),
        ("cast iron", "enamelled cast iron", True),
        ("wool", "woollen", False),
        ("merino wool", "wool", False),  # narrower wish, broader material: no
    ],
)
def test_material_matches(wanted, material, expected):
    assert material_matches(wanted, material) is expected


def _values(spec, key, negative=False):
    conds = spec.must_not if negative else spec.must
    return {v for c in conds if isinstance(c, AnyOf) and c.key == key for v in c.values}


def test_filter_uses_material_families_for_inclusion_and_exclusion():
    wool = to_filter(Constraints(materials=["wool"]), vocab=VOCAB)
    assert _values(wool, "materials") == {"wool", "merino wool"}
    no_leather = to_filter(Constraints(exclude_materials=["leather"]), vocab=VOCAB)
    assert _values(no_leather, "materials", negative=True) == {"leather", "nubuck leather"}
    # without the vocabulary the filter is the literal one, as before
    assert _values(to_filter(Constraints(materials=["wool"])), "materials") == {"wool"}


def test_violations_and_material_family():
    c = Constraints(materials=["wool"])
    assert "materials" not in violations({"materials": ["merino wool"]}, c)
    assert "materials" in violations({"materials": ["acrylic"]}, c)


@pytest.mark.parametrize(
    ("text", "product_type", "category"),
    [
        ("speaker i can take in the pool", "Bluetooth Speakers", None),  # one type ends in "speaker"
        ("a jacket for the rain season", None, "Jackets"),  # several types: their parent
    ],
)
def test_head_noun(text, product_type, category):
    c = apply_turn(Constraints(), text, [], VOCAB)
    assert (c.product_type, c.category) == (product_type, category)


@pytest.mark.parametrize(
    ("text", "spec", "not_keywords"),
    [
        ("power bank 20000mah", "20000 mah", {"mah"}),
        ("4k webcam for streaming", "4k", set()),
        ("fast charger 65w", "65 w", set()),
        ("dry bag 20 liters", "20 liter", {"liter"}),
        ("speaker under 100 dollars", None, {"100"}),  # a price is a filter, not a spec
    ],
)
def test_spec_terms_become_keywords(text, spec, not_keywords):
    c = apply_turn(Constraints(), text, [], VOCAB)
    if spec:
        assert spec in c.keywords
    else:
        assert not any(k[:1].isdigit() for k in c.keywords)
    assert not not_keywords & set(c.keywords)


def _hit(pid, score, rating=0.0, reviews=0, stock=True):
    return Hit(pid, score, {"id": pid, "title": pid, "rating": rating, "review_count": reviews,
                            "in_stock": stock})


def test_rerank_relevance_is_min_max_scaled(monkeypatch):
    """RRF scores of a 100-candidate pool: 1st of both lists 2/61, 10th of both 2/70, last 2/160.
    With priors (up to 0.25) the 10th can only pass the 1st when relevance is compressed."""
    pool = [_hit("first", 2 / 61), _hit("tenth", 2 / 70, rating=5.0, reviews=900),
            _hit("tail", 2 / 160, reviews=1000)]
    monkeypatch.setattr(ranking, "RELEVANCE_NORM", "minmax")
    ranked = rerank(pool)
    relevance = {r.hit.product_id: r.relevance for r in ranked}
    assert relevance["first"] == pytest.approx(1.0) and relevance["tail"] == pytest.approx(0.0)
    assert relevance["tenth"] == pytest.approx((2 / 70 - 2 / 160) / (2 / 61 - 2 / 160))
    for r in ranked:  # the documented formula, term by term
        p = r.hit.payload
        expected = (r.relevance + ranking.W_RATING * p["rating"] / 5
                    + ranking.W_REVIEWS * math.log1p(p["review_count"]) / math.log1p(1000)
                    + ranking.W_STOCK)
        assert r.score == pytest.approx(expected)
    assert [r.hit.product_id for r in ranked][0] == "first"

    monkeypatch.setattr(ranking, "RELEVANCE_NORM", "max")  # the old scaling: priors win
    assert [r.hit.product_id for r in rerank(pool)][0] == "tenth"
