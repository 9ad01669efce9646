"""The recommender service: conversation state in, ranked and explained products out.

Pipeline (each stage timed in ``Recommendation.timings``, milliseconds):
query (state → text + filter) → encode (dense, cached; the query's BM25 terms) → retrieve
(hybrid dense+sparse prefetches under the filter, RRF-fused; or Qdrant's recommend query
with liked items as positives and rejected ones as negatives; with a shopper's photo, the
``image`` vector's neighbours under the same filter: the photo orders, the conversation filters
and its keywords rerank) → rank (rerank formula in
``ranking.py``, then MMR) → relax (only when fewer than k passed) → explain.

Built by :meth:`Recommender.from_settings`, it follows the published pointer
(``recommender/active.py``): after a promotion or rollback it loads the new encoder and opens its
store, then swaps the pair in at once; each request uses one pair from start to end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from common import domain
from common.settings import Settings, get_settings
from recommender.bm25 import query_vector
from recommender.catalog import Product
from recommender.explain import explain
from recommender.query import ConversationState, Query, Vocabulary, build_query, to_filter
from recommender.ranking import SHIPPED, Ranked, Weights, mmr, relaxation_steps, rerank, violations
from recommender.store.base import VectorStore

if TYPE_CHECKING:
    from recommender.active import Follower, Published

log = logging.getLogger(__name__)

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


@dataclass(eq=False)
class _Pair:
    """A store with the encoder its vectors come from; requests in flight are counted so that a
    replaced pair's store is closed only after its last request."""

    store: VectorStore
    encoder: Any
    vocabulary: Vocabulary | None = None
    published: Published | None = None
    users: int = 0
    retired: bool = False

    def vocab(self) -> Vocabulary:
        if self.vocabulary is None:
            fields = ["title", "brand", "colors", "materials", "sizes", "gender", "category", "price",
                      "currency"]
            vocabulary = Vocabulary.from_products(self.store.payloads(fields))
            self.vocabulary = vocabulary.add_aliases(domain.synonyms())
        return self.vocabulary


