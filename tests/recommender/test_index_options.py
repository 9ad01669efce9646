"""Dense-index options of a new store (AISLE_HNSW_M, AISLE_HNSW_EF_CONSTRUCT, AISLE_QUANTIZATION):
recorded in the store it creates, kept by a store that exists, and searched as any other."""

from __future__ import annotations

import json

import pytest

from common.settings import Settings
from recommender.ingest import ingest
from recommender.store.base import IndexOptions
from recommender.store.edge import EdgeStore
from tests.recommender.conftest import CATALOG


def _edge_config(path) -> dict:
    return json.loads((path / "shard/edge_config.json").read_text())


def test_the_settings_name_the_options_and_default_to_qdrants():
    assert IndexOptions.of(Settings()) == IndexOptions(16, 100, "none")
    custom = Settings(hnsw_m=8, hnsw_ef_construct=64, quantization="int8")
    assert IndexOptions.of(custom) == IndexOptions(8, 64, "int8")
    with pytest.raises(ValueError):
        Settings(quantization="binary")


def test_an_edge_store_is_built_with_its_options_and_keeps_them(tmp_path, encoder):
    path = tmp_path / "store"
    with EdgeStore(path, index=IndexOptions(8, 64, "int8")) as store:
        ingest(CATALOG, store, encoder)
        hits = store.search(encoder.encode_query("waterproof hiking boots"), None, None, 5)
        assert len(hits) == 5
    config = _edge_config(path)
    assert (config["hnsw_config"]["m"], config["hnsw_config"]["ef_construct"]) == (8, 64)
    assert "int8" in json.dumps(config["quantization_config"]).lower()
    with EdgeStore(path, index=IndexOptions()) as reopened:  # an existing store keeps its own
        assert reopened.count() == 32
    assert _edge_config(path)["hnsw_config"]["m"] == 8


def test_without_quantization_none_is_recorded(tmp_path):
    path = tmp_path / "plain"
    EdgeStore(path, index=IndexOptions()).close()
    config = _edge_config(path)
    assert config["hnsw_config"]["m"] == 16 and not config.get("quantization_config")
