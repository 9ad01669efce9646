"""The ``keywords`` named vector: Qdrant's own BM25.

Documents are embedded by ``qdrant_edge.Bm25`` (the library's tokeniser, English stopwords and
Snowball stemmer; term-frequency weights with BM25's ``k`` and ``b``), queries by the same model
(weight 1 per distinct term), and the engine applies the IDF (``Modifier.IDF`` on the sparse
vector of both backends), computed from the collection itself: no statistics are kept outside
the store, and a changed catalog changes the IDF at once.

``AVG_LEN`` is BM25's expected document length (tokens), fixed rather than measured per catalog
so that an incremental ingest weighs old and new documents alike; b = 0.75 normalises each
document's length against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import qdrant_edge as qe

# bump when documents are embedded differently: every stored vector is then re-embedded
FORMAT = "qdrant-bm25-1"
AVG_LEN = 48.0
K, B = 1.2, 0.75


@dataclass
class SparseVec:
    indices: list[int]
    values: list[float]

    def __bool__(self) -> bool:
        return bool(self.indices)


@lru_cache(maxsize=1)
def _model() -> qe.Bm25:
    return qe.Bm25(qe.Bm25Config(k=K, b=B, avg_len=AVG_LEN, language="english"))


def document_vector(text: str) -> SparseVec:
    """BM25 term-frequency weights of one document (the IDF is the engine's)."""
    vec = _model().embed_document(text)
    return SparseVec(list(vec.indices), list(vec.values))


def query_vector(text: str) -> SparseVec:
    """The query's distinct terms, each of weight 1: the engine multiplies by their IDF."""
    vec = _model().embed_query(text)
    return SparseVec(list(vec.indices), list(vec.values))
