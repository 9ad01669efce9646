"""recommender.pairs and recommender.finetune: pair sources, held-out split, metrics, a tiny run."""

from __future__ import annotations

import argparse
import json
import random

import numpy as np
import pytest

from recommender import finetune
from recommender.catalog import Product, embedding_text
from recommender.pairs import (
    CatalogPairs,
    LoggedPairs,
    PairSource,
    TrainingPair,
    catalog_queries,
    held_out_queries,
    is_held_out,
    normalize_query,
    split_products,
)


def _product(i: int, leaf: str = "Hiking Boots", **kw) -> Product:
    base = {"id": f"T{i:03d}", "title": f"Ridge Waterproof Hiking Boot {i}", "brand": "Northpeak",
            "category": ["Footwear", "Boots", leaf], "price": 100 + i, "colors": ["navy", "tan"],
            "materials": ["leather"], "gender": "women", "attributes": {"waterproof": "yes", "weight": "480 g"},
            "description": "A sturdy boot for muddy trails."}
    return Product(**{**base, **kw})


PRODUCTS = [_product(i) for i in range(60)]


def test_held_out_split_is_stable_and_disjoint():
    train, held = split_products(PRODUCTS, 0.25, seed=3)
    assert {p.id for p in train}.isdisjoint({p.id for p in held})
    assert len(train) + len(held) == len(PRODUCTS) and 5 <= len(held) <= 25
    # membership depends on the id only, not on which other products exist
    assert [is_held_out(p.id, 0.25, 3) for p in held] == [True] * len(held)
    _, held_again = split_products(list(reversed(PRODUCTS))[:40], 0.25, seed=3)
    assert {p.id for p in held_again} <= {p.id for p in held}


def test_catalog_queries_vary_and_use_the_product_facets():
    queries = catalog_queries(_product(1), 8, random.Random(0))
    assert len(set(queries)) == len(queries) >= 6
    text = " ".join(queries)
    assert "waterproof" in text
    assert any(word in text for word in ("women", "ladies", "navy", "tan", "leather", "northpeak", "under", "below"))
    assert any(q != normalize_query(_product(1).title) for q in queries)


def test_catalog_pairs_skip_eval_queries_and_held_out_products():
    train, held = split_products(PRODUCTS, 0.2, seed=1)
    everything = list(CatalogPairs(train, per_product=4).pairs())
    banned = {normalize_query(everything[0].query), normalize_query(everything[5].query)}
    source = CatalogPairs(train, per_product=4, exclude_queries=banned)
    assert isinstance(source, PairSource)
    pairs = list(source.pairs())
    assert pairs and not {normalize_query(p.query) for p in pairs} & banned
    assert {p.product_id for p in pairs} <= {p.id for p in train}
    assert all(p.positive == embedding_text(next(x for x in train if x.id == p.product_id)) for p in pairs)
    heldout = held_out_queries(held, exclude_queries=banned)
    assert heldout and {pid for _, pid in heldout} <= {p.id for p in held}


def test_logged_pairs_read_jsonl_report_bad_lines_and_resolve_ids(tmp_path):
    path = tmp_path / "logged.jsonl"
    path.write_text("\n".join([
        json.dumps({"query": "boots for wet trails", "positive": "T001", "negatives": ["T002"]}),
        json.dumps({"query": "a kettle", "positive": "Steel kettle, 1.7 l"}),
        "{oops",
        json.dumps({"query": "", "positive": "x"}),
        json.dumps({"query": "q", "positive": "x", "negatives": "not a list"}),
        json.dumps({"query": "warm wool sweater", "positive": "T003"}),  # an eval query: dropped
    ]) + "\n")
    catalog = {p.id: p for p in PRODUCTS}
    source = LoggedPairs(path, catalog=catalog, exclude_queries={"warm wool sweater"})
    pairs = list(source.pairs())
    assert [p.query for p in pairs] == ["boots for wet trails", "a kettle"]
    assert pairs[0].positive == embedding_text(catalog["T001"])
    assert pairs[0].negatives == (embedding_text(catalog["T002"]),)
    assert pairs[1].positive == "Steel kettle, 1.7 l"  # plain text passes through
    assert [e.line for e in source.errors] == [3, 4, 5]
    assert isinstance(source, PairSource) and source.name.startswith("logged:")


