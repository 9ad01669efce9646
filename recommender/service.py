"""The recommender service: conversation state in, ranked and explained products out.

Pipeline (each stage timed in ``Recommendation.timings``, milliseconds):
query (state → text + filter) → encode (dense, cached; sparse IDF weights) → retrieve
(hybrid dense+sparse prefetches under the filter, RRF-fused; or Qdrant's recommend query
with liked items as positives and rejected ones as negatives; with a shopper's image, the
``image`` vector's neighbours under the same filter, RRF-fused with the text results when there
is text too) → rank (rerank formula in
``ranking.py``, then MMR) → relax (only when fewer than k passed) → explain.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from recommender.catalog import Product
from recommender.explain import explain
from recommender.query import ConversationState, Query, Vocabulary, build_query, to_filter
from recommender.ranking import Ranked, mmr, relaxation_steps, rerank, rrf_fuse, violations
from recommender.settings import Settings, get_settings
from recommender.sparse import query_vector
from recommender.store.base import VectorStore

STORE_ONLY_KEYS = {"content_hash", "payload_hash", "in_stock", "in_stock_flag", "product_type"}


@dataclass
class Suggestion:
    id: str
    title: str
    price: float | None
    currency: str
    image_url: str
    url: str | None
    explanation: str
    matched: list[str]
    score: float
    payload: dict[str, Any] = field(repr=False, default_factory=dict)

    def to_item(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "price": self.price, "currency": self.currency,
                "image_url": self.image_url, "url": self.url, "explanation": self.explanation,
                "matched": list(self.matched)}


@dataclass
class Recommendation:
    suggestions: list[Suggestion]
    relaxed: list[str]
    query: Query
    timings: dict[str, float] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """The ``products`` custom payload of the common contract."""
        return {"type": "products", "items": [s.to_item() for s in self.suggestions],
                "relaxed": list(self.relaxed)}


class Recommender:
    def __init__(self, store: VectorStore, encoder: Any, vocabulary: Vocabulary | None = None,
                 candidates: int = 50, image_encoder: Any = None) -> None:
        self.store = store
        self.encoder = encoder
        self.image_encoder = image_encoder
        self._vocabulary = vocabulary
        self._stats = store.load_stats()
        self.candidates = candidates

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Recommender:
        from recommender.encoder import get_encoder
        from recommender.image import get_image_encoder
        from recommender.store import open_store

        settings = settings or get_settings()
        return cls(open_store(settings), get_encoder(), image_encoder=get_image_encoder(settings))

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            fields = ["brand", "colors", "materials", "sizes", "gender", "category", "price"]
            self._vocabulary = Vocabulary.from_products(self.store.payloads(fields))
        return self._vocabulary

    def refresh(self) -> None:
        """Re-read vocabulary and IDF statistics after an ingest."""
        self._vocabulary = None
        self._stats = self.store.load_stats()

    def product(self, product_id: str) -> Product | None:
        hits = self.store.get([str(product_id)])
        if not hits:
            return None
        data = {k: v for k, v in hits[0].payload.items() if k not in STORE_ONLY_KEYS}
        return Product.model_validate(data)

    # ---- the pipeline ----------------------------------------------------------------------
    def _retrieve(self, query: Query, constraints, exclude: list[str], limit: int,
                  dense, sparse, image_vector=None) -> list[Ranked]:
        spec = to_filter(constraints, exclude, self.vocabulary)
        if image_vector is not None:
            image_hits = self.store.search_image(image_vector, spec, limit, with_vectors=True)
            has_text = dense is not None or (sparse is not None and bool(sparse)) or query.positive_ids
            if not has_text:
                return rerank(image_hits, constraints.keywords)
            text_hits = self._text_hits(query, spec, limit, dense, sparse)
            return rerank(rrf_fuse([text_hits, image_hits])[:limit], constraints.keywords)
        return rerank(self._text_hits(query, spec, limit, dense, sparse), constraints.keywords)

    def _text_hits(self, query: Query, spec, limit: int, dense, sparse) -> list:
        if query.positive_ids:
            examples = self.store.get(query.positive_ids + query.negative_ids, with_vectors=True)
            vectors = {h.product_id: h.text_vector for h in examples if h.text_vector is not None}
            positive = [vectors[i] for i in query.positive_ids if i in vectors]
            negative = [vectors[i] for i in query.negative_ids if i in vectors]
            hits = self.store.recommend(positive, negative, spec, limit, with_vectors=True)
        else:
            hits = self.store.search(dense, sparse, spec, limit, prefetch_limit=max(100, limit),
                                     with_vectors=True)
        return hits

    def rank(self, state: ConversationState, k: int = 5, diversify: bool = True,
             relax: bool = True, pool: int | None = None, image: Any = None) -> Recommendation:
        """``image``: a shopper's picture (path, bytes or PIL image) to search by, with the
        conversation's text and filter when there are any."""
        timings: dict[str, float] = {}
        t0 = t = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal t
            now = time.perf_counter()
            timings[name] = round((now - t) * 1000, 3)
            t = now

        query = build_query(state)
        lap("query")
        dense = self.encoder.encode_query(query.text) if query.text else None
        sparse = query_vector(query.text, self._stats) if query.text else None
        image_vector = self._image_vector(image) if image is not None else None
        lap("encode")
        limit = pool or max(self.candidates, 4 * k)
        ranked = self._retrieve(query, query.constraints, query.exclude_ids, limit, dense, sparse,
                                image_vector)
        lap("retrieve")
        picked = mmr(ranked, k) if diversify else ranked[:k]
        lap("rank")
        relaxed: dict[str, str] = {}
        if relax and len(picked) < k:
            for constraints, notes in relaxation_steps(query.constraints, self.vocabulary):
                seen = query.exclude_ids + [r.hit.product_id for r in picked]
                more = self._retrieve(query, constraints, seen, limit, dense, sparse, image_vector)
                extra = (mmr(more, k - len(picked)) if diversify else more[: k - len(picked)]) if more else []
                for r in extra:
                    # report a relaxation only when a shown product needs it, as first needed
                    for key in violations(r.hit.payload, query.constraints):
                        if key in notes:
                            relaxed.setdefault(key, notes[key])
                picked += extra
                if len(picked) >= k:
                    break
        lap("relax")
        suggestions = []
        for r in picked:
            p = r.hit.payload
            sentence, matched = explain(p, query.constraints)
            suggestions.append(Suggestion(
                id=r.hit.product_id, title=str(p.get("title", "")), price=p.get("price"),
                currency=str(p.get("currency") or "USD"),
                image_url=p.get("image_url") or f"/images/{r.hit.product_id}.svg",
                url=p.get("url"), explanation=sentence, matched=matched, score=round(r.score, 4),
                payload=p,
            ))
        lap("explain")
        timings["total"] = round((time.perf_counter() - t0) * 1000, 3)
        return Recommendation(suggestions, list(relaxed.values()), query, timings)

    def recommend(self, state: ConversationState, k: int = 5, image: Any = None) -> Recommendation:
        return self.rank(state, k, image=image)

    def search_by_image(self, image: Any, state: ConversationState | None = None,
                        k: int = 5) -> Recommendation:
        """Products that look like the shopper's picture (under the conversation's filter)."""
        return self.rank(state or ConversationState(), k, image=image)

    def _image_vector(self, image: Any):
        if self.image_encoder is None:
            raise ValueError("searching by image needs an image model (set AISLE_IMAGE_MODEL)")
        if self.store.image_dim != self.image_encoder.dim:
            raise ValueError(f"the store has no image vectors of size {self.image_encoder.dim}; "
                             "ingest the catalog with the image model first")
        return self.image_encoder.encode_image(image)


_recommender: Recommender | None = None
_lock = threading.Lock()


def get_recommender() -> Recommender:
    """The process-wide recommender (store + encoder), created on first use."""
    global _recommender
    with _lock:
        if _recommender is None:
            _recommender = Recommender.from_settings()
        return _recommender
