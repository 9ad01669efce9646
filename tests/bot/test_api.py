"""Shopper API: creation, Rasa mapping, history, feedback, slow/dead Rasa, pages and headers."""

from __future__ import annotations

import asyncio
import re

from bot import keys
from bot.rasa_client import map_rasa_reply
from tests.bot.conftest import free_port, history, new_conversation


async def test_create_conversation_returns_id_and_token(client):
    resp = await client.post("/api/conversations")
    assert resp.status == 201
    data = await resp.json()
    assert re.fullmatch(r"[0-9a-f]{32}", data["conversation_id"])
    assert len(data["token"]) >= 32
    headers = {"Authorization": f"Bearer {data['token']}"}
    assert await history(client, data["conversation_id"], headers) == []


async def test_greeting_maps_text_and_buttons_and_is_stored(client, rasa):
    stub, _ = rasa
    conv_id, headers = await new_conversation(client)
    resp = await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "hi"}, headers=headers)
    assert resp.status == 200
    messages = (await resp.json())["messages"]
    assert [m["type"] for m in messages] == ["text", "buttons"]
    assert messages[0]["text"] == "Hi! What are you looking for?"
    assert messages[1]["buttons"] == [{"title": "Running shoes", "payload": "/search_product"}]
    assert stub.received == [(conv_id, "hi")]
    stored = await history(client, conv_id, headers)
    assert [(m["sender"], m["type"]) for m in stored] == [("shopper", "text"), ("bot", "text"), ("bot", "buttons")]
    assert stored[0]["text"] == "hi" and stored[0]["delivered"] is True


async def test_products_payload_is_mapped_and_unsafe_urls_dropped(client):
    conv_id, headers = await new_conversation(client)
    resp = await client.post(f"/api/conversations/{conv_id}/messages",
                             json={"text": "show me running shoes"}, headers=headers)
    messages = (await resp.json())["messages"]
    products = [m for m in messages if m["type"] == "products"]
    assert len(products) == 1
    items = products[0]["items"]
    assert [i["id"] for i in items] == ["P00001", "P00002"]
    assert {"id", "title", "price", "currency", "image_url", "url", "explanation",
            "matched"} <= set(items[0])
    assert items[0]["explanation"] == "running shoes ✓ · under $100 ✓"
    # the gateway adds the card fields from its catalog, and splits the explanation
    assert items[0]["met"] == ["running shoes", "under $100"] and items[0]["unmet"] == []
    assert (items[0]["sizes"], items[0]["gender"], items[0]["colors"]) == (
        ["8", "9", "10"], "women", ["black", "green"])
    assert items[0]["kind"] == "Running Shoes" and items[0]["brand"] == "Stride"
    assert items[0]["url"] == "https://shop.example/p/P00001"
    assert items[1]["url"] is None  # javascript: URL removed
    assert products[0]["relaxed"] == []


def test_mapping_of_every_rasa_item_kind():
    items = [
        {"recipient_id": "x", "text": "Pick one", "buttons": [{"title": "A", "payload": "/a"}]},
        {"recipient_id": "x", "image": "https://cdn.example/i.png"},
        {"recipient_id": "x", "image": "javascript:alert(1)"},
        {"recipient_id": "x", "custom": {"type": "handoff", "status": "waiting"}},
        {"recipient_id": "x", "custom": {"type": "unknown"}},
        {"recipient_id": "x", "custom": {"type": "products", "items": [{"id": 7}, {"title": "no id"}],
                                         "relaxed": ["price up to $65 instead of $50"]}},
    ]
    assert map_rasa_reply(items) == [
        {"type": "text", "text": "Pick one"},
        {"type": "buttons", "buttons": [{"title": "A", "payload": "/a"}]},
        {"type": "image", "url": "https://cdn.example/i.png"},
        {"type": "handoff", "status": "waiting"},
        {"type": "products", "items": [], "relaxed": ["price up to $65 instead of $50"]},
    ]


