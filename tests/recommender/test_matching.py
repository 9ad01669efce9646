"""One definition of the constraints a product meets, read by ranking and by explanations."""

from __future__ import annotations

from recommender.explain import explain
from recommender.matching import constraint_matches
from recommender.query import Constraints
from recommender.ranking import violations

BOOT = {"id": "B1", "title": "Ridge Boot", "price": 129.0, "brand": "Stridewell", "colors": ["Brown"],
        "materials": ["nubuck leather"], "sizes": ["10"], "in_stock": True, "rating": 4.6,
        "gender": "unisex", "product_type": "Hiking Boots"}


def test_each_stated_constraint_gets_one_verdict():
    c = Constraints(colors=["brown", "black"], exclude_brands=["Nike"], materials=["leather"],
                    sizes=["11"], price_max=100, min_rating=4.0, gender="women",
                    product_type="Hiking Boots", keywords=["ridge"])
    verdicts = {m.key: (m.met, m.values) for m in constraint_matches(BOOT, c)}
    assert verdicts == {"colors": (True, ["brown"]), "exclude_brands": (True, []),
                        "materials": (True, ["leather"]), "sizes": (False, []), "price": (False, []),
                        "min_rating": (True, []), "gender": (True, []), "product_type": (True, [])}


def test_ranking_and_explanation_agree():
    c = Constraints(colors=["black"], brands=["Stridewell"], sizes=["10"], price_min=150, gender="men")
    assert violations(BOOT, c) == {"colors", "price"}
    sentence, matched = explain(BOOT, c)
    assert sentence == ("not black ✗ · Stridewell ✓ · size 10 in stock ✓ · $129, outside over $150 ✗ · "
                        "for unisex ✓")
    assert matched == ["Stridewell", "size 10 in stock", "for unisex"]


def test_a_size_out_of_stock_is_met_for_ranking_but_not_said_in_stock():
    c = Constraints(sizes=["10"])
    sold_out = {**BOOT, "in_stock": False}
    assert violations(sold_out, c) == set()  # relaxing sizes would not help: stock is a filter
    assert explain(sold_out, c)[0] == "size 10 not available ✗"


def test_no_price_no_price_verdict():
    assert constraint_matches({"title": "x"}, Constraints(price_max=50)) == []
