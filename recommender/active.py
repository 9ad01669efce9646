"""Blue/green publishing of the encoder with its own vectors, and the pointer servers follow.

Publishing a model ingests the catalog with that encoder into a *new* store (Qdrant Edge: a folder
``var/stores/<model>-<hash>/``; Qdrant server: a collection ``<AISLE_COLLECTION>-<model>-<hash>``),
then atomically replaces the pointer ``var/active.json`` (model, store, time, the previous pair).
No store that anybody reads is ever written with another encoder.

Running processes (:class:`recommender.service.Recommender`, :class:`shop.faq.FaqIndex`)
stat the pointer at most once per second through a :class:`Follower`; when it changed, they load
the new encoder and open the new store in a background thread and swap both in at once. A pointer
that cannot be loaded is logged and the current pair keeps serving.

Without a pointer (nobody has published) everything uses ``AISLE_STORE_PATH`` /
``AISLE_COLLECTION`` and the newest model, as before. A pointer written for another store
backend than ``AISLE_STORE`` is ignored.

Retention: publishing keeps the new store, the one served until then (a running server may still
use it for a moment) and the rollback target (the previous model's store: a rollback reuses it and
ingests only catalog changes). Older published stores are deleted; an Edge folder that a process
still has open is skipped until a later publish.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.files import write_text_atomic
from common.settings import ROOT, Settings, get_settings

if TYPE_CHECKING:
    from recommender.encoder import Encoder
    from recommender.ingest import IngestReport, UpdateReport
    from recommender.store.base import VectorStore

log = logging.getLogger(__name__)

POINTER = "active.json"
STORES = "stores"
PUBLISHING = "publishing.json"  # the store a publish is writing, until it is complete


class PointerError(ValueError):
    """The pointer file cannot be read or names something unusable."""


@dataclass(frozen=True)
class Published:
    """One published pair: the encoder folder and the store its vectors are in."""

    model: Path
    backend: str  # "edge" or "server"
    store: str  # Edge folder, or collection name
    published_at: str
    fingerprint: str = ""  # encoder.model_fingerprint: a folder name can come back with other weights
    previous: Published | None = None

    def to_dict(self, settings: Settings) -> dict[str, Any]:
        store = self.store
        if self.backend == "edge":
            store = _relative(Path(store), settings.var_dir)
        data: dict[str, Any] = {"model": _relative(self.model, ROOT), "backend": self.backend,
                                "store": store, "published_at": self.published_at,
                                "fingerprint": self.fingerprint}
        if self.previous is not None:
            data["previous"] = replace(self.previous, previous=None).to_dict(settings)
        return data

    @classmethod
    def from_dict(cls, data: Any, settings: Settings) -> Published:
        if not isinstance(data, dict) or not all(
            isinstance(data.get(key), str) and data[key] for key in ("model", "backend", "store")
        ):
            raise PointerError("expected an object with 'model', 'backend' and 'store'")
        store = data["store"]
        if data["backend"] == "edge":
            store = str(_absolute(store, settings.var_dir))
        previous = data.get("previous")
        return cls(_absolute(data["model"], ROOT), data["backend"], store,
                   str(data.get("published_at", "")), str(data.get("fingerprint", "")),
                   cls.from_dict(previous, settings) if previous else None)

    def same_pair(self, other: Published | None) -> bool:
        return other is not None and (self.model, self.backend, self.store) == (
            other.model, other.backend, other.store)


def _relative(path: Path, base: Path) -> str:
    """Paths under ``base`` are written relative to it, so the project folder can move."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _absolute(text: str, base: Path) -> Path:
    path = Path(text)
    return path if path.is_absolute() else base / path


# ---- the pointer file ------------------------------------------------------------------------
def pointer_path(settings: Settings) -> Path:
    return settings.var_dir / POINTER


def read_pointer(settings: Settings | None = None) -> Published | None:
    """The published pair, or None when nothing was published; :class:`PointerError` if corrupt."""
    settings = settings or get_settings()
    path = pointer_path(settings)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PointerError(f"{path}: {exc}") from exc
    try:
        return Published.from_dict(json.loads(text), settings)
    except (ValueError, TypeError) as exc:
        raise PointerError(f"{path}: {exc}") from exc


def read_active(settings: Settings) -> Published | None:
    """The pointer if it is for the configured store backend (else None, with a warning)."""
    published = read_pointer(settings)
    if published is not None and published.backend != settings.store_backend.lower():
        log.warning("ignoring %s: it is for the %s store, AISLE_STORE is %s",
                    pointer_path(settings), published.backend, settings.store_backend)
        return None
    return published


