"""The one small vector-store interface, and a backend-neutral filter description.

Both backends (Qdrant Edge embedded, Qdrant server through qdrant-client) implement
``VectorStore`` with the same behaviour; tests run every filter kind on both.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.bm25 import SparseVec

TEXT = "text"
KEYWORDS = "keywords"
IMAGE = "image"
TEXT_DIM = 384
RRF_K = 60
# qdrant-edge-py 0.9 turns MatchValue(True) into the integer 1, so a bool field cannot be
# matched there: filters use this 0/1 integer copy of ``in_stock`` on both backends.
IN_STOCK_FLAG = "in_stock_flag"

@dataclass(frozen=True)
class IndexOptions:
    """How a new store builds its dense index: HNSW's ``m`` (edges per node) and ``ef_construct``
    (candidates while building), and ``quantization`` "int8" to also keep each vector as int8
    (scalar quantization; search rescoring with the originals). An existing store keeps what it
    was built with. The trade-offs, measured: docs/benchmarks.md §3."""

    hnsw_m: int = 16
    hnsw_ef_construct: int = 100
    quantization: str = "none"

    @classmethod
    def of(cls, settings: Any) -> IndexOptions:
        return cls(settings.hnsw_m, settings.hnsw_ef_construct, settings.quantization)


# every filterable payload field and its index type
INDEXED_FIELDS: dict[str, str] = {
    "id": "keyword",
    "price": "float",
    "rating": "float",
    "stock": "integer",
    "in_stock": "bool",
    "in_stock_flag": "integer",
    "brand": "keyword",
    "colors": "keyword",
    "sizes": "keyword",
    "materials": "keyword",
    "category": "keyword",
    "product_type": "keyword",
    "gender": "keyword",
}

class StoreInUse(RuntimeError):
    """An embedded store that another process has open (Qdrant Edge locks a shard's WAL)."""


_NAMESPACE = uuid.UUID("5b0b7d8e-2f4c-4a43-9d55-6b1f0c2a7e11")


def point_id(product_id: str) -> str:
    """Qdrant point ids are ints or UUIDs: a stable UUID per product id."""
    return str(uuid.uuid5(_NAMESPACE, product_id))


# ---- backend-neutral filter -------------------------------------------------------------
@dataclass(frozen=True)
class AnyOf:
    """The field (a value or a list) contains at least one of ``values``."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Range:
    key: str
    gte: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class Equals:
    key: str
    value: str | int | bool


@dataclass(frozen=True)
class HasProductId:
    ids: tuple[str, ...]


Condition = AnyOf | Range | Equals | HasProductId


@dataclass
class FilterSpec:
    must: list[Condition] = field(default_factory=list)
    must_not: list[Condition] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.must or self.must_not)


# ---- records ------------------------------------------------------------------------------
@dataclass
class StorePoint:
    product_id: str
    text: np.ndarray
    keywords: SparseVec
    payload: dict[str, Any]
    image: np.ndarray | None = None


@dataclass
class Hit:
    product_id: str
    score: float
    payload: dict[str, Any]
    text_vector: np.ndarray | None = None


class VectorStore(ABC):
    """Named vectors ``text`` (dense cosine), ``keywords`` (sparse BM25, the engine's IDF: see
    ``recommender/bm25.py``), ``image`` (dense, optional)."""

    name = "store"
    image_dim: int | None = None

    # schema and metadata
    @abstractmethod
    def ensure_image_vector(self, dim: int) -> None: ...

    # writes
    @abstractmethod
    def upsert(self, points: list[StorePoint]) -> None: ...

    @abstractmethod
    def set_payload(self, product_id: str, payload: dict[str, Any]) -> None:
        """Replace the payload of one point, keeping its vectors."""

    def set_payloads(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """:meth:`set_payload` for each (product id, payload); backends may send them at once."""
        for product_id, payload in items:
            self.set_payload(product_id, payload)

    @abstractmethod
    def delete(self, product_ids: list[str]) -> None: ...

    # reads
    @abstractmethod
    def get(self, product_ids: list[str], with_vectors: bool = False) -> list[Hit]: ...

    @abstractmethod
    def count(self, spec: FilterSpec | None = None) -> int: ...

    @abstractmethod
    def payloads(self, fields: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every stored payload (only ``fields`` when given), in pages."""

    def scroll_hashes(self) -> dict[str, tuple[str, str]]:
        """product id → (content_hash, payload_hash) for every stored point."""
        return {
            str(p.get("id")): (p.get("content_hash", ""), p.get("payload_hash", ""))
            for p in self.payloads(["id", "content_hash", "payload_hash"])
        }

    @abstractmethod
    def search(
        self,
        dense: np.ndarray | None,
        sparse: SparseVec | None,
        spec: FilterSpec | None,
        limit: int,
        prefetch_limit: int = 100,
        with_vectors: bool = False,
    ) -> list[Hit]:
        """Dense and/or sparse retrieval under the filter; with both, RRF-fused prefetches."""

    def search_image(
        self, vector: np.ndarray, spec: FilterSpec | None, limit: int, with_vectors: bool = False,
    ) -> list[Hit]:
        """Nearest neighbours on the ``image`` vector under the filter (products without an
        image vector are not found)."""
        raise NotImplementedError(f"{self.name} store has no image search")

    @abstractmethod
    def recommend(
        self,
        positive: list[np.ndarray],
        negative: list[np.ndarray],
        spec: FilterSpec | None,
        limit: int,
        with_vectors: bool = False,
    ) -> list[Hit]:
        """Qdrant's recommend query (best-score strategy) on the ``text`` vector."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Persist pending writes (no-op where writes are synchronous)."""

    def persist(self) -> None:
        """Persist pending writes without rebuilding indexes (after payload-only updates)."""
        self.flush()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
