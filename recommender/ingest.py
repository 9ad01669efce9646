"""Incremental ingest: a catalog file into a vector store, re-embedding only what changed.

Per product, the payload stores ``content_hash`` (what the vectors come from) and
``payload_hash`` (the whole record). Unchanged products are skipped, a changed payload
(price, stock, …) is a payload update without embedding, a changed text is re-embedded,
and products missing from the catalog are deleted — unless some rows failed to load, in
which case nothing is deleted (a bad row must not make a product disappear).

Image vectors: a catalog's precomputed ``image_vector`` is stored as is; with an image encoder
(``AISLE_IMAGE_MODEL``, see ``image.py``) products without one are embedded from their local
PNG/JPEG ``image_url`` (others are skipped and counted). The image model and the image file's
size and mtime are part of the vector hash, so a new image or model re-embeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recommender.catalog import (
    Product,
    RowError,
    content_hash,
    embedding_text,
    keyword_text,
    load_catalog,
    payload_hash,
)
from recommender.image import file_fingerprint
from recommender.sparse import SparseStats, document_vector
from recommender.store.base import IN_STOCK_FLAG, StorePoint, VectorStore

if TYPE_CHECKING:
    from recommender.encoder import Encoder
    from recommender.image import ImageEncoder

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    added: int = 0
    updated_payload: int = 0
    reembedded: int = 0
    unchanged: int = 0
    deleted: int = 0
    errors: list[RowError] = field(default_factory=list)
    deletions_skipped: int = 0
    images_embedded: int = 0
    images_skipped: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added, "updated_payload": self.updated_payload,
            "reembedded": self.reembedded, "unchanged": self.unchanged, "deleted": self.deleted,
            "deletions_skipped": self.deletions_skipped, "errors": [str(e) for e in self.errors],
            "images_embedded": self.images_embedded, "images_skipped": self.images_skipped,
            "seconds": round(self.seconds, 2),
        }

    def summary(self) -> str:
        text = (f"added {self.added}, re-embedded {self.reembedded}, payload updated "
                f"{self.updated_payload}, unchanged {self.unchanged}, deleted {self.deleted}, "
                f"errors {len(self.errors)} ({self.seconds:.1f} s)")
        if self.deletions_skipped:
            text += f"; {self.deletions_skipped} deletions skipped because rows failed to load"
        if self.images_embedded or self.images_skipped:
            text += (f"; images embedded {self.images_embedded}, skipped {self.images_skipped} "
                     "(no local PNG/JPEG)")
        return text


def vector_hash(product: Product, model_id: str = "") -> str:
    """What the stored vectors come from: the product's text and the encoder that embedded it.

    A new encoder (a promoted fine-tuned model) changes every hash, so everything is re-embedded.
    """
    return f"{content_hash(product)}@{model_id}" if model_id else content_hash(product)


def product_payload(product: Product, model_id: str = "", vectors_hash: str | None = None
                    ) -> dict[str, Any]:
    payload = product.payload()
    payload[IN_STOCK_FLAG] = int(bool(payload["in_stock"]))
    payload["content_hash"] = vectors_hash or vector_hash(product, model_id)
    payload["payload_hash"] = payload_hash(product)
    return payload


def ingest_products(
    products: list[Product],
    store: VectorStore,
    encoder: Encoder,
    errors: list[RowError] | None = None,
    batch_size: int = 256,
    image_encoder: ImageEncoder | None = None,
    image_dirs: list[Path] | None = None,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport(errors=list(errors or []))
    existing = store.scroll_hashes()
    model_id = encoder.model_id
    texts = {p.id: embedding_text(p) for p in products}
    keywords = {p.id: keyword_text(p) for p in products}
    old_stats = store.load_stats()
    stats = SparseStats.from_texts(keywords.values(), avg_len=old_stats.avg_len if old_stats else None)
    image_dims = {len(p.image_vector) for p in products if p.image_vector}
    if len(image_dims) > 1:
        raise ValueError(f"image vectors of different sizes in one catalog: {sorted(image_dims)}")
    image_files: dict[str, Path] = {}
    if image_encoder is not None:
        if image_dims and image_dims != {image_encoder.dim}:
            raise ValueError(f"catalog image vectors have size {sorted(image_dims)}, the image model "
                             f"{image_encoder.dim}: they cannot share the image vector")
        image_dims = {image_encoder.dim}
        image_files = _image_files(products, image_dirs or [])
    if image_dims:
        store.ensure_image_vector(image_dims.pop())

    def hashed(product: Product) -> str:
        base = vector_hash(product, model_id)
        path = image_files.get(product.id)
        return f"{base}+{image_encoder.model_id}:{file_fingerprint(path)}" if path and image_encoder else base

    hashes = {p.id: hashed(p) for p in products}
    to_embed: list[Product] = []
    for product in products:
        old = existing.get(product.id)
        if old is None:
            report.added += 1
            to_embed.append(product)
        elif old[0] != hashes[product.id]:
            report.reembedded += 1
            to_embed.append(product)
        elif old[1] != payload_hash(product):
            report.updated_payload += 1
            store.set_payload(product.id, product_payload(product, model_id, hashes[product.id]))
        else:
            report.unchanged += 1

    for start in range(0, len(to_embed), batch_size):
        batch = to_embed[start : start + batch_size]
        vectors = encoder.encode_documents([texts[p.id] for p in batch])
        images = _embed_images(batch, image_files, image_encoder, report) if image_encoder else {}
        store.upsert([
            StorePoint(
                product_id=p.id, text=vec, keywords=document_vector(keywords[p.id], stats.avg_len),
                payload=product_payload(p, model_id, hashes[p.id]),
                image=p.image_vector if p.image_vector else images.get(p.id),
            )
            for p, vec in zip(batch, vectors, strict=True)
        ])

    gone = sorted(set(existing) - set(texts))
    if gone and report.errors:
        report.deletions_skipped = len(gone)
    elif gone:
        store.delete(gone)
        report.deleted = len(gone)
    store.save_stats(stats)
    store.flush()
    report.seconds = time.perf_counter() - started
    return report


def _image_files(products: list[Product], image_dirs: list[Path]) -> dict[str, Path]:
    from recommender.image import local_image_path

    files = {}
    for p in products:
        if not p.image_vector:
            path = local_image_path(p.image_url, image_dirs)
            if path is not None:
                files[p.id] = path
    return files


def _embed_images(batch: list[Product], files: dict[str, Path], image_encoder: ImageEncoder,
                  report: IngestReport) -> dict[str, Any]:
    """Image vectors for the batch's products that have a readable local PNG/JPEG."""
    from recommender.image import ImageError, load_image

    loaded = {}
    for p in batch:
        if p.image_vector:
            continue
        try:
            loaded[p.id] = load_image(files[p.id]) if p.id in files else None
        except ImageError as exc:
            log.warning("product %s: image %s skipped: %s", p.id, files[p.id], exc)
            loaded[p.id] = None
    ready = {pid: img for pid, img in loaded.items() if img is not None}
    report.images_skipped += len(loaded) - len(ready)
    report.images_embedded += len(ready)
    vectors = image_encoder.encode_images(list(ready.values()))
    return dict(zip(ready, vectors, strict=True))


def ingest(
    catalog_path: str | Path,
    store: VectorStore,
    encoder: Encoder,
    column_map: Mapping[str, str] | None = None,
    batch_size: int = 256,
    image_encoder: ImageEncoder | None = None,
    image_dir: str | Path | None = None,
) -> IngestReport:
    """Load ``catalog_path`` (JSON Lines or CSV) into ``store``; see the module docstring.

    Relative image paths resolve against ``image_dir`` (when given), then the catalog's folder.
    """
    loaded = load_catalog(catalog_path, column_map)
    if not loaded.products and loaded.errors:
        raise ValueError(
            f"no valid product in {catalog_path}; first error: {loaded.errors[0]} — store left unchanged"
        )
    image_dirs = ([Path(image_dir)] if image_dir else []) + [Path(catalog_path).resolve().parent]
    return ingest_products(loaded.products, store, encoder, loaded.errors, batch_size,
                           image_encoder, image_dirs)
