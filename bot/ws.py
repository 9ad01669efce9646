"""Websocket fan-out: shopper sockets per conversation, desk sockets per agent, and which
conversation each desk socket has open (it keeps getting that conversation's messages, also
after a hand-back).

A socket lives in the gateway process it connected to. With several gateway replicas
(AISLE_REDIS_URL set) every event goes through one Redis pub/sub channel and each replica
delivers it to the sockets it holds, so an agent's reply sent through one replica reaches a
shopper connected to another. Without Redis the events are delivered in this process. Events are
only notifications: every message is in the SQL store before it is published, and a client that
missed one (Redis down, a replica killed) gets it from the history it reloads on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
CHANNEL = "aisle:events:{db}"  # pub/sub ignores Redis's database numbers; the channel names it
RECONNECT_S = 1.0  # wait between two attempts to resubscribe after Redis went away

QueueListener = Callable[[str | None], Awaitable[None]]


class Hub:
    def __init__(self, redis_url: str = "") -> None:
        self.shoppers: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.desks: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.watching: dict[web.WebSocketResponse, str] = {}  # desk socket → open conversation
        self.redis_url = redis_url
        self._redis: Any = None
        self.channel = ""
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        # set by the conversation service: sends the queue to this replica's agents
        self.on_queue: QueueListener | None = None

    # lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """With Redis: connect and subscribe (waits up to 5 s for the first subscription)."""
        if not self.redis_url:
            return
        import redis.asyncio as redis

        self._redis = redis.from_url(self.redis_url, socket_connect_timeout=2,
                                     health_check_interval=10)
        self.channel = CHANNEL.format(db=self._redis.connection_pool.connection_kwargs.get("db", 0))
        self._listener = asyncio.create_task(self._listen(), name="aisle-hub-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 5)

    @property
    def channel_up(self) -> bool | None:
        """Whether the Redis event channel is subscribed; None without Redis."""
        return self._subscribed.is_set() if self.redis_url else None

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait([self._listener])
        if self._redis is not None:
            await self._redis.aclose()
        await self.close_all()

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            await self._deliver_safely(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: deliver locally until it is back
                self._subscribed.clear()
                log.warning("event channel lost (%s: %s); resubscribing", type(exc).__name__, exc)
                await asyncio.sleep(RECONNECT_S)

    async def _deliver_safely(self, raw: bytes | str) -> None:
        try:
            await self.deliver(json.loads(raw))
        except Exception:  # one bad event must not end the listener
            log.exception("could not deliver event %r", raw[:200])

    # events ---------------------------------------------------------------------------------
    async def emit(self, event: dict[str, Any]) -> None:
        """To every replica's sockets (Redis), or to this process's when there is no channel."""
        if self._redis is not None and self._subscribed.is_set():
            try:
                await self._redis.publish(self.channel, json.dumps(event))
                return
            except Exception as exc:  # degrade to this replica's sockets
                log.warning("event not published (%s: %s); delivered here only",
                            type(exc).__name__, exc)
        await self.deliver(event)

    async def deliver(self, event: dict[str, Any]) -> None:
        """An event to the sockets of this process."""
        kind, payload = event.get("to"), event.get("payload")
        if kind == "shopper" and event["conversation"] in self.shoppers:
            await self._send(self.shoppers[event["conversation"]], payload)
        elif kind == "agent" and event["agent"] in self.desks:
            await self._send(self.desks[event["agent"]], payload)
        elif kind == "desks":
            sockets = {ws for ws, open_id in self.watching.items()
                       if open_id == event["conversation"]}
            if (agent := event.get("agent")) and agent in self.desks:
                sockets |= self.desks[agent]
            await self._send(sockets, payload)
        elif kind == "queue" and self.on_queue is not None and self.connected_agents():
            await self.on_queue(event.get("notify"))

    async def to_shopper(self, conv_id: str, payload: dict[str, Any]) -> None:
        await self.emit({"to": "shopper", "conversation": conv_id, "payload": payload})

    async def to_agent(self, agent: str, payload: dict[str, Any]) -> None:
        await self.emit({"to": "agent", "agent": agent, "payload": payload})

    async def to_desks(self, conv_id: str, payload: dict[str, Any], agent: str | None = None) -> None:
        """Once to every desk socket that has ``conv_id`` open, and to ``agent``'s sockets."""
        await self.emit({"to": "desks", "conversation": conv_id, "agent": agent, "payload": payload})

    async def queue_changed(self, notify: str | None = None) -> None:
        """Every replica sends the queue to its own agents (``notify``: a conversation that
        started waiting)."""
        await self.emit({"to": "queue", "notify": notify})

    # this process's sockets -----------------------------------------------------------------
    @staticmethod
    async def _send(sockets: set[web.WebSocketResponse], payload: dict[str, Any]) -> None:
        for ws in list(sockets):
            if ws.closed:
                sockets.discard(ws)
                continue
            try:
                await ws.send_json(payload)
            except (ConnectionError, RuntimeError) as exc:  # socket went away meanwhile
                log.debug("dropping socket: %s", exc)
                sockets.discard(ws)

    def watch(self, ws: web.WebSocketResponse, conv_id: str | None) -> None:
        if conv_id:
            self.watching[ws] = conv_id
        else:
            self.watching.pop(ws, None)

    def connected_agents(self) -> list[str]:
        """The agents with a desk socket on this replica."""
        return [name for name, sockets in self.desks.items() if sockets]

    async def close_all(self) -> None:
        sockets = [ws for group in (*self.shoppers.values(), *self.desks.values()) for ws in group]
        for ws in sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001, message=b"server shutdown"), 1)
