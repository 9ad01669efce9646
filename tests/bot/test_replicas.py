"""Two gateway replicas on one SQL store and one Redis (AISLE_REDIS_URL): a shopper connected to
one gets what an agent does on the other, the desks of both see the queue change, and rate limits
count the hits of both (with the Redis of AISLE_TEST_REDIS_URL, which .ci/run sets); without
Redis each counts its own, and a dead Redis degrades to the replica's own sockets."""

from __future__ import annotations

import asyncio

import pytest

from bot import keys
from tests.bot.conftest import free_port, new_conversation
from tests.bot.test_handoff import _agent, _receive_until


@pytest.fixture
async def replicas(make_client, redis_url):
    """Gateways A and B: same database (the settings' SQLite file), same Redis."""
    a = await make_client(redis_url=redis_url)
    b = await make_client(redis_url=redis_url)
    return a, b


@pytest.mark.redis
async def test_agent_on_one_replica_reaches_shopper_on_the_other(replicas):
    a, b = replicas
    conv_id, headers = await new_conversation(a)
    token = headers["Authorization"].split()[1]
    base = f"/api/conversations/{conv_id}"
    shopper_ws = await a.ws_connect(f"{base}/ws?token={token}")

    await _agent(b)
    desk = await b.ws_connect("/api/desk/ws")
    assert (await desk.receive_json())["type"] == "queue"

    # the handoff happens on A; the desk on B hears of it
    await a.post(f"{base}/messages", json={"text": "I want a human"}, headers=headers)
    notice = await _receive_until(desk, lambda m: m["type"] == "queue" and m.get("notify"))
    assert [c["conversation_id"] for c in notice["waiting"]] == [conv_id]
    assert (await (await a.get("/health")).json())["events"]["ok"] is True

    assert (await b.post(f"/api/desk/conversations/{conv_id}/claim")).status == 200
    status = await _receive_until(shopper_ws, lambda m: m["type"] == "handoff")
    assert status["status"] == "agent"

    # the shopper writes on A: the holder's desk on B gets it
    await a.post(f"{base}/messages", json={"text": "my parcel is late"}, headers=headers)
    forwarded = await _receive_until(desk, lambda m: m["type"] == "message")
    assert forwarded["message"]["text"] == "my parcel is late"

    # the agent replies on B: the shopper's socket on A gets it, once
    assert (await b.post(f"/api/desk/conversations/{conv_id}/reply",
                         json={"text": "Checking it now."})).status == 201
    pushed = await _receive_until(shopper_ws, lambda m: m.get("sender") == "agent")
    assert pushed["text"] == "Checking it now."
    with pytest.raises(asyncio.TimeoutError):
        await _receive_until_timeout(shopper_ws, lambda m: m.get("sender") == "agent", 0.5)
    await shopper_ws.close()
    await desk.close()


async def _receive_until_timeout(ws, predicate, seconds):
    async with asyncio.timeout(seconds):
        while True:
            msg = await ws.receive_json()
            if predicate(msg):
                return msg


async def _alternate(make_client, **settings) -> list[int]:
    """Four messages of one conversation, alternating between two replicas limited to 3."""
    a = await make_client(rate_conversation=3, **settings)
    b = await make_client(rate_conversation=3, **settings)
    conv_id, headers = await new_conversation(a)
    url = f"/api/conversations/{conv_id}/messages"
    return [(await client.post(url, json={"text": "hi"}, headers=headers)).status
            for client in (a, b, a, b)]


@pytest.mark.redis
async def test_rate_limits_count_the_hits_of_every_replica(make_client, redis_url):
    assert await _alternate(make_client, redis_url=redis_url) == [200, 200, 200, 429]


async def test_each_replica_alone_counts_only_its_own_hits(make_client):
    """The embedded default (no Redis): the same four messages pass, two on each replica."""
    assert await _alternate(make_client) == [200, 200, 200, 200]


async def test_redis_down_degrades_to_this_replica(make_client):
    """A Redis that refuses connections: the chat goes on, events reach this replica's sockets,
    rate limits let requests through."""
    client = await make_client(redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_conversation=2)
    conv_id, headers = await new_conversation(client)
    token = headers["Authorization"].split()[1]
    base = f"/api/conversations/{conv_id}"
    shopper_ws = await client.ws_connect(f"{base}/ws?token={token}")
    statuses = [(await client.post(f"{base}/messages", json={"text": "hi"}, headers=headers)).status
                for _ in range(3)]
    assert statuses == [200, 200, 200]  # unchecked rather than refused
    await client.post(f"{base}/messages", json={"text": "I want a human"}, headers=headers)
    await _agent(client)
    assert (await client.post(f"/api/desk/conversations/{conv_id}/claim")).status == 200
    assert (await client.post(f"/api/desk/conversations/{conv_id}/reply",
                              json={"text": "Here."})).status == 201
    pushed = await _receive_until(shopper_ws, lambda m: m.get("sender") == "agent")
    assert pushed["text"] == "Here."
    assert client.app[keys.HUB].connected_agents() == []
    health = await (await client.get("/health")).json()
    assert health["status"] == "degraded" and health["events"]["ok"] is False
    await shopper_ws.close()


async def test_turns_go_round_robin_over_rasa_replicas_and_skip_a_dead_one(
        make_client, aiohttp_server):
    from tests.bot.rasa_stub import RasaStub

    stubs = [RasaStub(), RasaStub()]
    urls = [str((await aiohttp_server(stub.app())).make_url("")).rstrip("/") for stub in stubs]
    dead = f"http://127.0.0.1:{free_port()}"
    client = await make_client(rasa_url=",".join([urls[0], dead, urls[1]]),
                               rasa_token=stubs[0].token)
    conv_id, headers = await new_conversation(client)
    for _ in range(6):
        resp = await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "hello"},
                                 headers=headers)
        assert resp.status == 200
        assert not any(m.get("fallback") for m in (await resp.json())["messages"])
    assert [len(stub.received) for stub in stubs] == [3, 3]  # the dead one cost no turn
    health = await (await client.get("/health")).json()
    assert health["rasa"]["ok"] and not health["rasa"]["replicas"][dead]["ok"]
