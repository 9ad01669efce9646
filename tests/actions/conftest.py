"""Real services for the action tests: the base encoder, an embedded Qdrant Edge store over a
12-product catalog (known answers), the project's FAQ and a SQLite shop seeded from data/shop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import Services, set_services
from common.settings import ROOT

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def encoder() -> Any:
    from recommender.encoder import get_encoder

    return get_encoder()


@pytest.fixture(scope="session")
def recommender(encoder: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from recommender.ingest import ingest
    from recommender.service import Recommender
    from recommender.store.edge import EdgeStore

    store = EdgeStore(tmp_path_factory.mktemp("store"))
    ingest(FIXTURES / "catalog.jsonl", store, encoder)
    return Recommender(store, encoder)


@pytest.fixture(scope="session")
def faq(encoder: Any) -> Any:
    from shop.faq import FaqIndex

    return FaqIndex.from_file(ROOT / "data/faq/faq.yml", encoder)


@pytest.fixture
def shop(tmp_path: Path) -> Any:
    from shop.sql.service import ShopData

    data = ShopData(f"sqlite:///{tmp_path / 'shop.db'}")
    data.create_schema()
    data.seed(ROOT / "data/shop")
    return data


@pytest.fixture
def services(shop: Any, recommender: Any, faq: Any) -> Iterator[Services]:
    installed = Services(shop=shop, recommender=recommender, faq=faq)
    set_services(installed)
    yield installed
    set_services(None)


@pytest.fixture
def domain() -> dict[str, Any]:
    import yaml

    return yaml.safe_load((ROOT / "domain.yml").read_text())


def load_tracker(name: str, **slots: Any) -> Tracker:
    """A Tracker from ``fixtures/<name>.json``; keyword arguments override slots."""
    state = json.loads((FIXTURES / f"{name}.json").read_text())
    state["slots"] = {**state.get("slots", {}), **slots}
    return Tracker.from_dict(state)


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def payloads(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The final value of every slot the events set."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
