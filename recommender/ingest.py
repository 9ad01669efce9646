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

Production speed (issue #19, docs/benchmarks.md §3): the products to embed are encoded in
worker processes (:class:`recommender.encoder.EncodePool`) while this process builds keyword
vectors and payloads and stores the batches before them; the store's index is built once, at
the end (``VectorStore.flush``). Each stored batch carries its hashes, so an ingest that is
killed (even ``kill -9``) and run again embeds only the products it had not stored yet.
:class:`Progress` shows the phases: a bar with rate and ETA on a terminal, a plain line every
few seconds elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from recommender import bm25
from recommender.catalog import (
    Product,
    RowError,
    content_hash,
    embedding_text,
    keyword_text,
    load_catalog,
    payload_hash,
    validate_record,
)
from recommender.image import file_fingerprint
from recommender.store.base import IN_STOCK_FLAG, StorePoint, VectorStore

if TYPE_CHECKING:
    from recommender.encoder import Encoder
    from recommender.image import ImageEncoder

log = logging.getLogger(__name__)

# products per stored (and committed) batch
BATCH_SIZE = 256
# encoder worker processes and the intra-op threads of each (docs/benchmarks.md §3)
WORKERS = max(1, min(4, os.cpu_count() or 1))
WORKER_THREADS = 1
# with ``workers=None``, fewer products to embed than this are encoded in this process: starting
# the workers costs seconds (the demo shop's 1,200 products, evaluation, tests)
POOL_MIN = 5000
# seconds between two progress lines when the output is not a terminal
PROGRESS_EVERY = 10.0


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
    index_seconds: float = 0.0  # of ``seconds``: the store's index build at the end

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


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """What a shop owner sees while ``ingest`` runs, on ``stream`` (None: nothing).

    On a terminal, a tqdm bar per phase with its rate and ETA; elsewhere (a log file, a
    container's output) one plain line every ``every`` seconds, e.g. ``ingest: 12,800 of
    100,000 embedded and stored (12.8 %), 341 products/s, about 4 min 10 s left``. The counts
    are of stored batches: what a killed run would not do again.
    """

    def __init__(self, stream: IO[str] | None = sys.stderr, every: float = PROGRESS_EVERY,
                 tty: bool | None = None) -> None:
        self.stream = stream
        self.every = every
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty()) if tty is None else tty
        self._bar: Any = None
        self._name, self._total, self._done = "", 0, 0
        self._started = self._last = 0.0
        self._first: tuple[float, int] | None = None

    def _line(self, text: str) -> None:
        if self.stream is not None:
            print(f"ingest: {text}", file=self.stream, flush=True)

    def plan(self, products: int, embed: int, payload: int, unchanged: int, delete: int) -> None:
        self._line(f"{products:,} products: {embed:,} to embed, {payload:,} payload updates, "
                   f"{unchanged:,} unchanged, {delete:,} to delete")

    def phase(self, name: str, total: int | None) -> None:
        """Start a phase of ``total`` products (None: one step without a count, such as the index
        build; 0: nothing to do, nothing shown)."""
        self._finish()
        self._name, self._total, self._done = name, total or 0, 0
        self._started = self._last = time.monotonic()
        self._first = None
        if self.stream is None or total == 0:
            self._name = "" if total == 0 else name
            return
        if total is None:
            self._line(f"{name}…")
        elif self.tty:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, unit=" products", unit_scale=False,
                             file=self.stream, dynamic_ncols=True, smoothing=0.1)

    def advance(self, n: int) -> None:
        self._done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if self._first is None:  # the rate counts from the first batch: not the start-up
            self._first = (now, self._done)
        if self.stream is not None and now - self._last >= self.every:
            self._last = now
            self._line(self._status(now))

    def _status(self, now: float) -> str:
        text = (f"{self._done:,} of {self._total:,} {self._name} "
                f"({100 * self._done / max(self._total, 1):.1f} %)")
        since, before = self._first or (self._started, 0)
        if now - since > 0 and self._done > before:
            rate = (self._done - before) / (now - since)
            text += f", {rate:,.0f} products/s"
            if self._done < self._total:
                text += f", about {_duration((self._total - self._done) / rate)} left"
        return text

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.stream is not None and self._total:
            self._line(f"{self._done:,} of {self._total:,} {self._name} in "
                       f"{_duration(time.monotonic() - self._started)}")
        elif self.stream is not None and self._name and not self._total:
            self._line(f"{self._name} took {_duration(time.monotonic() - self._started)}")
        self._name, self._total, self._done = "", 0, 0

    def done(self, report: IngestReport) -> None:
        self._finish()