def pointer_in_use(settings: Settings) -> bool:
    """Whether stores are published for this backend (an unreadable pointer counts: publishing
    replaces it)."""
    try:
        return read_active(settings) is not None
    except PointerError:
        return True


def write_pointer(published: Published, settings: Settings) -> Path:
    """Write the pointer atomically: a reader sees the old file or the new one, never a part."""
    return write_text_atomic(pointer_path(settings), json.dumps(published.to_dict(settings), indent=2) + "\n")


# ---- opening a published pair ---------------------------------------------------------------
def store_settings(settings: Settings, backend: str, store: str) -> Settings:
    """``settings`` pointing at one published store."""
    if backend == "edge":
        return settings.model_copy(update={"store_backend": "edge", "store_path": Path(store)})
    return settings.model_copy(update={"store_backend": backend, "collection": store})


def load_encoder(model: Path, settings: Settings) -> Encoder:
    """The shared encoder of the published ``model`` (see :func:`shared_encoder`)."""
    from recommender.encoder import shared_encoder

    if not model.is_dir():
        raise FileNotFoundError(f"encoder folder {model} is missing")
    return shared_encoder(model, settings)


def embedded_by(store: VectorStore) -> str | None:
    """The model id the store's vectors come from (ingest records it in ``content_hash``)."""
    for payload in store.payloads(["content_hash"]):
        _, _, model_id = str(payload.get("content_hash", "")).partition("@")
        return model_id.split("+", 1)[0]
    return None


def open_pair(published: Published, settings: Settings) -> tuple[Encoder, VectorStore]:
    """Load the encoder and open the store of ``published``; refuse a store whose vectors were
    written by another encoder."""
    from recommender.store import open_store

    if published.backend == "edge" and not Path(published.store, "shard").is_dir():
        raise FileNotFoundError(f"published store {published.store} is missing")
    encoder = load_encoder(published.model, settings)
    store = open_store(store_settings(settings, published.backend, published.store))
    model_id = embedded_by(store)
    if model_id not in (None, encoder.model_id):
        store.close()
        raise PointerError(f"store {published.store} holds vectors of {model_id}, "
                           f"not of {encoder.model_id}")
    return encoder, store


# ---- publishing ------------------------------------------------------------------------------
def _new_store_name(model: Path, settings: Settings) -> str:
    token = hashlib.sha256(f"{model}:{time.time_ns()}:{os.getpid()}".encode()).hexdigest()[:8]
    name = f"{model.name}-{token}"
    if settings.store_backend.lower() == "edge":
        return str(settings.var_dir / STORES / name)
    return f"{settings.collection}-{name}"


def _unfinished(settings: Settings) -> Published | None:
    """The store an interrupted publish was writing (see :func:`publish`), if it still exists."""
    try:
        marker = Published.from_dict(json.loads((settings.var_dir / PUBLISHING).read_text()), settings)
    except (OSError, ValueError, TypeError):
        return None
    if marker.backend == "edge" and not Path(marker.store, "shard").is_dir():
        return None
    return marker


def copy_edge_store(source: Path, target: Path) -> None:
    """A copy of a Qdrant Edge store folder (shard and keyword statistics) that may be open in a
    serving process, which only reads it; the copy is written next to ``target`` and renamed, so
    a folder named ``target`` is always complete."""
    tmp = target.with_name(target.name + ".copying")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    tmp.rename(target)


def _open_for_publish(model: Path, fingerprint: str, current: Published | None,
                      settings: Settings) -> tuple[str, VectorStore]:
    """Where to publish ``model``: the store an interrupted publish of it left, else the
    rollback target when it is this very model, else (Qdrant Edge) a copy of the served store
    when that is this model too, so only catalog changes are embedded; else a new store."""
    from recommender.store import open_store

    backend = settings.store_backend.lower()
    candidates = [p for p in (_unfinished(settings), current.previous if current else None)
                  if p is not None and (p.model, p.fingerprint, p.backend) == (model, fingerprint, backend)
                  and not (current and p.store == current.store)]
    for candidate in candidates:
        try:
            return candidate.store, open_store(store_settings(settings, backend, candidate.store))
        except Exception as exc:  # noqa: BLE001 - e.g. still open in a server that lags behind
            log.warning("not reusing %s (%s): publishing into a new store", candidate.store, exc)
    location = _new_store_name(model, settings)
    if (backend == "edge" and current is not None
            and (current.model, current.fingerprint, current.backend) == (model, fingerprint, "edge")
            and Path(current.store, "shard").is_dir()):
        copy_edge_store(Path(current.store), Path(location))
    return location, open_store(store_settings(settings, backend, location))


