"""`make cluster` for real (tools/cluster.py): HAProxy in front of two gateways and of two action
servers, two Rasa servers on one PostgreSQL tracker store and one Redis lock store, all under
supervisord, on this machine's PostgreSQL and Redis. Checks what replicas must give: a shopper on
gateway A gets the reply of an agent on gateway B; a rate limit holds across both gateways; a
kill -9 of one replica of each kind loses no acknowledged message."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from tools.cluster import Cluster, plan, prepare_databases, supervisord, wait_ready, write_configs

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
AGENT, PASSWORD = "cluster-agent", "correct horse battery"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_url: str, redis_url: str) -> Iterator[Cluster]:
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("haproxy is not installed (`make setup` installs Debian's package)")
    redis = make_url(redis_url)
    spare_db = int(redis.database or 0) + 2  # events and limits apart from other tests' keys
    cluster = plan(tmp_path_factory.mktemp("cluster"), postgres_url=postgres_url,
                   redis_url=str(redis.set(database=str(spare_db))), suffix="_test",
                   AISLE_RATE_LOGIN="6")
    prepare_databases(cluster, fresh=True)
    from bot.store import GatewayStore

    store = GatewayStore(cluster.databases["gateway"])
    store.create_agent(AGENT, PASSWORD, display_name="Robin")
    store.dispose()
    write_configs(cluster)
    process = supervisord(cluster)
    try:
        wait_ready(cluster)
        yield cluster
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


async def _conversation(session: aiohttp.ClientSession, url: str) -> tuple[str, dict[str, str], str]:
    async with session.post(f"{url}/api/conversations") as response:
        body = await response.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}, body["token"]


def in_thread(coroutine) -> None:
    """Run ``coroutine`` on an event loop of its own thread: the browser tests' sync Playwright
    keeps a loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _receive_until(ws, predicate, seconds: float = 20):
    async with asyncio.timeout(seconds):
        while True:
            message = await ws.receive_json()
            if predicate(message):
                return message


async def _agent_session(url: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                    headers={"Origin": url})
    async with session.post(f"{url}/api/desk/login",
                            json={"name": AGENT, "password": PASSWORD}) as response:
        assert response.status == 200, await response.text()
    return session


def test_a_shopper_on_gateway_a_gets_the_reply_of_an_agent_on_gateway_b(cluster: Cluster) -> None:
    in_thread(a_shopper_on_gateway_a_gets_the_reply_of_an_agent_on_gateway_b(cluster))


async def a_shopper_on_gateway_a_gets_the_reply_of_an_agent_on_gateway_b(cluster: Cluster) -> None:
    a, b = cluster.gateway_urls
    async with aiohttp.ClientSession() as shopper:
        conv_id, headers, token = await _conversation(shopper, a)
        base = f"{a}/api/conversations/{conv_id}"
        ws = await shopper.ws_connect(f"{base}/ws?token={token}")
        agent = await _agent_session(b)
        try:
            desk = await agent.ws_connect(f"{b}/api/desk/ws")
            await _receive_until(desk, lambda m: m["type"] == "queue")
            async with shopper.post(f"{base}/messages", json={"text": "I want to talk to a human"},
                                    headers=headers) as response:
                replies = (await response.json())["messages"]
            assert any(m["type"] == "handoff" for m in replies), replies
            notice = await _receive_until(desk, lambda m: m["type"] == "queue" and m.get("notify"))
            assert notice["notify"] == conv_id
            async with agent.post(f"{b}/api/desk/conversations/{conv_id}/claim") as response:
                assert response.status == 200
            async with agent.post(f"{b}/api/desk/conversations/{conv_id}/reply",
                                  json={"text": "Hi, Robin here from gateway B."}) as response:
                assert response.status == 201
            pushed = await _receive_until(ws, lambda m: m.get("sender") == "agent")
            assert pushed["text"] == "Hi, Robin here from gateway B." and pushed["agent"] == "Robin"
            # no sticky sessions: the agent's session (in SQL) also works on gateway A
            async with agent.get(f"{a}/api/desk/me", headers={"Origin": a}) as response:
                assert response.status == 200
            async with agent.post(f"{a}/api/desk/conversations/{conv_id}/handback",
                                  headers={"Origin": a}) as response:
                assert response.status == 200
            await desk.close()
        finally:
            await agent.close()
        await ws.close()


