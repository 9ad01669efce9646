"""Qdrant Edge backend: the Qdrant engine in-process, on disk under ``Settings.store_path``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from recommender.bm25 import SparseVec
from recommender.store.base import (
    IMAGE,
    INDEXED_FIELDS,
    KEYWORDS,
    RRF_K,
    TEXT,
    TEXT_DIM,
    AnyOf,
    Condition,
    Equals,
    FilterSpec,
    HasProductId,
    Hit,
    IndexOptions,
    Range,
    StoreInUse,
    StorePoint,
    VectorStore,
    point_id,
)

_SCHEMA = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "float": qe.PayloadSchemaType.Float,
    "integer": qe.PayloadSchemaType.Integer,
    "bool": qe.PayloadSchemaType.Bool,
}


def _condition(cond: Condition) -> Any:
    if isinstance(cond, AnyOf):
        values = list(cond.values)
        if len(values) == 1 and not isinstance(values[0], str):
            return qe.FieldCondition(cond.key, match=qe.MatchValue(values[0]))
        return qe.FieldCondition(cond.key, match=qe.MatchAny(values))
    if isinstance(cond, Range):
        gte = None if cond.gte is None else float(cond.gte)
        lte = None if cond.lte is None else float(cond.lte)
        return qe.FieldCondition(cond.key, range=qe.RangeFloat(gte=gte, lte=lte))
    if isinstance(cond, Equals):
        return qe.FieldCondition(cond.key, match=qe.MatchValue(cond.value))
    if isinstance(cond, HasProductId):
        return qe.HasIdCondition({point_id(pid) for pid in cond.ids})
    raise TypeError(f"unknown condition {cond!r}")


def to_edge_filter(spec: FilterSpec | None) -> qe.Filter | None:
    if not spec:
        return None
    return qe.Filter(
        must=[_condition(c) for c in spec.must] or None,
        must_not=[_condition(c) for c in spec.must_not] or None,
    )


def _index_config(options: IndexOptions) -> dict[str, Any]:
    """EdgeConfig arguments for the dense index (full_scan_threshold: Qdrant's default)."""
    config: dict[str, Any] = {"hnsw_config": qe.HnswIndexConfig(
        m=options.hnsw_m, ef_construct=options.hnsw_ef_construct, full_scan_threshold=10_000)}
    if options.quantization == "int8":
        config["quantization_config"] = qe.ScalarQuantizationConfig(
            type=qe.ScalarType.Int8, quantile=0.99, always_ram=True)
    return config


def _sparse(vec: SparseVec) -> qe.SparseVector:
    return qe.SparseVector(list(vec.indices), [float(v) for v in vec.values])


class EdgeStore(VectorStore):
    name = "edge"

    def __init__(self, path: str | Path, image_dim: int | None = None,
                 index: IndexOptions | None = None) -> None:
        """The store in ``path``, created there (its dense index built as ``index`` says,
        default: from the settings) when missing."""
        self.path = Path(path)
        self.shard_path = self.path / "shard"
        if (self.shard_path / "edge_config.json").exists():
            try:
                self.shard = qe.EdgeShard.load(str(self.shard_path))
            except Exception as exc:  # the binding raises a plain Exception
                if "WouldBlock" in str(exc):
                    raise StoreInUse(f"the store {self.path} is open in another process") from exc
                raise
        else:
            vectors = {TEXT: qe.EdgeVectorParams(size=TEXT_DIM, distance=qe.Distance.Cosine)}
            if image_dim:
                vectors[IMAGE] = qe.EdgeVectorParams(size=image_dim, distance=qe.Distance.Cosine)
            if index is None:
                from common.settings import get_settings

                index = IndexOptions.of(get_settings())
            config = qe.EdgeConfig(
                vectors=vectors, sparse_vectors={KEYWORDS: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
                **_index_config(index),
            )
            self.shard_path.mkdir(parents=True, exist_ok=True)
            self.shard = qe.EdgeShard.create(str(self.shard_path), config)
        # an empty store is being bulk-loaded: its payload indexes are built once, in flush(),
        # rather than updated with every upsert (100,000 products: 16 instead of 29 CPU-seconds
        # of upserts, docs/benchmarks.md §3)
        self._indexes_pending = self.shard.count(qe.CountRequest(exact=True)) == 0
        if not self._indexes_pending:
            self._ensure_indexes()
        self.image_dim = self._image_dim()
        self._ensure_idf()

    def _config(self) -> dict[str, Any]:
        config_file = self.shard_path / "edge_config.json"
        return json.loads(config_file.read_text()) if config_file.exists() else {}

    def _image_dim(self) -> int | None:
        """The image vector size recorded in the shard's config, if it has one."""
        vectors = self._config().get("vectors", {})
        return int(vectors[IMAGE]["size"]) if IMAGE in vectors else None

    def _ensure_idf(self) -> None:
        """A store of an older Aisle has keyword vectors without the engine's IDF: the vector is
        made anew (empty); the next ingest re-embeds every product (``bm25.FORMAT``)."""
        keywords = self._config().get("sparse_vectors", {}).get(KEYWORDS, {})
        if str(keywords.get("modifier", "")).lower() != "idf":
            self.shard.update(qe.UpdateOperation.delete_vector_name(KEYWORDS))
            self.shard.update(qe.UpdateOperation.create_sparse_vector(KEYWORDS, modifier=qe.Modifier.Idf))

    def _ensure_indexes(self) -> None:
        present = set(self.shard.info().payload_schema)
        for key, kind in INDEXED_FIELDS.items():
            if key not in present:
                self.shard.update(qe.UpdateOperation.create_field_index(key, _SCHEMA[kind]))

    # schema and metadata
    def ensure_image_vector(self, dim: int) -> None:
        if self.image_dim == dim:
            return
        if self.image_dim is not None:
            raise ValueError(f"store has image vectors of size {self.image_dim}, catalog has {dim}")
        self.shard.update(qe.UpdateOperation.create_dense_vector(IMAGE, dim, qe.Distance.Cosine))
        self.image_dim = dim

    # writes
    def upsert(self, points: list[StorePoint]) -> None:
        if not points:
            return
        batch = []
        for p in points:
            vector: dict[str, Any] = {TEXT: p.text.astype(np.float32).tolist(), KEYWORDS: _sparse(p.keywords)}
            if p.image is not None:
                vector[IMAGE] = np.asarray(p.image, dtype=np.float32).tolist()
            batch.append(qe.Point(point_id(p.product_id), vector, p.payload))
        self.shard.update(qe.UpdateOperation.upsert_points(batch))

    def set_payload(self, product_id: str, payload: dict[str, Any]) -> None:
        self.shard.update(qe.UpdateOperation.overwrite_payload([point_id(product_id)], payload))

    def delete(self, product_ids: list[str]) -> None:
        if product_ids:
            self.shard.update(qe.UpdateOperation.delete_points([point_id(p) for p in product_ids]))

    def flush(self) -> None:
        """Build what is missing (payload indexes, then HNSW and the keyword index) and persist."""
        if self._indexes_pending:
            self._ensure_indexes()
            self._indexes_pending = False
        self.shard.optimize()
        self.shard.flush()

    def persist(self) -> None:
        """Payload updates need no new index: the HNSW build of :meth:`flush` took most of the
        time of a 10,000-line price feed on 100,000 products (docs/benchmarks.md §3)."""
        self.shard.flush()

    def close(self) -> None:
        if getattr(self, "shard", None) is not None:
            self.shard.flush()
            self.shard.close()
            self.shard = None

    # reads
    @staticmethod
    def _hit(record: Any, score: float = 0.0) -> Hit:
        vectors = record.vector or {}
        text = vectors.get(TEXT) if isinstance(vectors, dict) else None
        payload = record.payload or {}
        return Hit(
            product_id=str(payload.get("id")),
            score=float(score),
            payload=payload,
            text_vector=np.asarray(text, dtype=np.float32) if text is not None else None,
        )

    def get(self, product_ids: list[str], with_vectors: bool = False) -> list[Hit]:
        if not product_ids:
            return []
        records = self.shard.retrieve(
            [point_id(p) for p in product_ids], with_payload=True,
            with_vector=[TEXT] if with_vectors else False,
        )
        by_id = {str(r.payload.get("id")): self._hit(r) for r in records if r.payload}
        return [by_id[p] for p in product_ids if p in by_id]

    def count(self, spec: FilterSpec | None = None) -> int:
        return int(self.shard.count(qe.CountRequest(exact=True, filter=to_edge_filter(spec))))

    def payloads(self, fields: list[str] | None = None) -> Iterator[dict[str, Any]]:
        offset = None
        while True:
            records, offset = self.shard.scroll(qe.ScrollRequest(
                offset=offset, limit=1000, with_payload=fields or True, with_vector=False,
            ))
            for r in records:
                yield r.payload or {}
            if offset is None:
                return

    def search(self, dense, sparse, spec, limit, prefetch_limit=100, with_vectors=False) -> list[Hit]:
        flt = to_edge_filter(spec)
        with_vector = [TEXT] if with_vectors else False
        has_sparse = sparse is not None and bool(sparse)
        if dense is not None and has_sparse:
            request = qe.QueryRequest(
                limit=limit,
                prefetches=[
                    qe.Prefetch(limit=prefetch_limit, filter=flt,
                                query=qe.Query.Nearest(np.asarray(dense, np.float32).tolist(), using=TEXT)),
                    qe.Prefetch(limit=prefetch_limit, filter=flt,
                                query=qe.Query.Nearest(_sparse(sparse), using=KEYWORDS)),
                ],
                query=qe.Fusion.Rrf(k=RRF_K),
                filter=flt, with_payload=True, with_vector=with_vector,
            )
        elif dense is not None:
            request = qe.QueryRequest(
                limit=limit, query=qe.Query.Nearest(np.asarray(dense, np.float32).tolist(), using=TEXT),
                filter=flt, with_payload=True, with_vector=with_vector,
            )
        elif has_sparse:
            request = qe.QueryRequest(
                limit=limit, query=qe.Query.Nearest(_sparse(sparse), using=KEYWORDS),
                filter=flt, with_payload=True, with_vector=with_vector,
            )
        else:
            return []
        return [self._hit(p, p.score) for p in self.shard.query(request)]

    def search_image(self, vector, spec, limit, with_vectors=False) -> list[Hit]:
        if self.image_dim is None:
            return []
        request = qe.QueryRequest(
            limit=limit, query=qe.Query.Nearest(np.asarray(vector, np.float32).tolist(), using=IMAGE),
            filter=to_edge_filter(spec), with_payload=True,
            with_vector=[TEXT] if with_vectors else False,
        )
        return [self._hit(p, p.score) for p in self.shard.query(request)]

    def recommend(self, positive, negative, spec, limit, with_vectors=False) -> list[Hit]:
        if not positive:
            return []
        query = qe.Query.RecommendBestScore(
            qe.RecommendQuery(
                positives=[np.asarray(v, np.float32).tolist() for v in positive],
                negatives=[np.asarray(v, np.float32).tolist() for v in negative],
            ),
            using=TEXT,
        )
        request = qe.QueryRequest(
            limit=limit, query=query, filter=to_edge_filter(spec), with_payload=True,
            with_vector=[TEXT] if with_vectors else False,
        )
        return [self._hit(p, p.score) for p in self.shard.query(request)]
