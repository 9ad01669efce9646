"""A small real HTTP server that plays Rasa's REST channel + HTTP API (and the action server's
/health) for the gateway's unit tests. Keyword rules stand in for NLU; pause/resume work like Rasa's.

Run standalone for manual or browser development:  python -m tests.bot.rasa_stub --port 5005
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PRODUCTS = [
    {"id": "P00001", "title": "Trail Runner 2", "price": 89.0, "currency": "USD",
     "image_url": "/images/P00001.svg", "url": "https://shop.example/p/P00001",
     "explanation": "✓ running shoes ✓ under $100", "matched": ["running", "shoes"]},
    {"id": "P00002", "title": "Road Glide", "price": 65.5, "currency": "USD",
     "image_url": "/images/P00002.svg", "url": "javascript:alert(1)",
     "explanation": "✓ running shoes", "matched": ["running"]},
]


@dataclass
class RasaStub:
    token: str = "stub-token"
    delay: float = 0.0  # seconds before answering a REST message (slow Rasa)
    received: list[tuple[str, str]] = field(default_factory=list)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)

    def paused(self, sender: str) -> bool:
        state = False
        for ev in self.events.get(sender, []):
            if ev.get("event") == "pause":
                state = True
            elif ev.get("event") == "resume":
                state = False
        return state

    def event_names(self, sender: str) -> list[str]:
        return [ev["event"] for ev in self.events.get(sender, [])]

    def _intent(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        lower = text.lower()
        if lower.startswith("/"):
            match = re.match(r"/(\w+)(\{.*\})?$", text)
            entities = [{"entity": k, "value": v} for k, v in json.loads(match.group(2) or "{}").items()] if match else []
            return (match.group(1) if match else "out_of_scope"), entities
        if re.search(r"\b(hi|hello|hey)\b", lower):
            return "greet", []
        if "human" in lower or "agent" in lower:
            return "contact_human_agent", []
        if "shoe" in lower or "show" in lower:
            return "search_product", [{"entity": "product_type", "value": "running shoes"}]
        return "out_of_scope", []

    def reply(self, sender: str, text: str) -> list[dict[str, Any]]:
        intent, entities = self._intent(text)
        self.events.setdefault(sender, []).append({
            "event": "user", "text": text,
            "parse_data": {"intent": {"name": intent, "confidence": 0.97}, "entities": entities},
        })
        if self.paused(sender):
            return []
        slots = self.slots.setdefault(sender, {"handoff_requested": False, "product_type": None})
        for ent in entities:
            slots[ent["entity"]] = ent["value"]
        out: list[dict[str, Any]]
        if intent == "greet":
            out = [{"text": "Hi! What are you looking for?",
                    "buttons": [{"title": "Running shoes", "payload": "/search_product"}]}]
        elif intent == "contact_human_agent":
            slots["handoff_requested"] = True
            out = [{"text": "I'm connecting you with a human agent."},
                   {"custom": {"type": "handoff", "status": "waiting"}}]
        elif intent in ("search_product", "more_like_this"):
            out = [{"text": "Here are some running shoes:"},
                   {"custom": {"type": "products", "items": PRODUCTS, "relaxed": []}}]
        else:
            out = [{"text": f"You said: {text}"}]
        for item in out:
            self.events[sender].append({"event": "bot", "text": item.get("text")})
        return [{"recipient_id": sender, **item} for item in out]

    # HTTP ---------------------------------------------------------------------------------------
    def _check_token(self, request: web.Request) -> None:
        if request.query.get("token") != self.token:
            raise web.HTTPUnauthorized(text='{"status":"failure"}', content_type="application/json")

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        self.received.append((sender, text))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(self.reply(sender, text))

    async def tracker(self, request: web.Request) -> web.Response:
        self._check_token(request)
        sender = request.match_info["sender"]
        events = self.events.get(sender, [])
        latest = next((e for e in reversed(events) if e["event"] == "user"), {})
        return web.json_response({
            "sender_id": sender, "slots": self.slots.get(sender, {}), "events": events,
            "paused": self.paused(sender), "latest_message": latest.get("parse_data", {}),
        })

    async def append_events(self, request: web.Request) -> web.Response:
        self._check_token(request)
        sender = request.match_info["sender"]
        body = await request.json()
        for ev in body if isinstance(body, list) else [body]:
            self.events.setdefault(sender, []).append(ev)
            if ev.get("event") == "slot":
                self.slots.setdefault(sender, {})[ev["name"]] = ev.get("value")
        return await self.tracker(request)

    async def status(self, request: web.Request) -> web.Response:
        self._check_token(request)
        return web.json_response({"model_file": "stub.tar.gz"})

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        app.router.add_post("/conversations/{sender}/tracker/events", self.append_events)
        app.router.add_get("/status", self.status)
        app.router.add_get("/health", self.health)
        return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--token", default="stub-token")
    args = parser.parse_args()
    web.run_app(RasaStub(token=args.token).app(), host="127.0.0.1", port=args.port)