def test_batches_never_repeat_a_product_or_query():
    pairs = [TrainingPair(f"q{i}", f"text {i % 7}", product_id=f"P{i % 7}") for i in range(70)]
    pairs += [TrainingPair("hard", "pos", negatives=("neg",), product_id="H1"),
              TrainingPair("hard 2", "pos2", negatives=("neg2",), product_id="H2")]
    batches = finetune._batches(pairs, 16, random.Random(0))
    for batch in batches:
        assert len({p.product_id for p in batch}) == len(batch)
        assert len({p.query for p in batch}) == len(batch)
        assert len({bool(p.negatives) for p in batch}) == 1  # hard-negative rows batch together
    assert sum(len(b) for b in batches) == len(pairs)


def test_retrieval_metrics_and_ndcg_on_known_rankings():
    products = np.eye(4, dtype=np.float32)
    queries = np.array([[1, 0.5, 0, 0], [0.9, 1.0, 0, 0], [0, 0, 0.2, 0.1]], dtype=np.float32)
    metrics = finetune.retrieval_metrics(queries, products, [0, 0, 3], k=1)
    # ranks: query 0 → 1st, query 1 → 2nd, query 2 → 2nd
    assert metrics["recall@1"] == pytest.approx(1 / 3)
    assert metrics["mrr"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    ids = ["a", "b", "c", "d"]
    perfect = finetune.ndcg_at_k(queries[:1], products, ids, [{"a": 2, "b": 1}], k=2)
    swapped = finetune.ndcg_at_k(queries[1:2], products, ids, [{"a": 2, "b": 1}], k=2)
    assert perfect == pytest.approx(1.0)
    assert swapped == pytest.approx((1 + 2 / np.log2(3)) / (2 + 1 / np.log2(3)))


@pytest.mark.slow
def test_tiny_finetune_writes_a_loadable_versioned_model(tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformer

    monkeypatch.setenv("AISLE_VAR_DIR", str(tmp_path / "var"))

    catalog = tmp_path / "catalog.jsonl"
    leaves = ["Hiking Boots", "Sweaters", "Headphones", "Tents"]
    rows = [_product(i, leaves[i % 4], title=f"{leaves[i % 4][:-1]} model {i}").model_dump(exclude_none=True)
            for i in range(24)]
    catalog.write_text("".join(json.dumps(r) + "\n" for r in rows))
    logged = tmp_path / "logged.jsonl"
    logged.write_text(json.dumps({"query": "tent for two", "positive": "T003", "negatives": ["T000"]}) + "\n"
                      + json.dumps({"query": "warm sweater", "positive": "T001", "negatives": ["T002"]}) + "\n")
    parser = argparse.ArgumentParser()
    finetune.add_arguments(parser)
    args = parser.parse_args(["--catalog", str(catalog), "--output-dir", str(tmp_path / "models" / "encoder"),
                              "--epochs", "1", "--batch-size", "8", "--max-pairs", "24", "--holdout", "0.25",
                              "--logged", str(logged), "--eval-queries", str(tmp_path / "none.tsv")])
    folder = finetune.run(args)

    assert folder.parent == tmp_path / "models" / "encoder"
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # nothing half-written left behind
    assert not list((tmp_path / "models").glob(".*partial"))
    training = json.loads((folder / "training.json").read_text())
    assert training["epochs"] == 1 and training["batch_size"] == 8 and training["pairs"] <= 24
    assert training["data_sources"][0] == "catalog" and training["data_sources"][1].startswith("logged:")
    assert training["steps"] >= 1 and training["base_model"]
    metrics = json.loads((folder / "metrics.json").read_text())
    for stage in ("before", "after"):
        held = metrics[stage]["heldout"]
        assert held["queries"] > 0
        assert 0.0 <= held["recall@10"] <= 1.0 and 0.0 < held["mrr"] <= 1.0
    assert len(list((tmp_path / "var" / "finetune").glob("before-*.json"))) == 1  # base scores cached
    model = SentenceTransformer(str(folder), device="cpu")
    vectors = model.encode(["waterproof boots", "wool sweater"], normalize_embeddings=True)
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