def test_cart_and_comparison_payloads_are_cleaned():
    cart = {"type": "cart", "item_count": 3, "total": 240.0, "currency": "USD", "items": [
        {"id": "P1", "title": "Trail Shoes", "size": "9", "color": "black", "quantity": 2,
         "line_total": 160.0, "secret": "x"},
        {"id": "P1", "title": "Trail Shoes", "size": None, "color": None, "quantity": 1, "line_total": 80},
        {"title": "no id"}, "junk"]}
    two = [{"id": "P1", "title": "Trail Shoes", "price": 80}, {"id": "P2", "title": "Road", "url": "javascript:x"}]
    comparison = {"type": "comparison", "items": two, "rows": [
        {"label": "Price", "values": ["$80", "$65"]}, {"label": "Brand", "values": ["Stride"]},
        {"label": "Rating", "values": [4.5, None, "extra"]}, {"values": ["no label"]}, "junk"]}
    [mapped_cart, mapped_comparison, *rest] = map_rasa_reply(
        [{"custom": cart}, {"custom": comparison}, {"custom": {**comparison, "items": two[:1]}}])
    assert rest == []  # a comparison of one product is none
    assert mapped_cart == {"type": "cart", "item_count": 3, "total": 240.0, "currency": "USD", "items": [
        {"id": "P1", "title": "Trail Shoes", "size": "9", "color": "black", "quantity": 2, "line_total": 160.0},
        {"id": "P1", "title": "Trail Shoes", "size": None, "color": None, "quantity": 1, "line_total": 80.0}]}
    assert [i["id"] for i in mapped_comparison["items"]] == ["P1", "P2"]
    assert mapped_comparison["items"][1]["url"] is None
    assert mapped_comparison["rows"] == [{"label": "Price", "values": ["$80", "$65"]},
                                         {"label": "Brand", "values": ["Stride", "n/a"]},
                                         {"label": "Rating", "values": ["4.5", "n/a"]}]


async def test_button_payload_keeps_display_text(client, rasa):
    stub, _ = rasa
    conv_id, headers = await new_conversation(client)
    payload = '/more_like_this{"product_id":"P00001"}'
    await client.post(f"/api/conversations/{conv_id}/messages",
                      json={"text": payload, "display": "More like this: Trail Runner 2"}, headers=headers)
    assert stub.received[-1] == (conv_id, payload)
    first = (await history(client, conv_id, headers))[0]
    assert first["text"] == payload and first["display"] == "More like this: Trail Runner 2"


async def test_feedback_event_records_query_and_products_shown(client):
    conv_id, headers = await new_conversation(client)
    await client.post(f"/api/conversations/{conv_id}/messages",
                      json={"text": "show me running shoes"}, headers=headers)
    resp = await client.post(f"/api/conversations/{conv_id}/events",
                             json={"type": "click", "product_id": "P00002"}, headers=headers)
    assert resp.status == 201
    event = (await resp.json())["event"]
    assert event["query"] == "show me running shoes"
    assert event["shown"] == ["P00001", "P00002"]
    assert event["position"] == 1
    store = client.app[keys.SERVICE].store
    exported = list(store.iter_feedback())
    assert [(e["type"], e["product_id"], e["query"]) for e in exported] == [
        ("click", "P00002", "show me running shoes")]


async def test_feedback_event_validation(client):
    conv_id, headers = await new_conversation(client)
    url = f"/api/conversations/{conv_id}/events"
    for body in ({"type": "hack"}, {"type": "rating", "value": 9}, {"type": "click", "product_id": "<x>"},
                 {"type": "like", "value": {"a": 1}}):
        resp = await client.post(url, json=body, headers=headers)
        assert resp.status == 400, body
        assert "error" in await resp.json()
    resp = await client.post(url, json={"type": "rating", "value": 4, "product_id": "P00001"}, headers=headers)
    assert resp.status == 201


async def test_slow_rasa_gets_polite_reply_and_message_is_kept(client, rasa):
    stub, _ = rasa
    stub.delay = 3.0  # the gateway waits rasa_timeout=1.0
    conv_id, headers = await new_conversation(client)
    resp = await client.post(f"/api/conversations/{conv_id}/messages",
                             json={"text": "where is my order?"}, headers=headers)
    assert resp.status == 200
    messages = (await resp.json())["messages"]
    assert len(messages) == 1 and messages[0]["fallback"] is True
    assert "saved" in messages[0]["text"]
    stored = await history(client, conv_id, headers)
    assert stored[0]["text"] == "where is my order?" and stored[0]["delivered"] is False


async def test_an_empty_rasa_reply_is_told_plainly(client, rasa, monkeypatch):
    """Rasa answers nothing when a custom action fails (the action server restarting)."""
    stub, _ = rasa
    monkeypatch.setattr(stub, "reply", lambda sender, text: [])
    conv_id, headers = await new_conversation(client)
    resp = await client.post(f"/api/conversations/{conv_id}/messages",
                             json={"text": "show me boots"}, headers=headers)
    messages = (await resp.json())["messages"]
    assert len(messages) == 1 and messages[0]["fallback"] is True
    assert "saved" in messages[0]["text"]
    assert (await history(client, conv_id, headers))[0]["text"] == "show me boots"


