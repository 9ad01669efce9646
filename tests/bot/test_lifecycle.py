"""The gateway's resources are opened at startup and closed at cleanup (aiohttp cleanup contexts)."""

from __future__ import annotations

import asyncio
import time

from aiohttp import WSMsgType
from sqlalchemy import event

from bot import keys
from tests.bot.conftest import free_port, new_conversation


async def test_cleanup_disposes_the_store_and_closes_the_rasa_session(client):
    app = client.app
    store, rasa = app[keys.STORE], app[keys.RASA]
    service = app[keys.SERVICE]
    assert service.store is store and service.rasa is rasa and service.hub is app[keys.HUB]
    disposed: list[object] = []
    event.listen(store.engine, "engine_disposed", disposed.append)

    conv_id, headers = await new_conversation(client)
    resp = await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "hi"},
                             headers=headers)
    assert resp.status == 200
    assert not rasa.closed and not disposed  # open while the app runs
    assert store.engine.pool.checkedin() >= 1  # the request left a pooled connection

    await client.close()
    assert rasa.closed
    assert disposed == [store.engine]
    assert store.engine.pool.checkedin() == 0


async def test_cleanup_cancels_a_warm_up_still_waiting_for_rasa(make_client):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: the warm-up keeps retrying
    client = await make_client(warm_up=True, rasa_url=dead, actions_url=dead)
    task = client.app[keys.WARM_UP_TASK]
    await asyncio.sleep(0.05)
    assert not task.done()
    await asyncio.wait_for(client.close(), 5)  # without the cancel, cleanup waits for 120 retries
    assert task.cancelled()


async def test_no_warm_up_task_when_warm_up_is_off(client):
    assert keys.WARM_UP_TASK not in client.app


async def test_shutdown_closes_open_websockets_without_waiting_for_them(client):
    conv_id, headers = await new_conversation(client)
    ws = await client.ws_connect(f"/api/conversations/{conv_id}/ws", headers=headers)
    hub = client.app[keys.HUB]
    for _ in range(50):  # the handler registers the socket right after the handshake
        if hub.shoppers:
            break
        await asyncio.sleep(0.01)
    assert conv_id in hub.shoppers

    started = time.monotonic()
    stopping = asyncio.create_task(client.server.close())
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type == WSMsgType.CLOSE and msg.data == 1001  # "going away", from Hub.close_all
    await asyncio.wait_for(stopping, 5)  # aiohttp would wait 60 s for a handler still open
    assert time.monotonic() - started < 5
    assert not hub.shoppers