def publish(model: Path, settings: Settings | None = None, catalog: Path | None = None,
            **options: Any) -> tuple[Published, IngestReport]:
    """Ingest ``catalog`` (default: AISLE_CATALOG) with ``model`` into a store nobody serves,
    then point the pointer at it (``options`` go to :func:`recommender.ingest.ingest`).

    The store (see :func:`_open_for_publish`) is recorded in ``var/publishing.json`` before the
    ingest starts: a publish that is interrupted (even killed) continues in that store the next
    time the same model is published, and the pointer moves only once the ingest is complete.
    """
    from recommender.encoder import model_fingerprint
    from recommender.image import get_image_encoder
    from recommender.ingest import ingest

    settings = settings or get_settings()
    backend = settings.store_backend.lower()
    if backend not in ("edge", "server"):
        raise ValueError(f"cannot publish into the {backend!r} store: it lives in one process")
    model, catalog = Path(model).resolve(), Path(catalog or settings.catalog_path)
    if not catalog.is_file():
        raise FileNotFoundError(f"catalog {catalog} not found")
    try:
        current = read_active(settings)
    except PointerError as exc:
        log.warning("replacing an unreadable pointer: %s", exc)
        current = None
    encoder = load_encoder(model, settings)
    fingerprint = model_fingerprint(model)

    location, store = _open_for_publish(model, fingerprint, current, settings)
    marker = Published(model, backend, location, datetime.now(UTC).isoformat(timespec="seconds"),
                       fingerprint)
    write_text_atomic(settings.var_dir / PUBLISHING, json.dumps(marker.to_dict(settings), indent=2) + "\n")
    try:
        report = ingest(catalog, store, encoder, image_encoder=get_image_encoder(settings),
                        image_dir=settings.image_dir or None, **options)
    finally:
        store.close()

    # the rollback target: the pair served until now, unless that is this model again
    rollback = current.previous if current and current.model == model else current
    published = _switch_to(replace(marker, previous=replace(rollback, previous=None) if rollback else None),
                           current, rollback, settings)
    log.info("published %s with store %s (%s)", model, location, report.summary())
    return published, report


def _switch_to(published: Published, current: Published | None, rollback: Published | None,
               settings: Settings) -> Published:
    """Write the pointer, forget the finished publish and delete stores nobody needs now."""
    published = replace(published, published_at=datetime.now(UTC).isoformat(timespec="seconds"))
    write_pointer(published, settings)
    (settings.var_dir / PUBLISHING).unlink(missing_ok=True)
    keep = {published.store} | {p.store for p in (current, rollback) if p is not None}
    try:
        prune(settings, keep)
    except Exception:  # published all the same; old stores are deleted next time
        log.exception("could not delete old published stores")
    return published


def update_served(feed: Path, settings: Settings | None = None) -> tuple[UpdateReport, Published | None]:
    """Apply a price or stock feed (:func:`recommender.ingest.apply_feed`) to the products being
    served, without re-embedding and without a moment in which nothing answers.

    Qdrant server: in place, in the served collection (the server answers throughout; each
    product's update is atomic). Qdrant Edge: a store open in a serving process cannot be
    written by another, and a served store is never written in place: the served store is
    copied, the feed applied to the copy and the pointer switched to it (the same model, so a
    running process swaps the store only) — a first pointer, when none existed. An Edge store
    nobody has open is updated in place. Returns the report and the new pair, if one was
    published.
    """
    from recommender.encoder import model_fingerprint, resolve_model_path
    from recommender.ingest import apply_feed
    from recommender.store import open_store
    from recommender.store.base import StoreInUse

    settings = settings or get_settings()
    backend = settings.store_backend.lower()
    feed = Path(feed)
    if not feed.is_file():
        raise FileNotFoundError(f"feed {feed} not found")
    current = read_active(settings)
    if backend != "edge" or current is None:
        target = store_settings(settings, backend, current.store) if current else settings
        try:
            store = open_store(target)
        except StoreInUse:  # the unpublished store, served by a running process
            store = None
        if store is not None:
            with store:
                if store.count() == 0:
                    raise ValueError("the store is empty; run `python -m recommender ingest CATALOG` first")
                return apply_feed(feed, store), None
    if current is not None:
        source, model, fingerprint, rollback = Path(current.store), current.model, current.fingerprint, current.previous
    else:
        source, model, rollback = settings.store_path, resolve_model_path(settings).resolve(), None
        fingerprint = model_fingerprint(model)
    location = _new_store_name(model, settings)
    copy_edge_store(source, Path(location))
    try:
        with open_store(store_settings(settings, "edge", location)) as store:
            if current is None and embedded_by(store) not in (None, model.name):
                raise ValueError(f"the store's vectors come from {embedded_by(store)}, the configured "
                                 f"model is {model.name}: run `python -m recommender ingest`")
            report = apply_feed(feed, store)
    except BaseException:
        shutil.rmtree(location, ignore_errors=True)
        raise
    if report.updated == 0:  # nothing changed: keep serving what is served
        shutil.rmtree(location, ignore_errors=True)
        return report, None
    published = Published(model, "edge", location, "", fingerprint,
                          replace(rollback, previous=None) if rollback else None)
    return report, _switch_to(published, current, rollback, settings)