async def test_dead_rasa_gets_polite_reply_and_degraded_health(make_client):
    dead = f"http://127.0.0.1:{free_port()}"
    client = await make_client(rasa_url=dead, actions_url=dead)
    conv_id, headers = await new_conversation(client)
    resp = await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "hello"}, headers=headers)
    assert resp.status == 200
    assert (await resp.json())["messages"][0]["fallback"] is True
    assert (await history(client, conv_id, headers))[0]["text"] == "hello"
    health = await client.get("/health")
    assert health.status == 200
    body = await health.json()
    assert body["status"] == "degraded"
    assert body["rasa"]["ok"] is False and body["actions"]["ok"] is False and body["store"]["ok"] is True
    assert body["down"] == ["actions", "rasa"]
    since = body["actions"]["since"]
    assert since.endswith("Z")
    await asyncio.sleep(1.1)
    again = await (await client.get("/health")).json()
    assert again["actions"]["since"] == since  # still down since the first probe that saw it


async def test_health_ok_with_all_parts_up(client):
    resp = await client.get("/health")
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "ok"
    assert body["catalog"]["products"] == 3


async def test_storefront_lists_catalog_with_one_script_tag(client):
    resp = await client.get("/")
    page = await resp.text()
    assert resp.status == 200
    assert "Trail Runner 2" in page
    assert "Wool &lt;Beanie&gt;" in page and "<Beanie>" not in page
    assert page.count("<script") == 1 and 'src="/static/widget.js"' in page
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_product_images_and_static_files(client):
    resp = await client.get("/images/P00001.svg")
    assert resp.status == 200 and resp.content_type == "image/svg+xml"
    assert "<svg" in await resp.text()
    missing = await client.get("/images/P99999.svg")
    assert missing.status == 404 and "error" in await missing.json()
    # ?color= draws one of the product's own colours; any other value draws its first colour
    green, first, other = [await (await client.get(f"/images/P00001.svg{q}")).text()
                           for q in ("?color=Green", "", "?color=%3Cscript%3E")]
    assert 'fill="#3f8f4a"' in green and 'fill="#222222"' in first and other == first
    for name in ("widget.js", "widget.css", "desk.js", "desk.css"):
        assert (await client.get(f"/static/{name}")).status == 200
    page = await client.get("/products/P00003")
    text = await page.text()
    assert page.status == 200 and "Wool &lt;Beanie&gt;" in text and text.count("<script") == 1
    assert (await client.get("/products/nope")).status == 404
    desk = await client.get("/desk")
    assert desk.status == 200 and "agent desk" in (await desk.text()).lower()


async def test_cors_allow_list(client):
    allowed = {"Origin": "https://shop.example"}
    resp = await client.post("/api/conversations", headers=allowed)
    assert resp.status == 201
    assert resp.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    pre = await client.options("/api/conversations", headers={
        **allowed, "Access-Control-Request-Method": "POST"})
    assert pre.status == 204 and "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    evil = await client.post("/api/conversations", headers={"Origin": "https://evil.example"})
    assert evil.status == 403 and "Access-Control-Allow-Origin" not in evil.headers
    assert "error" in await evil.json()


async def test_history_survives_a_restart(make_client, settings):
    first = await make_client()
    conv_id, headers = await new_conversation(first)
    await first.post(f"/api/conversations/{conv_id}/messages", json={"text": "hi"}, headers=headers)
    await first.close()
    second = await make_client()
    stored = await history(second, conv_id, headers)
    assert [m["sender"] for m in stored] == ["shopper", "bot", "bot"]


async def test_metrics_count_turns_for_a_local_scraper_only(client, make_client):
    conv_id, headers = await new_conversation(client)
    await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "show me boots"}, headers=headers)
    resp = await client.get("/metrics")
    assert resp.status == 200
    text = await resp.text()
    assert re.search(r'aisle_gateway_turn_seconds_count\{outcome="answered"\} [1-9]', text)
    assert re.search(r"aisle_gateway_rasa_seconds_count [1-9]", text)
    proxied = await make_client(trust_proxy=True)
    assert (await proxied.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status == 404
