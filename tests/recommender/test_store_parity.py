"""Qdrant Edge and the Qdrant server (qdrant-client) rank the evaluation queries alike: the same
BM25 vectors, the engine's IDF on both, the same fusion (issue 14).

Products of equal score are ordered by each engine's internal order, so keyword and dense
results are compared score by score, with ties free to swap places. A tie inside a prefetch
changes the ranks that RRF fuses, so fused lists are compared by their overlap and their nDCG.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from recommender.bm25 import query_vector
from recommender.evaluate import load_qrels, load_queries, ndcg
from recommender.ingest import ingest
from recommender.store.edge import EdgeStore
from recommender.store.server import ServerStore

ROOT = Path(__file__).resolve().parents[2]
SETS = [("data/catalog/products.jsonl", "data/eval/queries.tsv", "data/eval/qrels.tsv"),
        ("data/eval/home/products.jsonl", "data/eval/home/queries.tsv", "data/eval/home/qrels.tsv")]


@pytest.mark.parametrize(("catalog", "queries", "qrels"), SETS)
def test_edge_and_server_give_the_same_top_10(tmp_path, encoder, catalog, queries, qrels):
    if not (ROOT / catalog).exists():
        pytest.skip(f"{catalog} is built by `make data`")
    edge, server = EdgeStore(tmp_path / "edge"), ServerStore.memory()
    judged = load_qrels(ROOT / qrels)
    fused_ndcg: tuple[list[float], list[float]] = ([], [])
    try:
        for store in (edge, server):
            ingest(ROOT / catalog, store, encoder)
        for qid, text in load_queries(ROOT / queries).items():
            dense, sparse = encoder.encode_query(text), query_vector(text)
            for query, what in (((None, sparse), "keyword"), ((dense, None), "dense")):
                a, b = ([(h.product_id, h.score) for h in store.search(*query, None, 30)]
                        for store in (edge, server))
                assert [s for _, s in a[:10]] == pytest.approx([s for _, s in b[:10]], abs=1e-4), (text, what)
                scores = dict(b)
                assert all(scores.get(pid) == pytest.approx(s, abs=1e-4) for pid, s in a[:10]), (text, what)
            fused = [[h.product_id for h in store.search(dense, sparse, None, 10)] for store in (edge, server)]
            assert len(set(fused[0]) & set(fused[1])) >= 8, text
            for values, ids in zip(fused_ndcg, fused, strict=True):
                values.append(ndcg(ids, judged.get(qid, {}), 10))
        assert statistics.fmean(fused_ndcg[0]) == pytest.approx(statistics.fmean(fused_ndcg[1]), abs=0.01)
    finally:
        edge.close()
        server.close()
