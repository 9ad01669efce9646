"""The gateway warms the assistant up with one search turn as soon as Rasa answers."""

from __future__ import annotations

import asyncio

from bot.warmup import WARM_UP_TEXT, warm_up
from tests.bot.rasa_stub import RasaStub


async def test_warm_up_sends_one_search_turn(rasa: tuple[RasaStub, str]) -> None:
    stub, url = rasa
    assert await warm_up(url) is True
    assert [text for _, text in stub.received] == [WARM_UP_TEXT]
    assert stub.received[0][0].startswith("aisle-warm-up-")


async def test_warm_up_gives_up_when_rasa_is_dead() -> None:
    assert await warm_up("http://127.0.0.1:9", attempts=2, pause=0.01) is False


async def test_gateway_start_triggers_warm_up(make_client, rasa: tuple[RasaStub, str]) -> None:
    stub, _ = rasa
    await make_client(warm_up=True)
    for _ in range(100):
        if stub.received:
            break
        await asyncio.sleep(0.02)
    assert [text for _, text in stub.received] == [WARM_UP_TEXT]


async def test_health_reports_the_warm_up(make_client, rasa: tuple[RasaStub, str]) -> None:
    client = await make_client(warm_up=True)
    for _ in range(100):
        body = await (await client.get("/health")).json()
        if body["warmed_up"]:
            break
        await asyncio.sleep(0.02)
    assert body["warmed_up"] is True
    cold = await make_client()
    assert (await (await cold.get("/health")).json())["warmed_up"] is None
