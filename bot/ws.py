"""Websocket fan-out: shopper sockets per conversation, desk sockets per agent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self.shoppers: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.desks: dict[str, set[web.WebSocketResponse]] = defaultdict(set)

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

    async def to_shopper(self, conv_id: str, payload: dict[str, Any]) -> None:
        if conv_id in self.shoppers:
            await self._send(self.shoppers[conv_id], payload)

    async def to_agent(self, agent: str, payload: dict[str, Any]) -> None:
        if agent in self.desks:
            await self._send(self.desks[agent], payload)

    def connected_agents(self) -> list[str]:
        return [name for name, sockets in self.desks.items() if sockets]

    async def close_all(self) -> None:
        sockets = [ws for group in (*self.shoppers.values(), *self.desks.values()) for ws in group]
        for ws in sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001, message=b"server shutdown"), 1)