def vector_hash(product: Product, model_id: str = "") -> str:
    """What the stored vectors come from: the product's text and the encoder that embedded it.

    A new encoder (a promoted fine-tuned model) changes every hash, so everything is re-embedded.
    """
    base = f"{content_hash(product)}/{bm25.FORMAT}"
    return f"{base}@{model_id}" if model_id else base


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
    batch_size: int = BATCH_SIZE,
    image_encoder: ImageEncoder | None = None,
    image_dirs: list[Path] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    threads: int = WORKER_THREADS,
) -> IngestReport:
    """Ingest ``products`` into ``store`` (see the module docstring).

    Products to embed are encoded in ``workers`` processes (:class:`EncodePool`; None: :data:`WORKERS`
    from :data:`POOL_MIN` products on, 0: in this process) while this one stores the batches before them; each
    batch of ``batch_size`` is committed with its hashes, so a run that is killed and started
    again embeds only what was not committed. ``progress`` sees each phase.
    """
    started = time.perf_counter()
    progress = progress or Progress(None)
    report = IngestReport(errors=list(errors or []))
    existing = store.scroll_hashes()
    model_id = encoder.model_id
    keywords = {p.id: keyword_text(p) for p in products}
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
    payload_updates: list[tuple[str, dict[str, Any]]] = []
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
            payload_updates.append((product.id, product_payload(product, model_id, hashes[product.id])))
        else:
            report.unchanged += 1
    gone = sorted(set(existing) - set(keywords))
    progress.plan(len(products), len(to_embed), len(payload_updates), report.unchanged,
                  0 if report.errors else len(gone))
    # longest texts first, so that each batch pads little and the slowest come while the
    # store has work of its own
    texts = {p.id: embedding_text(p) for p in to_embed}
    to_embed.sort(key=lambda p: -len(texts[p.id]))
    batches = [to_embed[i : i + batch_size] for i in range(0, len(to_embed), batch_size)]
    if workers is None:  # automatic: worker processes when there is enough to embed
        workers = WORKERS if len(to_embed) >= POOL_MIN else 0
    pool = ahead = None
    if workers > 0 and to_embed and hasattr(encoder, "spec"):
        from recommender.encoder import EncodePool

        # the workers load the model and start on the first batches while payloads are updated
        pool = EncodePool(encoder, workers=workers, threads=threads)
        ahead = 2 * workers
        for batch in batches[:ahead]:
            pool.submit([texts[p.id] for p in batch])
    try:
        progress.phase("payload updates", len(payload_updates))
        for start in range(0, len(payload_updates), batch_size):
            chunk = payload_updates[start : start + batch_size]
            store.set_payloads(chunk)
            progress.advance(len(chunk))

        progress.phase("embedded and stored", len(to_embed))
        for n, batch in enumerate(batches):
            # everything but the vectors is ready before they are waited for
            sparse = [bm25.document_vector(keywords[p.id]) for p in batch]
            payloads = [product_payload(p, model_id, hashes[p.id]) for p in batch]
            images = _embed_images(batch, image_files, image_encoder, report) if image_encoder else {}
            if pool is not None:
                vectors = pool.result()
                if n + ahead < len(batches):
                    pool.submit([texts[p.id] for p in batches[n + ahead]])
            else:
                vectors = encoder.encode_documents([texts[p.id] for p in batch])
            store.upsert([
                StorePoint(product_id=p.id, text=vec, keywords=sp, payload=payload,
                           image=p.image_vector if p.image_vector else images.get(p.id))
                for p, vec, sp, payload in zip(batch, vectors, sparse, payloads, strict=True)
            ])
            progress.advance(len(batch))
    except BaseException:
        if pool is not None:
            pool.close(cancel=True)
        raise
    if pool is not None:
        pool.close()

    if gone and report.errors:
        report.deletions_skipped = len(gone)
    elif gone:
        progress.phase("deleted", len(gone))
        store.delete(gone)
        report.deleted = len(gone)
        progress.advance(len(gone))
    progress.phase("index build", None)
    indexed = time.perf_counter()
    store.flush()
    report.index_seconds = time.perf_counter() - indexed
    report.seconds = time.perf_counter() - started
    progress.done(report)
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
    batch_size: int = BATCH_SIZE,
    image_encoder: ImageEncoder | None = None,
    image_dir: str | Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    threads: int = WORKER_THREADS,
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
                           image_encoder, image_dirs, progress, workers, threads)