def test_a_rate_limit_holds_across_the_gateways(cluster: Cluster) -> None:
    in_thread(a_rate_limit_holds_across_the_gateways(cluster))


async def a_rate_limit_holds_across_the_gateways(cluster: Cluster) -> None:
    """Desk logins are limited to 6 per address per minute (AISLE_RATE_LOGIN, set for the
    cluster); alternating between the two gateways must not give 12."""
    async def attempts() -> list[int]:
        statuses = []
        async with aiohttp.ClientSession() as session:
            for i in range(10):
                url = cluster.gateway_urls[i % 2]
                async with session.post(f"{url}/api/desk/login", headers={"Origin": url},
                                        json={"name": "nobody", "password": "wrong"}) as response:
                    statuses.append(response.status)
        return statuses

    statuses = await attempts()
    # counted per gateway all 10 would pass (5 each); counted together at most 6 do (fewer when
    # an earlier test logged in within the window), then every attempt is refused
    assert 429 in statuses, statuses
    first = statuses.index(429)
    assert first <= 6 and set(statuses[:first]) == {401} and set(statuses[first:]) == {429}, statuses


def test_kill_9_of_one_replica_of_each_kind_loses_no_acknowledged_message(cluster: Cluster) -> None:
    in_thread(kill_9_of_one_replica_of_each_kind_loses_no_acknowledged_message(cluster))


async def kill_9_of_one_replica_of_each_kind_loses_no_acknowledged_message(cluster: Cluster) -> None:
    """Three shoppers chat through the load balancer while one gateway, one Rasa and one action
    server are killed with SIGKILL. A message the gateway acknowledged (200) is in the
    conversation's history afterwards; a refused one is retried, as the widget does."""
    acknowledged: dict[str, list[str]] = {}
    tokens: dict[str, dict[str, str]] = {}
    stop = asyncio.Event()

    async def shopper(n: int) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            conv_id, headers, _ = await _conversation(session, cluster.url)
            acknowledged[conv_id], tokens[conv_id] = [], headers
            i = 0
            while not stop.is_set():
                text = f"shopper {n} message {i}: show me running shoes"
                try:
                    async with session.post(f"{cluster.url}/api/conversations/{conv_id}/messages",
                                            json={"text": text}, headers=headers) as response:
                        if response.status == 200:
                            acknowledged[conv_id].append(text)
                            i += 1
                except (aiohttp.ClientError, TimeoutError):
                    pass  # not acknowledged: sent again
                await asyncio.sleep(0.3)

    killed: dict[str, int] = {}

    async def killer() -> None:
        await asyncio.sleep(3)
        for program in ("gateway-1", "rasa-1", "actions-1"):
            killed[program] = cluster.pid(program)
            assert killed[program] > 0, cluster.ctl("status")
            os.kill(killed[program], signal.SIGKILL)
            await asyncio.sleep(4)
        stop.set()

    async def run() -> None:
        await asyncio.gather(killer(), *(shopper(n) for n in range(3)))

    await run()
    await asyncio.to_thread(wait_ready, cluster, 300)  # supervisord started the killed ones again
    assert all(0 < cluster.pid(program) != pid for program, pid in killed.items()), cluster.ctl("status")

    async def histories() -> dict[str, list[str]]:
        found = {}
        async with aiohttp.ClientSession() as session:
            for conv_id, headers in tokens.items():
                async with session.get(f"{cluster.url}/api/conversations/{conv_id}/history",
                                       headers=headers) as response:
                    messages = (await response.json())["messages"]
                found[conv_id] = [m["text"] for m in messages if m.get("sender") == "shopper"]
        return found

    found = await histories()
    assert sum(map(len, acknowledged.values())) >= 15, acknowledged  # the shoppers did chat
    for conv_id, texts in acknowledged.items():
        assert set(texts) <= set(found[conv_id]), (conv_id, set(texts) - set(found[conv_id]))
