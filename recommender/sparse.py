"""BM25-style sparse vectors for the ``keywords`` named vector.

Documents carry the BM25 term-frequency part, ``tf·(k1+1) / (tf + k1·(1-b+b·len/avg_len))``;
queries carry each term's IDF, ``ln(1 + (N-df+0.5)/(df+0.5))``. Their dot product is the
BM25 score. Term ids are ``crc32(term) mod 2^31`` (stable across processes and stores);
IDF statistics are computed from the whole catalog at ingest and persisted next to the
store, so a changed catalog changes query weights without re-encoding documents.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from common.files import write_text_atomic

K1 = 1.2
B = 0.75
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that", "the", "their", "this", "to", "was", "we", "with", "you", "your", "im", "looking", "want", "need", "some", "any", "show"]
)


@lru_cache(maxsize=1 << 16)  # a catalog repeats its words: ingest calls this millions of times
def stem(token: str) -> str:
    """Tiny plural folding: boots→boot, dresses→dress, accessories→accessory."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "shes", "ches", "xes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens with stopwords removed and plurals folded."""
    words = _TOKEN.findall(text.lower().replace("’", "'"))
    return [stem(w.split("'")[0]) for w in words if w not in STOPWORDS]


@lru_cache(maxsize=1 << 16)
def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


@dataclass
class SparseVec:
    indices: list[int]
    values: list[float]

    def __bool__(self) -> bool:
        return bool(self.indices)


@dataclass
class SparseStats:
    """Corpus statistics for IDF: number of documents, document frequency per term id."""

    n_docs: int = 0
    avg_len: float = 0.0
    df: dict[int, int] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: Iterable[str], avg_len: float | None = None) -> SparseStats:
        df: Counter[int] = Counter()
        n = total = 0
        for text in texts:
            terms = tokenize(text)
            n += 1
            total += len(terms)
            df.update({term_id(t) for t in terms})
        return cls(n, avg_len if avg_len else (total / n if n else 0.0), dict(df))

    def idf(self, tid: int) -> float:
        df = self.df.get(tid, 0)
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps({"n_docs": self.n_docs, "avg_len": self.avg_len,
                                            "df": {str(k): v for k, v in self.df.items()}}))

    @classmethod
    def load(cls, path: Path) -> SparseStats | None:
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        return cls(raw["n_docs"], raw["avg_len"], {int(k): v for k, v in raw["df"].items()})


def document_vector(text: str, avg_len: float) -> SparseVec:
    """BM25 term-frequency weights of one document."""
    terms = tokenize(text)
    if not terms:
        return SparseVec([], [])
    counts = Counter(term_id(t) for t in terms)
    norm = K1 * (1 - B + B * len(terms) / (avg_len or len(terms)))
    items = sorted(counts.items())
    return SparseVec([i for i, _ in items], [tf * (K1 + 1) / (tf + norm) for _, tf in items])


def query_vector(text: str, stats: SparseStats | None) -> SparseVec:
    """IDF weights of the query's distinct terms (unknown terms weigh like rare ones)."""
    ids = sorted({term_id(t) for t in tokenize(text)})
    if stats is None:
        return SparseVec(ids, [1.0] * len(ids))
    return SparseVec(ids, [stats.idf(i) for i in ids])
