"""Rasa over HTTP: the REST channel for turns, the HTTP API for trackers and pause/resume.

Also maps Rasa's REST output items to the gateway's BotMessages (docs/architecture.md §3.4).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any

import aiohttp

from bot import payloads
from bot.security import safe_url
from common.metrics import RASA_SECONDS

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer in time, refused the connection or answered with an error."""


DOWN_S = 5.0  # a Rasa replica that refused a connection is skipped for this long


class RasaClient:
    """One Rasa, or several replicas (``rasa_url`` comma-separated) that share the SQL tracker
    store and the Redis lock store, so any of them can take any conversation's turn. Requests go
    round robin; a replica that refuses the connection is skipped for DOWN_S seconds and the
    request goes to the next one (nothing reached it, so nothing is repeated). A timeout is not
    retried: that replica may still be working on the turn."""

    def __init__(self, rasa_url: str, token: str, actions_url: str, timeout: float) -> None:
        self.rasa_urls = [url.strip().rstrip("/") for url in rasa_url.split(",") if url.strip()]
        self._turn = itertools.count()
        self._down_until: dict[str, float] = {}
        self.token = token
        self.actions_url = actions_url.rstrip("/")
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RasaClient:
        """Opens the HTTP session on the running loop; leaving the block closes it."""
        self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=100),
            )
        return self._session

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._open()

    @property
    def closed(self) -> bool:
        """True when no HTTP session is open (never opened, or closed)."""
        return self._session is None or self._session.closed

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    def _replicas(self) -> list[str]:
        """Every replica once: the next one in turn among those not skipped first, then the
        rest of those, then the skipped ones."""
        now = time.monotonic()
        up = [url for url in self.rasa_urls if self._down_until.get(url, 0.0) <= now]
        down = [url for url in self.rasa_urls if url not in up]
        if not up:
            return down
        start = next(self._turn) % len(up)
        return up[start:] + up[:start] + down

    async def _rasa(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request to a Rasa replica; the next one when a replica refuses the connection."""
        replicas = self._replicas()
        for i, url in enumerate(replicas):
            try:
                reply = await self._request(method, url + path, **kwargs)
            except RasaUnavailable as exc:
                if not isinstance(exc.__cause__, aiohttp.ClientConnectorError) or i == len(replicas) - 1:
                    raise
                self._down_until[url] = time.monotonic() + DOWN_S
                log.warning("Rasa replica %s refused the connection; trying the next one", url)
                continue
            self._down_until.pop(url, None)
            return reply
        raise RasaUnavailable("no Rasa replica configured")

    async def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            async with self.session.request(method, url, **kwargs) as response:
                if response.status >= 400:
                    body = (await response.text())[:300]
                    raise RasaUnavailable(f"{method} {url} -> {response.status}: {body}")
                if response.content_type == "application/json":
                    return await response.json()
                return await response.text()
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise RasaUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc

    async def send_message(self, sender: str, text: str) -> list[dict[str, Any]]:
        """One REST-channel turn; returns Rasa's raw reply items."""
        with RASA_SECONDS.time():
            reply = await self._rasa(
                "POST", "/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
        if not isinstance(reply, list):
            raise RasaUnavailable(f"unexpected REST reply: {str(reply)[:200]}")
        return [item for item in reply if isinstance(item, dict)]

    async def tracker(self, sender: str) -> dict[str, Any]:
        reply = await self._rasa(
            "GET", f"/conversations/{sender}/tracker", params=self._params()
        )
        return reply if isinstance(reply, dict) else {}

    async def append_events(self, sender: str, *events: dict[str, Any]) -> None:
        await self._rasa(
            "POST",
            f"/conversations/{sender}/tracker/events",
            params=self._params(),
            json=list(events) if len(events) > 1 else events[0],
        )

    async def pause(self, sender: str) -> None:
        await self.append_events(sender, {"event": "pause"})

    async def resume(self, sender: str) -> None:
        await self.append_events(
            sender,
            {"event": "resume"},
            {"event": "slot", "name": "handoff_requested", "value": False},
        )

    async def record_agent_reply(self, sender: str, text: str, agent: str) -> None:
        await self.append_events(
            sender, {"event": "bot", "text": text, "metadata": {"agent": agent, "source": "agent_desk"}}
        )

    async def health(self) -> dict[str, Any]:
        """Rasa (ok while any replica answers; ``replicas`` when there are several) and the
        action server. A replica's probe also sets whether requests skip it."""
        *rasas, actions = await asyncio.gather(
            *(self._probe(f"{url}/status", params=self._params()) for url in self.rasa_urls),
            self._probe(f"{self.actions_url}/health"),
        )
        now = time.monotonic()
        for url, state in zip(self.rasa_urls, rasas, strict=True):
            if state["ok"]:
                self._down_until.pop(url, None)
            else:
                self._down_until[url] = now + DOWN_S
        rasa = dict(rasas[0]) if len(rasas) == 1 else {
            "ok": any(r["ok"] for r in rasas), "replicas": dict(zip(self.rasa_urls, rasas, strict=True))}
        return {"rasa": rasa, "actions": actions}

    async def _probe(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=2), **kwargs) as resp:
                return {"ok": resp.status == 200, "status": resp.status}
        except (TimeoutError, aiohttp.ClientError) as exc:
            return {"ok": False, "error": type(exc).__name__}


# mapping ----------------------------------------------------------------------------------------

PRODUCT_FIELDS = ("id", "title", "price", "currency", "image_url", "url", "explanation", "matched")


def _clean_product(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not item.get("id") or not item.get("title"):
        return None
    price = item.get("price")
    matched = item.get("matched") or []
    return {
        "id": str(item["id"]),
        "title": str(item["title"]),
        "price": float(price) if isinstance(price, int | float) and not isinstance(price, bool) else None,
        "currency": str(item.get("currency") or "USD"),
        "image_url": safe_url(item.get("image_url")),
        "url": safe_url(item.get("url")),
        "explanation": str(item.get("explanation") or ""),
        "matched": [str(m) for m in matched] if isinstance(matched, list) else [],
    }


def _map_custom(custom: Any) -> dict[str, Any] | None:
    if not isinstance(custom, dict):
        return None
    kind = custom.get("type")
    if kind == "products":
        items = [p for p in map(_clean_product, custom.get("items") or []) if p]
        relaxed = custom.get("relaxed") or []
        return {"type": "products", "items": items,
                "relaxed": [str(r) for r in relaxed] if isinstance(relaxed, list) else []}
    if kind == "handoff":
        return {"type": "handoff", "status": "waiting"}
    if kind == "cart":
        return payloads.clean_cart(custom)
    if kind == "comparison":
        return payloads.clean_comparison(custom, _clean_product)
    log.info("ignoring unknown custom payload type %r", kind)
    return None


def map_rasa_reply(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa REST output → BotMessages, in order (text before its buttons)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item.get("text"), str) and item["text"].strip():
            out.append({"type": "text", "text": item["text"]})
        buttons = item.get("buttons")
        if isinstance(buttons, list):
            clean = [
                {"title": str(b.get("title") or b.get("payload")), "payload": str(b.get("payload") or b.get("title"))}
                for b in buttons
                if isinstance(b, dict) and (b.get("title") or b.get("payload"))
            ]
            if clean:
                out.append({"type": "buttons", "buttons": clean})
        image = safe_url(item.get("image"))
        if image:
            out.append({"type": "image", "url": image})
        if "custom" in item:
            mapped = _map_custom(item["custom"])
            if mapped:
                out.append(mapped)
    return out


def summarize_tracker(tracker: dict[str, Any]) -> dict[str, Any]:
    """What the bot knew, for the agent desk: filled slots and the intent history."""
    slots = {k: v for k, v in (tracker.get("slots") or {}).items()
             if v not in (None, [], "") and not k.startswith("requested_slot")}
    intents = []
    for ev in tracker.get("events") or []:
        if ev.get("event") != "user":
            continue
        parse = ev.get("parse_data") or {}
        intent = parse.get("intent") or {}
        intents.append({
            "text": ev.get("text"),
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
            "entities": [
                {k: e.get(k) for k in ("entity", "value", "role") if e.get(k) is not None}
                for e in parse.get("entities") or []
            ],
        })
    latest = tracker.get("latest_message") or {}
    return {
        "slots": slots,
        "intents": intents,
        "latest_intent": (latest.get("intent") or {}).get("name"),
        "paused": bool(tracker.get("paused")),
        "active_loop": (tracker.get("active_loop") or {}).get("name"),
    }
