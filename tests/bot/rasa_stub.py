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
     "explanation": "running shoes ✓ · under $100 ✓", "matched": ["running shoes", "under $100"]},
    {"id": "P00002", "title": "Road Glide", "price": 65.5, "currency": "USD",
     "image_url": "/images/P00002.svg", "url": "javascript:alert(1)",
     "explanation": "running shoes ✓", "matched": ["running shoes"]},
]
# catalog rows of the jackets below (the browser tests' gateway adds them to tests/bot's catalog)
JACKET_CATALOG = [
    {"id": f"P0001{i}", "title": f"Stub Jacket {i}", "brand": "Fjellby", "price": 150.0 + 10 * i,
     "category": ["Apparel", "Outerwear", "Rain Jackets"], "colors": ["navy", "green"],
     "sizes": ["S", "M", "L"], "gender": "men", "rating": 3.1} for i in range(1, 6)
]
# "green jackets": six cards (a carousel), the first in the colour asked for, the rest relaxed
JACKET_CONSTRAINTS = {"product_type": "Rain Jackets", "colors": ["green"], "gender": "women",
                      "price_max": 150.0, "exclude_brands": ["Northpeak"], "in_stock_only": True}
JACKETS = [
    {"id": "P00001", "title": "Trail Runner 2", "price": 89.0, "currency": "USD",
     "image_url": "/images/P00001.svg", "url": "/products/P00001",
     "explanation": "rain jackets ✓ · green ✓ · under $150 ✓ · not Northpeak ✓",
     "matched": ["rain jackets", "green", "under $150", "not Northpeak"]},
    *({"id": f"P0001{i}", "title": f"Stub Jacket {i}", "price": 150.0 + 10 * i, "currency": "USD",
       "image_url": f"/images/P0001{i}.svg", "url": f"/products/P0001{i}",
       "explanation": f"rain jackets ✓ · not green ✗ · ${150 + 10 * i:.2f}, outside under $150 ✗ · "
                      "for men ✗ · rated 3.1, below 4 ✗",
       "matched": ["rain jackets"]} for i in range(1, 6)),
]


# what the stub's cart and comparison know of the products above: title and price by id
PRICES = {p["id"]: (p["title"], p["price"]) for p in [*PRODUCTS, *JACKETS]}
COMPARED = [JACKETS[1], JACKETS[2]]  # "compare the first two": two jackets side by side


def comparison() -> dict[str, Any]:
    """The action's ``comparison`` payload for the two jackets (values as the action words them)."""
    rows = [("Price", [f"${p['price']:.0f}" for p in COMPARED]), ("Brand", ["Fjellby", "Fjellby"]),
            ("Rating", ["3.1/5", "3.1/5"]), ("Colours", ["navy, green", "navy, green"]),
            ("Sizes", ["S, M, L", "S, M, L"]), ("Materials", ["n/a", "n/a"]),
            ("Availability", ["In stock", "Out of stock"])]
    return {"type": "comparison", "items": COMPARED,
            "rows": [{"label": label, "values": values} for label, values in rows]}


@dataclass
class RasaStub:
    token: str = "stub-token"
    delay: float = 0.0  # seconds before answering a REST message (slow Rasa)
    received: list[tuple[str, str]] = field(default_factory=list)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    carts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # the action's cart lines

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
        if "furious" in lower or "terrible" in lower:
            return "complaint", []
        if match := re.search(r"\bord-\d+", lower):
            return "track_order", [{"entity": "order_id", "value": match.group(0).upper()}]
        if "compare" in lower:
            return "compare_products", []
        if "cart" in lower:
            return "view_cart", []
        if "jacket" in lower:
            return "search_product", [{"entity": "product_type", "value": "rain jackets"}]
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
        elif intent in ("contact_human_agent", "complaint"):
            slots["handoff_requested"] = True
            out = [{"text": "I'm connecting you with a human agent."},
                   {"custom": {"type": "handoff", "status": "waiting"}}]
        elif intent == "track_order":
            order = entities[0]["value"]
            slots.update(verified_order_id=order, email="maya.tan@example.com")
            out = [{"text": f"Order {order} shipped and should arrive on Friday."}]
        elif intent == "search_product" and "jacket" in text.lower():
            slots["search_constraints"] = dict(JACKET_CONSTRAINTS)
            out = [{"text": "I found 1 exact match; the others are close (price, colour):"},
                   {"custom": {"type": "products", "items": JACKETS,
                               "relaxed": ["price up to $195 instead of $150", "any colour"]}}]
        elif intent in ("add_to_cart", "view_cart"):
            out = self._cart_turn(sender, intent, {e["entity"]: e["value"] for e in entities})
        elif intent == "compare_products":
            out = [{"text": "Stub Jacket 1: $160. Stub Jacket 2: $170. Stub Jacket 1 is the cheaper one."},
                   {"custom": comparison()}]
        elif intent in ("search_product", "more_like_this"):
            out = [{"text": "Here are some running shoes:"},
                   {"custom": {"type": "products", "items": PRODUCTS, "relaxed": []}}]
        else:
            out = [{"text": f"You said: {text}"}]
        for item in out:
            self.events[sender].append({"event": "bot", "text": item.get("text")})
        return [{"recipient_id": sender, **item} for item in out]

    def _cart_turn(self, sender: str, intent: str, chosen: dict[str, Any]) -> list[dict[str, Any]]:
        """What action_add_to_cart / action_view_cart answer: the text, then the cart payload."""
        lines = self.carts.setdefault(sender, [])
        if intent == "add_to_cart" and chosen.get("product_id") not in PRICES:
            return [{"text": "Which product do you mean?"}]
        if intent == "add_to_cart":
            title, price = PRICES[chosen["product_id"]]
            key = (chosen["product_id"], chosen.get("size"), chosen.get("color"))
            line = next((i for i in lines if (i["id"], i["size"], i["color"]) == key), None)
            if line is None:
                line = {"id": key[0], "title": title, "size": key[1], "color": key[2], "quantity": 0}
                lines.append(line)
            line["quantity"] += 1
            line["line_total"] = round(price * line["quantity"], 2)
        count, total = sum(i["quantity"] for i in lines), round(sum(i["line_total"] for i in lines), 2)
        if intent == "add_to_cart":
            text = f"Added {line['title']} to your cart. You have {count} item(s), ${total:.2f} in total."
        else:
            text = f"Your cart: {len(lines)} line(s). Total ${total:.2f}." if lines else "Your cart is empty."
        return [{"text": text}, {"custom": {"type": "cart", "items": [dict(i) for i in lines],
                                            "item_count": count, "total": total, "currency": "USD"}}]

    # HTTP ---------------------------------------------------------------------------------------
    def _check_token(self, request: web.Request) -> None:
        if request.query.get("token") != self.token:
            raise web.HTTPUnauthorized(text='{"status":"failure"}', content_type="application/json")

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        self.received.append((sender, text))
        if self.delay or "slowly" in text:
            await asyncio.sleep(self.delay or 1.5)
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
