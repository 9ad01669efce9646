"""Qdrant server backend through qdrant-client (``QdrantClient(url, api_key)``), or
qdrant-client's in-process mode (``QdrantClient(":memory:")``) for tests.

New collections are laid out over a cluster by :class:`Layout` (AISLE_QDRANT_SHARDS, _REPLICAS,
_WRITE_CONSISTENCY). Blue/green publishing (``recommender/active.py``) switches the alias
AISLE_COLLECTION between collections with :func:`point_alias`; serving processes read it with
:func:`followed_collection` and open the collection it names, never the alias itself.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from common.settings import Settings, get_settings
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
    StorePoint,
    VectorStore,
    point_id,
)

LOCAL = ":memory:"  # AISLE_QDRANT_URL for qdrant-client's local mode: one in-process "server"

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


@dataclass(frozen=True)
class Layout:
    """How a new collection is spread over a Qdrant cluster: ``shards`` (``shard_number``),
    copies of each shard on different nodes (``replication_factor``) and copies that must
    confirm a write (``write_consistency_factor``). A standalone server: all 1."""

    shards: int = 1
    replicas: int = 1
    write_consistency: int = 1

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        return cls(settings.qdrant_shards, settings.qdrant_replicas, settings.qdrant_write_consistency)

    def create_options(self) -> dict[str, int]:
        return {"shard_number": self.shards, "replication_factor": self.replicas,
                "write_consistency_factor": self.write_consistency}


def _index_config(options: IndexOptions) -> dict[str, Any]:
    """create_collection arguments for the dense index (as the Edge store's)."""
    config: dict[str, Any] = {"hnsw_config": qm.HnswConfigDiff(m=options.hnsw_m, ef_construct=options.hnsw_ef_construct)}
    if options.quantization == "int8":
        config["quantization_config"] = qm.ScalarQuantization(scalar=qm.ScalarQuantizationConfig(
            type=qm.ScalarType.INT8, quantile=0.99, always_ram=True))
    return config


@functools.cache
def _client(url: str, api_key: str | None) -> QdrantClient:
    return QdrantClient(LOCAL) if url == LOCAL else QdrantClient(url=url, api_key=api_key)


def connect(settings: Settings) -> QdrantClient:
    """The process's client of AISLE_QDRANT_URL, shared by its stores, publishes and followers
    (``:memory:``: one local-mode instance per process, standing in for a server in tests)."""
    return _client(settings.qdrant_url, settings.qdrant_api_key)


# ---- the alias serving processes follow (blue/green, docs/architecture.md §2.6) --------------
def aliases(client: QdrantClient) -> dict[str, str]:
    """alias → the collection it names."""
    return {a.alias_name: a.collection_name for a in client.get_aliases().aliases}


def stand_in(alias: str) -> str:
    """The alias followed while a collection of an older Aisle still holds the name ``alias``."""
    return f"{alias}-migrating"


def followed_collection(client: QdrantClient, alias: str) -> str | None:
    """The collection serving processes use for ``alias`` (its stand-in's during a migration),
    or None when no alias is set (nothing published, or only a plain collection of that name)."""
    named = aliases(client)
    return named.get(alias) or named.get(stand_in(alias))


def point_alias(client: QdrantClient, alias: str, collection: str,
                settle: Callable[[], object] = lambda: None) -> None:
    """Point ``alias`` at ``collection``: the old alias deleted and the new one created in one
    ``update_collection_aliases`` call, so every request sees one collection or the other.

    Qdrant refuses an alias named like a collection. A plain collection ``alias`` (an older
    Aisle's, served by processes that have seen no alias yet) is replaced in two steps: the
    stand-in alias moves those processes to ``collection`` while the plain one still answers,
    ``settle()`` gives them time to switch, then the plain one is deleted and the alias takes
    its name (dropping the stand-in in the same call)."""
    if alias in {c.name for c in client.get_collections().collections}:
        _repoint(client, stand_in(alias), collection)
        settle()
        client.delete_collection(alias)
    _repoint(client, alias, collection, drop=(stand_in(alias),))


def _repoint(client: QdrantClient, alias: str, collection: str, drop: tuple[str, ...] = ()) -> None:
    present = aliases(client)
    operations: list[Any] = [qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=name))
                             for name in (alias, *drop) if name in present]
    operations.append(qm.CreateAliasOperation(create_alias=qm.CreateAlias(
        collection_name=collection, alias_name=alias)))
    client.update_collection_aliases(change_aliases_operations=operations)


class ServerStore(VectorStore):
    name = "server"

    def __init__(
        self,
        client: QdrantClient,
        collection: str = "products",
        image_dim: int | None = None,
        layout: Layout | None = None,
        owns_client: bool = True,
        index: IndexOptions | None = None,
    ) -> None:
        """The collection ``collection`` (created with ``layout``, default: from the settings,
        when missing); an alias opens the collection it names now, for the store's whole life."""
        self.client = client
        self.layout = layout or Layout.of(get_settings())
        self._owns_client = owns_client
        self.collection = collection = aliases(client).get(collection, collection)
        if not client.collection_exists(collection):
            vectors = {TEXT: qm.VectorParams(size=TEXT_DIM, distance=qm.Distance.COSINE)}
            if image_dim:
                vectors[IMAGE] = qm.VectorParams(size=image_dim, distance=qm.Distance.COSINE)
            client.create_collection(
                collection, vectors_config=vectors,
                sparse_vectors_config={KEYWORDS: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
                **self.layout.create_options(), **_index_config(index or IndexOptions.of(get_settings())),
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
        return cls(QdrantClient(LOCAL), collection, image_dim)

    @classmethod
    def from_settings(cls, settings: Settings, collection: str | None = None) -> ServerStore:
        """AISLE_COLLECTION (or ``collection``) through the process's shared client."""
        return cls(connect(settings), collection or settings.collection, layout=Layout.of(settings),
                   owns_client=False)

    # schema and metadata
    def ensure_image_vector(self, dim: int) -> None:
        if self.image_dim == dim:
            return
        if self.image_dim is not None or self.count() > 0:
            raise ValueError(
                "the collection has no image vector of this size; ingest into a fresh collection"
            )
        self.client.delete_collection(self.collection)
        self.__init__(self.client, self.collection, dim, self.layout, self._owns_client)  # type: ignore[misc]

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

    def copy_points_from(self, source: ServerStore, batch: int = 256) -> int:
        """Every point of ``source`` (vectors and payload) into this collection: a re-ingest of
        the served model then embeds only what the catalog changed (the server's counterpart of
        copying an Edge folder). Returns the points copied."""
        copied, offset = 0, None
        while True:
            records, offset = source.client.scroll(source.collection, limit=batch, offset=offset,
                                                   with_payload=True, with_vectors=True)
            if records:
                self.client.upsert(self.collection, [
                    qm.PointStruct(id=r.id, vector=r.vector, payload=r.payload) for r in records],
                    wait=True)
                copied += len(records)
            if offset is None:
                return copied

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
        if self._owns_client:  # a shared client (connect) serves the process's other users too
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