def prune(settings: Settings, keep: set[str]) -> list[str]:
    """Delete published stores other than ``keep`` (see Retention in the module docstring)."""
    removed = []
    if settings.store_backend.lower() == "edge":
        folder = settings.var_dir / STORES
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if str(path) in keep or not path.is_dir():
                continue
            if _edge_in_use(path):
                log.info("keeping %s: a process still has it open", path)
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    else:
        from qdrant_client import QdrantClient

        ours = re.compile(rf"^{re.escape(settings.collection)}-.+-[0-9a-f]{{8}}$")
        client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key)
        try:
            for collection in client.get_collections().collections:
                if ours.match(collection.name) and collection.name not in keep:
                    client.delete_collection(collection.name)
                    removed.append(collection.name)
        finally:
            client.close()
    return removed


def _edge_in_use(path: Path) -> bool:
    """Qdrant Edge locks a shard's WAL while a process has it open."""
    if not (path / "shard" / "edge_config.json").exists():
        return False  # a half-written folder from a failed publish
    import qdrant_edge as qe

    try:
        qe.EdgeShard.load(str(path / "shard")).close()
    except Exception as exc:  # noqa: BLE001 - the binding raises a plain Exception
        return "WouldBlock" in str(exc)
    return False


# ---- following the pointer in a running process ----------------------------------------------
def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size  # os.replace gives a new inode


def follow(settings: Settings, interval: float = 1.0) -> tuple[Follower, Published | None]:
    """A follower of the pointer and the pair published now. The follower notes the pointer
    before it is read, so a publish in between is not missed."""
    follower = Follower(settings, interval)
    return follower, read_active(settings)


class Follower:
    """Calls ``switch(published)`` when the pointer changes.

    :meth:`poll` is cheap enough for every request: at most one ``stat`` per ``interval``
    seconds. On a change it starts one background thread that reads the pointer and calls
    ``switch``, which loads the new objects and swaps them in; an error is logged, the old
    objects keep serving, and the next change of the pointer is tried again.
    """

    def __init__(self, settings: Settings, interval: float = 1.0,
                 switch: Callable[[Published], None] | None = None) -> None:
        self.switch = switch
        self.settings = settings
        self.path = pointer_path(settings)
        self.interval = interval
        self._seen = _signature(self.path)  # taken before the caller loads: no change is missed
        self._next_check = time.monotonic() + interval
        self._busy = threading.Lock()  # held while a switch runs (released by its thread)

    def poll(self) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + self.interval
        signature = _signature(self.path)
        if signature is None or signature == self._seen or not self._busy.acquire(blocking=False):
            return
        threading.Thread(target=self._run, args=(signature,), daemon=True,
                         name="aisle-follow-pointer").start()

    def join(self) -> None:
        """Wait until no switch is running (tests, shutdown)."""
        with self._busy:
            pass

    def _run(self, signature: tuple[int, int, int]) -> None:
        try:
            published = read_active(self.settings)
            if published is None:
                log.warning("%s names no usable store; keeping the current encoder and store",
                            self.path)
            elif self.switch is not None:
                self.switch(published)
        except Exception:
            log.exception("could not switch to the pair in %s; keeping the current encoder "
                          "and store", self.path)
        finally:
            self._seen = signature  # retried when the pointer changes again
            self._busy.release()
