"""Websocket fan-out: shopper sockets per conversation, desk sockets per agent, and which
conversation each desk socket has open (it keeps getting that conversation's messages, also
after a hand-back)."""

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
        self.watching: dict[web.WebSocketResponse, str] = {}  # desk socket → open conversation

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

    def watch(self, ws: web.WebSocketResponse, conv_id: str | None) -> None:
        if conv_id:
            self.watching[ws] = conv_id
        else:
            self.watching.pop(ws, None)

    async def to_desks(self, conv_id: str, payload: dict[str, Any], agent: str | None = None) -> None:
        """Once to every desk socket that has ``conv_id`` open, and to ``agent``'s sockets."""
        sockets = {ws for ws, open_id in self.watching.items() if open_id == conv_id}
        if agent and agent in self.desks:
            sockets |= self.desks[agent]
        await self._send(sockets, payload)

    def connected_agents(self) -> list[str]:
        return [name for name, sockets in self.desks.items() if sockets]

    async def close_all(self) -> None:
        sockets = [ws for group in (*self.shoppers.values(), *self.desks.values()) for ws in group]
        for ws in sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001, message=b"server shutdown"), 1)
