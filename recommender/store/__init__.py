"""Vector stores behind one interface; ``open_store(settings)`` picks the configured backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.store.base import FilterSpec, Hit, StorePoint, VectorStore

if TYPE_CHECKING:
    from common.settings import Settings

__all__ = ["FilterSpec", "Hit", "StorePoint", "VectorStore", "open_store"]


def open_store(settings: Settings | None = None) -> VectorStore:
    """``edge`` (embedded, default), ``server`` (Qdrant URL) or ``memory`` (qdrant-client local)."""
    from common.settings import get_settings

    settings = settings or get_settings()
    backend = settings.store_backend.lower()
    if backend == "edge":
        from recommender.store.edge import EdgeStore

        return EdgeStore(settings.store_path)
    if backend in ("server", "memory"):
        from recommender.store.server import ServerStore

        if backend == "memory":
            return ServerStore.memory(settings.collection)
        return ServerStore.from_settings(settings)  # the process's one client of the server
    raise ValueError(f"unknown AISLE_STORE {settings.store_backend!r}: edge, server or memory")
