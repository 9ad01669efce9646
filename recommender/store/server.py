"""Qdrant server backend through qdrant-client (``QdrantClient(url, api_key)``), or
qdrant-client's in-process mode (``QdrantClient(":memory:")``) for tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

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
    Range,
    StorePoint,
    VectorStore,
    point_id,
)

_SCHEMA = {
    "keyword": qm.PayloadSchemaType.KEYWORD,
    "float": qm.PayloadSchemaType.FLOAT,
    "integer": qm.PayloadSchemaType.INTEGER,
    "bool": qm.PayloadSchemaType.BOOL,
}


def _condition(cond: Condition) -> Any:
    if isinstance(cond, AnyOf):
        values = list(cond.values)
        if len(values) == 1 and not isinstance(values[0], str):
            return qm.FieldCondition(key=cond.key, match=qm.MatchValue(value=values[0]))
        return qm.FieldCondition(key=cond.key, match=qm.MatchAny(any=values))
    if isinstance(cond, Range):
        return qm.FieldCondition(key=cond.key, range=qm.Range(gte=cond.gte, lte=cond.lte))
    if isinstance(cond, Equals):
        return qm.FieldCondition(key=cond.key, match=qm.MatchValue(value=cond.value))
    if isinstance(cond, HasProductId):
        return qm.HasIdCondition(has_id=[point_id(pid) for pid in cond.ids])
    raise TypeError(f"unknown condition {cond!r}")


def to_qdrant_filter(spec: FilterSpec | None) -> qm.Filter | None:
    if not spec:
        return None
    return qm.Filter(
        must=[_condition(c) for c in spec.must] or None,
        must_not=[_condition(c) for c in spec.must_not] or None,
    )


def _sparse(vec: SparseVec) -> qm.SparseVector:
    return qm.SparseVector(indices=list(vec.indices), values=[float(v) for v in vec.values])


class ServerStore(VectorStore):
    name = "server"

    def __init__(
        self,
        client: QdrantClient,
        collection: str = "products",
        image_dim: int | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        if not client.collection_exists(collection):
            vectors = {TEXT: qm.VectorParams(size=TEXT_DIM, distance=qm.Distance.COSINE)}
            if image_dim:
                vectors[IMAGE] = qm.VectorParams(size=image_dim, distance=qm.Distance.COSINE)
            client.create_collection(
                collection, vectors_config=vectors,
                sparse_vectors_config={KEYWORDS: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            )
        info = client.get_collection(collection)
        keywords = (info.config.params.sparse_vectors or {}).get(KEYWORDS)
        if keywords is not None and keywords.modifier != qm.Modifier.IDF:  # made by an older Aisle
            client.update_collection(collection, sparse_vectors_config={
                KEYWORDS: qm.SparseVectorParams(modifier=qm.Modifier.IDF)})
        present = set(info.payload_schema or {})
        with warnings.catch_warnings():  # local mode says indexes have no effect there
            warnings.simplefilter("ignore", UserWarning)
            for key, kind in INDEXED_FIELDS.items():
                if key not in present:
                    client.create_payload_index(collection, key, _SCHEMA[kind])
        vectors_config = info.config.params.vectors
        self.image_dim = (
            vectors_config[IMAGE].size
            if isinstance(vectors_config, dict) and IMAGE in vectors_config else None
        )

    @classmethod
    def memory(cls, collection: str = "products", image_dim: int | None = None) -> ServerStore:
        return cls(QdrantClient(":memory:"), collection, image_dim)

    # schema and metadata
    def ensure_image_vector(self, dim: int) -> None:
        if self.image_dim == dim:
            return
        if self.image_dim is not None or self.count() > 0:
            raise ValueError(
                "the collection has no image vector of this size; ingest into a fresh collection"
            )
        self.client.delete_collection(self.collection)
        self.__init__(self.client, self.collection, dim)  # type: ignore[misc]

    # writes
    def upsert(self, points: list[StorePoint]) -> None:
        if not points:
            return
        batch = []
        for p in points:
            vector: dict[str, Any] = {TEXT: p.text.astype(np.float32).tolist(), KEYWORDS: _sparse(p.keywords)}
            if p.image is not None:
                vector[IMAGE] = np.asarray(p.image, dtype=np.float32).tolist()
            batch.append(qm.PointStruct(id=point_id(p.product_id), vector=vector, payload=p.payload))
        self.client.upsert(self.collection, batch, wait=True)

    def set_payload(self, product_id: str, payload: dict[str, Any]) -> None:
        self.client.overwrite_payload(self.collection, payload, points=[point_id(product_id)], wait=True)

    def set_payloads(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        if items:
            self.client.batch_update_points(self.collection, [
                qm.OverwritePayloadOperation(overwrite_payload=qm.SetPayload(
                    payload=payload, points=[point_id(product_id)]))
                for product_id, payload in items
            ], wait=True)

    def delete(self, product_ids: list[str]) -> None:
        if product_ids:
            self.client.delete(
                self.collection, qm.PointIdsList(points=[point_id(p) for p in product_ids]), wait=True
            )

    def close(self) -> None:
        self.client.close()

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
        records = self.client.retrieve(
            self.collection, [point_id(p) for p in product_ids], with_payload=True,
            with_vectors=[TEXT] if with_vectors else False,
        )
        by_id = {str(r.payload.get("id")): self._hit(r) for r in records if r.payload}
        return [by_id[p] for p in product_ids if p in by_id]

    def count(self, spec: FilterSpec | None = None) -> int:
        return int(self.client.count(self.collection, count_filter=to_qdrant_filter(spec), exact=True).count)

    def payloads(self, fields: list[str] | None = None) -> Iterator[dict[str, Any]]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection, limit=1000, offset=offset,
                with_payload=fields or True, with_vectors=False,
            )
            for r in records:
                yield r.payload or {}
            if offset is None:
                return

    def search(self, dense, sparse, spec, limit, prefetch_limit=100, with_vectors=False) -> list[Hit]:
        flt = to_qdrant_filter(spec)
        with_vector = [TEXT] if with_vectors else False
        has_sparse = sparse is not None and bool(sparse)
        if dense is not None and has_sparse:
            response = self.client.query_points(
                self.collection,
                prefetch=[
                    qm.Prefetch(query=np.asarray(dense, np.float32).tolist(), using=TEXT,
                                filter=flt, limit=prefetch_limit),
                    qm.Prefetch(query=_sparse(sparse), using=KEYWORDS, filter=flt, limit=prefetch_limit),
                ],
                query=qm.RrfQuery(rrf=qm.Rrf(k=RRF_K)),
                query_filter=flt, limit=limit, with_payload=True, with_vectors=with_vector,
            )
        elif dense is not None:
            response = self.client.query_points(
                self.collection, query=np.asarray(dense, np.float32).tolist(), using=TEXT,
                query_filter=flt, limit=limit, with_payload=True, with_vectors=with_vector,
            )
        elif has_sparse:
            response = self.client.query_points(
                self.collection, query=_sparse(sparse), using=KEYWORDS,
                query_filter=flt, limit=limit, with_payload=True, with_vectors=with_vector,
            )
        else:
            return []
        return [self._hit(p, p.score) for p in response.points]

    def search_image(self, vector, spec, limit, with_vectors=False) -> list[Hit]:
        if self.image_dim is None:
            return []
        response = self.client.query_points(
            self.collection, query=np.asarray(vector, np.float32).tolist(), using=IMAGE,
            query_filter=to_qdrant_filter(spec), limit=limit, with_payload=True,
            with_vectors=[TEXT] if with_vectors else False,
        )
        return [self._hit(p, p.score) for p in response.points]

    def recommend(self, positive, negative, spec, limit, with_vectors=False) -> list[Hit]:
        if not positive:
            return []
        query = qm.RecommendQuery(recommend=qm.RecommendInput(
            positive=[np.asarray(v, np.float32).tolist() for v in positive],
            negative=[np.asarray(v, np.float32).tolist() for v in negative],
            strategy=qm.RecommendStrategy.BEST_SCORE,
        ))
        response = self.client.query_points(
            self.collection, query=query, using=TEXT, query_filter=to_qdrant_filter(spec),
            limit=limit, with_payload=True, with_vectors=[TEXT] if with_vectors else False,
        )
        return [self._hit(p, p.score) for p in response.points]




