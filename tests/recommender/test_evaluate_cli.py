"""Metrics by hand, and the CLI (ingest / search / eval) as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recommender.evaluate import load_shown, ndcg, recall, reciprocal_rank, rerank_shown
from recommender.store.base import Hit
from tests.recommender.conftest import CATALOG

ROOT = Path(__file__).resolve().parents[2]


def test_metrics():
    grades = {"a": 2, "b": 1, "c": 0}
    assert ndcg(["a", "b"], grades, 10) == pytest.approx(1.0)
    swapped = (1 / 1 + 2 / 1.5849625) / (2 / 1 + 1 / 1.5849625)  # the grades are the gains
    assert ndcg(["b", "a"], grades, 10) == pytest.approx(swapped, rel=1e-4)
    assert recall(["x", "b"], grades) == 0.5
    assert reciprocal_rank(["x", "c", "b"], grades) == pytest.approx(1 / 3)


class WordEncoder:
    """One dimension per word: cosine = shared words (a stand-in that makes the order predictable)."""

    words = ["red", "boots", "tent", "blue", "kettle"]

    def _vector(self, text: str) -> np.ndarray:
        v = np.array([float(w in text.lower().split()) for w in self.words]) + 1e-6
        return v / np.linalg.norm(v)

    def encode_query(self, text):
        return self._vector(text)


class TitleStore:
    """The store's read of stored vectors (``get(..., with_vectors=True)``), over product titles."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.titles = titles

    def get(self, product_ids, with_vectors=False):
        return [Hit(p, 0.0, {"id": p}, WordEncoder()._vector(self.titles[p])) for p in product_ids
                if p in self.titles]


def test_rerank_shown_orders_only_what_was_shown(tmp_path):
    store = TitleStore({"A": "Blue Tent", "B": "Red Boots", "C": "Kettle", "D": "Red Boots Deluxe"})
    shown_file = tmp_path / "shown.tsv"
    shown_file.write_text("q1\tA\t1\nq1\tC\t2\nq1\tB\t3\nq1\tGONE\t4\n"  # B clicked at the bottom
                          "q2\tA\t1\nq2\tC\t2\n"  # nothing graded was shown: says nothing
                          "q3\tB\t1\n"  # a single product cannot be reordered
                          "q4\tC\t1\nq4\tA\t2\n")
    shown = load_shown(shown_file)
    assert shown["q1"] == ["A", "C", "B", "GONE"] and shown["q4"] == ["C", "A"]
    queries = {"q1": "red boots", "q2": "red boots", "q3": "red boots", "q4": "blue"}
    qrels = {"q1": {"B": 1, "D": 2}, "q2": {"D": 2}, "q3": {"B": 2}, "q4": {"C": 1}}
    result = rerank_shown(WordEncoder(), store, queries, qrels, shown)
    # q1: B moves from position 3 to 1 (D was never shown, so it is not in the ideal) -> 1.0;
    # q4: the encoder puts the blue tent above the clicked kettle -> 1/log2(3), reciprocal rank 1/2
    assert result == {"ndcg@10": pytest.approx((1 + 1 / np.log2(3)) / 2, abs=1e-4), "mrr": 0.75, "queries": 2}


def _run(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "recommender", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_cli_ingest_search_eval(tmp_path):
    env = {**os.environ, "AISLE_STORE": "edge", "AISLE_STORE_PATH": str(tmp_path / "store"),
           "AISLE_ENCODER_DIR": str(tmp_path / "no-models"), "AISLE_VAR_DIR": str(tmp_path / "var"),
           "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    out = _run(["ingest", str(CATALOG), "--json"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["added"] == 32

    out = _run(["search", "hiking boots", "--filter", "brand=salomon", "--filter", "price_max=200",
                "--json"], env)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout.strip().splitlines()[-1])
    assert [i["id"] for i in payload["items"]][:1] == ["F02"]  # F04 is out of stock, F07 not a boot
    assert payload["relaxed"]  # only one Salomon boot in stock: the rest is relaxed, and said so

    queries = tmp_path / "q.tsv"
    qrels = tmp_path / "r.tsv"
    queries.write_text("q1\tnoise cancelling headphones\nq2\tfrench press\n")
    qrels.write_text("q1\tE01\t2\nq1\tE02\t2\nq1\tE04\t1\nq2\tH02\t2\n")
    out = _run(["eval", "--catalog", str(CATALOG), "--queries", str(queries), "--qrels", str(qrels),
                "--json"], env)
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"ndcg@10", "recall@100", "mrr", "p50_ms", "p95_ms", "queries"} <= set(metrics)
    assert metrics["queries"] == 2 and metrics["mrr"] == 1.0 and metrics["recall@100"] == 1.0

    out = _run(["search", "x", "--filter", "bogus=1"], env)
    assert out.returncode == 2 and "unknown filter key" in out.stderr


def test_judgment_files_are_split_on_tabs_only(tmp_path):
    from recommender.evaluate import load_qrels, load_queries

    (tmp_path / "queries.tsv").write_text('q1\t"waterproof" boots\nq2\t15" laptop sleeve\n# note\n', encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("q1\tP1\t2\nq1\tP2\t1\nq2\tP3\tx\n", encoding="utf-8")
    assert load_queries(tmp_path / "queries.tsv") == {"q1": '"waterproof" boots', "q2": '15" laptop sleeve'}
    assert load_qrels(tmp_path / "qrels.tsv") == {"q1": {"P1": 2, "P2": 1}}


def test_every_mode_on_one_store_scores_as_each_mode_alone(tmp_path, encoder):
    """``eval --mode all``: the modes side by side, each as it scores on its own."""
    from recommender.evaluate import MODES, evaluate, evaluate_modes

    queries, qrels = tmp_path / "q.tsv", tmp_path / "r.tsv"
    queries.write_text("q1\tnoise cancelling headphones\nq2\tfrench press\nq3\twaterproof hiking boots\n")
    qrels.write_text("q1\tE01\t2\nq1\tE02\t2\nq1\tE04\t1\nq2\tH02\t2\nq3\tF01\t2\nq3\tF02\t1\n")
    together = evaluate_modes(CATALOG, queries, qrels, MODES, encoder=encoder)
    assert set(together) == set(MODES)
    for mode in MODES:
        alone = evaluate(CATALOG, queries, qrels, mode=mode, encoder=encoder)
        assert together[mode].metrics["mode"] == mode
        assert together[mode].per_query.keys() == alone.per_query.keys()
        # two stores of the same catalog: fused ranks of products of equal score may swap
        assert together[mode].metrics["ndcg@10"] == pytest.approx(alone.metrics["ndcg@10"], abs=0.02), mode
        if mode in ("keyword", "dense"):  # one vector each: the first products are the same
            assert {q: ids[:3] for q, ids in together[mode].per_query.items()} == \
                {q: ids[:3] for q, ids in alone.per_query.items()}, mode
    with pytest.raises(ValueError, match="modes must be among"):
        evaluate_modes(CATALOG, queries, qrels, ("hybrid", "magic"), encoder=encoder)
