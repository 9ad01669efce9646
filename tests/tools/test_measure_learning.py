"""Simulator-truth judgments of tools/measure_learning.py on a tiny catalog with known answers:
grades come from the simulated shopper's hidden preference (the rule it shops by), held-out
sessions follow the export's temporal split, and the files read back in the data/eval format."""

from __future__ import annotations

from common.settings import ROOT
from recommender.catalog import Product
from recommender.evaluate import load_qrels, load_queries
from tools import measure_learning as measure

CATALOG = [
    Product(id="B1", title="Trail boot", category=["shoes", "hiking boots"], colors=["Red", "Black"], price=70),
    Product(id="B2", title="Ridge boot", category=["shoes", "hiking boots"], colors=["red"], price=75),
    Product(id="B3", title="Summit boot", category=["shoes", "hiking boots"], colors=["red"], price=120),
    Product(id="B4", title="Valley boot", category=["shoes", "hiking boots"], colors=["blue"], price=60),
    Product(id="S1", title="Road runner", category=["shoes", "running shoes"], colors=["red"], price=50),
    Product(id="X1", title="Uncategorised", colors=["red"], price=10),
]
PREFERENCE = {"target_id": "B1", "product_type": "hiking boots", "color": "red", "price_cap": 80}


def test_grade_is_the_shoppers_own_rule() -> None:
    pref = measure.sim.Preference(**PREFERENCE)
    grades = {p.id: pref.grade(p) for p in CATALOG}
    # target; same type + colour within the cap; over the cap; wrong colour; wrong type; no type
    assert grades == {"B1": 2, "B2": 1, "B3": 0, "B4": 0, "S1": 0, "X1": 0}
    assert pref.grade(None) == 0
    assert all(pref.buys(p) == (grades[p.id] > 0) for p in CATALOG)
    loose = measure.sim.Preference("B1", "hiking boots", None, None)  # colour and budget unsaid
    assert {p.id for p in CATALOG if loose.grade(p)} == {"B1", "B2", "B3", "B4"}


def test_search_texts_join_refinements_like_the_export() -> None:
    assert measure.search_texts(["red hiking boots", "under 80 dollars"]) == [
        "red hiking boots", "red hiking boots under 80 dollars"]
    assert measure.search_texts(["  boots  please "]) == ["boots please"]
    assert measure.search_texts([]) == []


def test_heldout_sessions_are_newer_than_every_training_conversation() -> None:
    def shop(cid: str) -> dict:
        return {"conversation_id": cid, "kind": "shopping", "preference": PREFERENCE, "searches": ["x"]}

    sessions = [shop("c4"), shop("c1"), shop("c2"), shop("c5"), shop("c6"),
                {"conversation_id": "c3", "kind": "service", "preference": None},
                {"conversation_id": "", "kind": "failed", "preference": None}]
    order = ["c1", "c2", "c3", "c4", "c5", "c6"]  # oldest first
    # c1 and c4 gave training pairs; c2 (no pairs) is older than c4, so it is not held out
    held = measure.heldout_sessions(sessions, order, {"c1", "c4"})
    assert [s["conversation_id"] for s in held] == ["c5", "c6"]
    assert [s["conversation_id"] for s in measure.heldout_sessions(sessions, order, set())] == [
        "c1", "c2", "c4", "c5", "c6"]
    assert measure.heldout_sessions(sessions, order, {"c6"}) == []


def test_judgments_round_trip_in_the_eval_format(tmp_path) -> None:
    sessions = [
        {"conversation_id": "a", "kind": "shopping", "preference": PREFERENCE,
         "searches": ["red hiking boots", "under 80"]},
        {"conversation_id": "b", "kind": "shopping", "searches": ["running shoes"],
         "preference": {"target_id": "S1", "product_type": "running shoes", "color": None, "price_cap": None}},
    ]
    queries, qrels = measure.sim_truth_judgments(sessions, CATALOG)
    assert list(queries.values()) == ["red hiking boots", "red hiking boots under 80", "running shoes"]
    first, second, third = queries
    assert qrels[first] == qrels[second] == {"B1": 2, "B2": 1}
    assert qrels[third] == {"S1": 2}
    measure.write_judgments(tmp_path, queries, qrels)
    assert load_queries(tmp_path / "queries.tsv") == queries
    assert load_qrels(tmp_path / "qrels.tsv") == qrels


def test_colloquial_shoppers_name_the_type_in_words_the_catalog_lacks() -> None:
    import random
    import re

    from recommender.catalog import keyword_text, load_catalog

    demo = ROOT / "data/catalog/products.jsonl"
    if not demo.exists():
        import pytest

        pytest.skip("the demo catalog is not built (make data)")
    products = load_catalog(demo).products
    vocabulary = {w for p in products for w in re.findall(r"[a-z0-9'-]+", keyword_text(p).lower())}
    assert set(measure.sim.SHOPPER_WORDS) <= {p.product_type for p in products}
    synonyms = (ROOT / "data/nlu/synonyms.yml").read_text(encoding="utf-8").lower()
    for phrases in measure.sim.SHOPPER_WORDS.values():
        assert not any(re.search(rf"- {re.escape(words)}\b", synonyms) for words in phrases), phrases
        for words in phrases:  # each phrase has a word (singular or plural) the catalog never uses
            assert any(w not in vocabulary and w.rstrip("s") not in vocabulary for w in words.split()), words

    rng = random.Random(0)
    prefs = [measure.sim.draw_preference(products, rng) for _ in range(400)]
    eligible = [p for p in prefs if p.product_type in measure.sim.SHOPPER_WORDS]
    colloquial = [p for p in eligible if p.words]
    assert 0.35 < len(colloquial) / len(eligible) < 0.65
    assert all(p.words in measure.sim.SHOPPER_WORDS[p.product_type] for p in colloquial)
    assert not any(p.words for p in prefs if p.product_type not in measure.sim.SHOPPER_WORDS)
    text = measure.sim.phrase(["show me {type}"], colloquial[0], rng)
    assert text == f"show me {colloquial[0].words}"
