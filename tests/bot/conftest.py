"""Gateway test fixtures: a stub Rasa on a real port, a small catalog, the app on a tmp SQLite DB."""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from common.settings import Settings, get_settings
from tests.bot.rasa_stub import RasaStub

CATALOG = [
    {"id": "P00001", "title": "Trail Runner 2", "brand": "Stride", "price": 89.0,
     "category": ["Footwear", "Sneakers", "Running Shoes"], "colors": ["black", "green"],
     "sizes": ["8", "9", "10"], "gender": "women"},
    {"id": "P00002", "title": "Road Glide", "brand": "Stride", "price": 65.5,
     "category": ["shoes", "running shoes"]},
    {"id": "P00003", "title": "Wool <Beanie>", "brand": "Knit&Co", "price": 19.0,
     "category": ["accessories", "hats"]},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    path = tmp_path / "products.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in CATALOG) + "\n", encoding="utf-8")
    return path


@pytest.fixture
async def rasa(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> tuple[RasaStub, str]:
    stub = RasaStub()
    server = await aiohttp_server(stub.app())
    return stub, str(server.make_url("")).rstrip("/")


@pytest.fixture
def settings(tmp_path: Path, catalog_path: Path, rasa: tuple[RasaStub, str]) -> Settings:
    stub, url = rasa
    return get_settings(
        rasa_url=url, rasa_token=stub.token, actions_url=url, rasa_timeout=1.0,
        gateway_db_url=f"sqlite:///{tmp_path / 'gateway.db'}", catalog_path=catalog_path,
        cors_origins=("https://shop.example",), max_message_chars=200,
        rate_conversation=1000, rate_client=10_000, rate_login=1000, warm_up=False,
    )


MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client: Callable[..., Awaitable[TestClient]],
                settings: Settings) -> MakeClient:
    async def make(**overrides: Any) -> TestClient:
        return await aiohttp_client(create_app(settings.model_copy(update=overrides)))
    return make


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient:
    return await make_client()


async def new_conversation(client: TestClient) -> tuple[str, dict[str, str]]:
    resp = await client.post("/api/conversations")
    assert resp.status == 201
    data = await resp.json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def history(client: TestClient, conv_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/conversations/{conv_id}/history", headers=headers)
    assert resp.status == 200
    return (await resp.json())["messages"]