class Recommender:
    def __init__(self, store: VectorStore, encoder: Any, vocabulary: Vocabulary | None = None,
                 candidates: int = 50, image_encoder: Any = None, weights: Weights = SHIPPED) -> None:
        self._pair = _Pair(store, encoder, vocabulary)
        self.weights = weights
        self.image_encoder = image_encoder
        self.candidates = candidates
        self._lock = threading.Lock()
        self.follower: Follower | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, interval: float = 1.0) -> Recommender:
        """The configured pair (the published one if any, see ``active.py``), following the
        pointer: checked at most every ``interval`` seconds."""
        from recommender.active import follow, open_pair
        from recommender.encoder import get_encoder
        from recommender.image import get_image_encoder
        from recommender.store import open_store

        settings = settings or get_settings()
        follower, published = follow(settings, interval)
        if published is None:
            store, encoder = open_store(settings), get_encoder()
        else:
            encoder, store = open_pair(published, settings)
        rec = cls(store, encoder, image_encoder=get_image_encoder(settings))
        rec._pair.published = published
        rec.follower, follower.switch = follower, rec._switch
        return rec

    # ---- the current pair ------------------------------------------------------------------
    @property
    def store(self) -> VectorStore:
        return self._pair.store

    @property
    def encoder(self) -> Any:
        return self._pair.encoder

    @property
    def published(self) -> Published | None:
        """The published pair in use, or None (the configured store and the newest model)."""
        return self._pair.published

    @property
    def vocabulary(self) -> Vocabulary:
        with self._use() as pair:
            return pair.vocab()

    @contextmanager
    def _use(self) -> Iterator[_Pair]:
        """The current pair for one request: kept open until the request is done."""
        if self.follower is not None:
            self.follower.poll()
        with self._lock:
            pair = self._pair
            pair.users += 1
        try:
            yield pair
        finally:
            with self._lock:
                pair.users -= 1
                close = pair.retired and pair.users == 0
            if close:
                pair.store.close()

    def _switch(self, published: Published) -> None:
        """Load the published pair, warm it up, swap it in; close the old store when idle."""
        from recommender.active import open_pair

        if published.same_pair(self._pair.published):
            return
        settings = self.follower.settings if self.follower else get_settings()
        encoder, store = open_pair(published, settings)
        try:
            pair = _Pair(store, encoder, published=published)
            pair.vocab()
            encoder.encode_query("warm up")
        except BaseException:
            store.close()
            raise
        with self._lock:
            old, self._pair = self._pair, pair
            old.retired = True
            idle = old.users == 0
        log.info("now serving encoder %s with store %s", published.model, published.store)
        if idle:
            old.store.close()

    def product(self, product_id: str) -> Product | None:
        with self._use() as pair:
            hits = pair.store.get([str(product_id)])
        if not hits:
            return None
        data = {k: v for k, v in hits[0].payload.items() if k not in STORE_ONLY_KEYS}
        return Product.model_validate(data)

    # ---- the pipeline ----------------------------------------------------------------------
    def _retrieve(self, pair: _Pair, query: Query, constraints, exclude: list[str], limit: int,
                  dense, sparse, image_vector=None) -> list[Ranked]:
        spec = to_filter(constraints, exclude, pair.vocab())
        if image_vector is not None:
            # A photo says "this one": fusing it with the text results by rank (RRF) let the
            # text's first pick, usually just the filter's words, outrank the photographed product.
            hits = pair.store.search_image(image_vector, spec, limit, with_vectors=True)
        else:
            hits = self._text_hits(pair, query, spec, limit, dense, sparse)
        return rerank(hits, constraints.keywords, adults_first=constraints.gender is None,
                      weights=self.weights)

    @staticmethod
    def _text_hits(pair: _Pair, query: Query, spec, limit: int, dense, sparse) -> list:
        if query.positive_ids:
            examples = pair.store.get(query.positive_ids + query.negative_ids, with_vectors=True)
            vectors = {h.product_id: h.text_vector for h in examples if h.text_vector is not None}
            positive = [vectors[i] for i in query.positive_ids if i in vectors]
            negative = [vectors[i] for i in query.negative_ids if i in vectors]
            hits = pair.store.recommend(positive, negative, spec, limit, with_vectors=True)
        else:
            hits = pair.store.search(dense, sparse, spec, limit, prefetch_limit=max(100, limit),
                                     with_vectors=True)
        return hits

    def rank(self, state: ConversationState, k: int = 5, diversify: bool | None = None,
             relax: bool = True, pool: int | None = None, image: Any = None) -> Recommendation:
        """``image``: a shopper's picture (path, bytes or PIL image) to search by, with the
        conversation's text and filter when there are any. ``diversify``: MMR, by default as
        the weights say."""
        diversify = self.weights.mmr if diversify is None else diversify
        with self._use() as pair:  # one encoder + store pair from start to end
            return self._rank(pair, state, k, diversify, relax, pool, image)

    def _rank(self, pair: _Pair, state: ConversationState, k: int, diversify: bool, relax: bool,
              pool: int | None, image: Any) -> Recommendation:
        timings: dict[str, float] = {}
        t0 = t = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal t
            now = time.perf_counter()
            timings[name] = round((now - t) * 1000, 3)
            t = now

        query = build_query(state)
        lap("query")
        image_vector = self._image_vector(pair, image) if image is not None else None
        text = query.text if image_vector is None else ""  # a photo orders the results alone
        dense = pair.encoder.encode_query(text) if text else None
        sparse = query_vector(query.keyword_text) if text and query.keyword_text else None
        lap("encode")
        limit = pool or max(self.candidates, 4 * k)
        ranked = self._retrieve(pair, query, query.constraints, query.exclude_ids, limit, dense, sparse,
                                image_vector)
        lap("retrieve")
        picked = mmr(ranked, k) if diversify else ranked[:k]
        lap("rank")
        relaxed: dict[str, str] = {}
        # "cheaper" with some exact matches shows just those: the cheaper ones the shopper asked
        # for, not dearer-looking fill in another colour or size
        if relax and len(picked) < k and not (query.constraints.price_firm and picked):
            for constraints, notes in relaxation_steps(query.constraints, pair.vocab()):
                seen = query.exclude_ids + [r.hit.product_id for r in picked]
                more = self._retrieve(pair, query, constraints, seen, limit, dense, sparse, image_vector)
                extra = (mmr(more, k - len(picked)) if diversify else more[: k - len(picked)]) if more else []
                for r in extra:
                    # report a relaxation only when a shown product needs it, as first needed, in
                    # relaxation order (price first): the reply reads the same in every run
                    unmet = violations(r.hit.payload, query.constraints)
                    for key in notes:
                        if key in unmet:
                            relaxed.setdefault(key, notes[key])
                picked += extra
                if len(picked) >= k:
                    break
        if query.constraints.gender is None and any(r.hit.payload.get("gender") == "kids" for r in picked):
            # children's products rank after all others when no gender was named: shown, they
            # are a widening like any other, and said ("a summer dress" is no kids' dress)
            relaxed.setdefault("kids", KIDS_TOO)
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

    def _image_vector(self, pair: _Pair, image: Any):
        if self.image_encoder is None:
            raise ValueError("searching by image needs an image model (set AISLE_IMAGE_MODEL)")
        if pair.store.image_dim != self.image_encoder.dim:
            raise ValueError(f"the store has no image vectors of size {self.image_encoder.dim}; "
                             "ingest the catalog with the image model first")
        return self.image_encoder.encode_image(image)


KIDS_TOO = "children's products too"

_recommender: Recommender | None = None
_lock = threading.Lock()


def get_recommender() -> Recommender:
    """The process-wide recommender (store + encoder), created on first use."""
    global _recommender
    with _lock:
        if _recommender is None:
            _recommender = Recommender.from_settings()
        return _recommender