# ---- price and stock feeds: payload updates without re-embedding ---------------------------
# what product_payload adds to a product's own fields
DERIVED_KEYS = frozenset({"content_hash", "payload_hash", "in_stock", IN_STOCK_FLAG, "product_type"})
# fields a feed cannot change: the vectors come from them
VECTOR_FIELDS = frozenset({"id", "image_vector"})


@dataclass
class UpdateReport:
    updated: int = 0
    unchanged: int = 0
    unknown: list[RowError] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def skipped(self) -> list[RowError]:
        return sorted(self.unknown + self.errors, key=lambda e: e.line)

    def to_dict(self) -> dict[str, Any]:
        return {"updated": self.updated, "unchanged": self.unchanged,
                "unknown": [str(e) for e in self.unknown], "errors": [str(e) for e in self.errors],
                "seconds": round(self.seconds, 2)}

    def summary(self) -> str:
        return (f"payload updated {self.updated}, unchanged {self.unchanged}, unknown ids "
                f"{len(self.unknown)}, errors {len(self.errors)} ({self.seconds:.1f} s)")


def read_feed(path: str | Path) -> tuple[list[tuple[int, str, dict[str, Any]]], list[RowError]]:
    """A feed's lines as (line, product id, changed fields), and the lines that are not one."""
    rows, errors = [], []
    with Path(path).open(encoding="utf-8-sig") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(RowError(line_no, f"invalid JSON: {exc.msg}"))
                continue
            if not isinstance(raw, dict):
                errors.append(RowError(line_no, "a feed line must be a JSON object"))
                continue
            pid = raw.pop("id", None)
            if isinstance(pid, int) and not isinstance(pid, bool):
                pid = str(pid)
            if not isinstance(pid, str) or not pid.strip():
                errors.append(RowError(line_no, "id: missing"))
                continue
            fixed = sorted(VECTOR_FIELDS & set(raw))
            if fixed:
                errors.append(RowError(line_no, f"{', '.join(fixed)}: a feed cannot change it; "
                                                "run `python -m recommender ingest`"))
                continue
            rows.append((line_no, pid.strip(), raw))
    return rows, errors


def apply_feed(path: str | Path, store: VectorStore, chunk: int = 1000) -> UpdateReport:
    """Apply a feed of partial records (``id`` plus the changed fields, JSON Lines) to the
    products in ``store`` as payload updates: nothing is embedded, so a change that would alter
    a product's vectors (its title, brand, category, … — anything in the dense or keyword text)
    is refused for that line. Unknown ids and bad lines are reported by line and skipped; later
    lines for an id apply on top of earlier ones. A product's ``payload_hash`` becomes that of
    its updated record, so the next ``ingest`` of the catalog file sets the catalog's values
    again unless the file has them too."""
    started = time.perf_counter()
    rows, errors = read_feed(path)
    report = UpdateReport(errors=errors)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        stored = {hit.product_id: hit.payload for hit in store.get(sorted({pid for _, pid, _ in part}))}
        current: dict[str, tuple[Product, dict[str, Any]]] = {}
        changed: dict[str, Product] = {}
        for line_no, pid, fields in part:
            if pid not in stored:
                report.unknown.append(RowError(line_no, f"unknown product id {pid!r}"))
                continue
            if pid not in current:
                payload = stored[pid]
                own = {k: v for k, v in payload.items() if k not in DERIVED_KEYS}
                current[pid] = (Product.model_validate(own), payload)
            product, payload = current[pid]
            result = validate_record({**product.model_dump(exclude={"image_vector"}), **fields}, line_no)
            if isinstance(result, RowError):
                report.errors.append(result)
                continue
            if (embedding_text(result), keyword_text(result)) != (embedding_text(product), keyword_text(product)):
                report.errors.append(RowError(line_no, "changes the product's text (its vectors "
                                                       "come from it); run `python -m recommender ingest`"))
                continue
            current[pid] = (result, payload)
            changed[pid] = result
        updates = []
        for pid, product in changed.items():
            old = current[pid][1]
            if payload_hash(product) == old.get("payload_hash"):
                report.unchanged += 1
                continue
            updates.append((pid, product_payload(product, vectors_hash=str(old.get("content_hash", "")))))
        store.set_payloads(updates)
        report.updated += len(updates)
    store.persist()
    report.errors.sort(key=lambda e: e.line)
    report.seconds = time.perf_counter() - started
    return report
