"""Human handoff end to end through the API: queue, claim, reply, hand back, close; desk auth."""

from __future__ import annotations

import asyncio

from bot import keys
from tests.bot.conftest import history, new_conversation


async def _agent(client, name="alice", password="correct horse", display_name=None):
    store = client.app[keys.SERVICE].store
    await asyncio.to_thread(store.create_agent, name, password, display_name=display_name)
    resp = await client.post("/api/desk/login", json={"name": name, "password": password})
    assert resp.status == 200
    return resp


async def _receive_until(ws, predicate):
    while True:
        msg = await asyncio.wait_for(ws.receive_json(), 10)
        if predicate(msg):
            return msg


async def test_full_handoff_cycle(make_client, rasa):
    stub, _ = rasa
    shopper_client = await make_client()
    conv_id, headers = await new_conversation(shopper_client)
    token = headers["Authorization"].split()[1]
    base = f"/api/conversations/{conv_id}"
    await shopper_client.post(f"{base}/messages", json={"text": "show me running shoes"}, headers=headers)

    await _agent(shopper_client, display_name="Alice B.")  # the cookie jar is now the agent's
    desk = await shopper_client.ws_connect("/api/desk/ws")
    first = await desk.receive_json()
    assert first["type"] == "queue" and first["waiting"] == []
    shopper_ws = await shopper_client.ws_connect(f"{base}/ws?token={token}")

    resp = await shopper_client.post(f"{base}/messages", json={"text": "I want a human"}, headers=headers)
    messages = (await resp.json())["messages"]
    assert {"type": "handoff", "status": "waiting"}.items() <= messages[-1].items()
    assert stub.event_names(conv_id)[-1] == "pause"
    notice = await _receive_until(desk, lambda m: m["type"] == "queue" and m.get("notify"))
    assert notice["notify"] == conv_id
    assert [c["conversation_id"] for c in notice["waiting"]] == [conv_id]
    assert notice["waiting"][0]["last_shopper_text"] == "I want a human"

    # the desk view shows transcript, slots, intents and products with explanations
    view = await (await shopper_client.get(f"/api/desk/conversations/{conv_id}")).json()
    assert view["status"] == "waiting"
    assert view["bot"]["slots"]["product_type"] == "running shoes"
    assert [i["intent"] for i in view["bot"]["intents"]] == ["search_product", "contact_human_agent"]
    assert view["products_shown"][0]["query"] == "show me running shoes"
    assert view["products_shown"][0]["items"][0]["explanation"] == "running shoes ✓ · under $100 ✓"

    # reply before claiming is refused
    assert (await shopper_client.post(f"/api/desk/conversations/{conv_id}/reply",
                                      json={"text": "hello"})).status == 409
    assert (await shopper_client.post(f"/api/desk/conversations/{conv_id}/claim")).status == 200
    status = await _receive_until(shopper_ws, lambda m: m["type"] == "handoff")
    assert status["status"] == "agent" and status["agent"] == "Alice B."  # never the login

    # while the agent holds it: Rasa records the shopper's text (paused) and does not answer
    sent = len(stub.received)
    resp = await shopper_client.post(f"{base}/messages", json={"text": "my order is late"}, headers=headers)
    assert (await resp.json())["messages"] == []
    assert stub.received[sent:] == [(conv_id, "my order is late")]
    forwarded = await _receive_until(desk, lambda m: m["type"] == "message")
    assert forwarded["message"]["text"] == "my order is late"

    resp = await shopper_client.post(f"/api/desk/conversations/{conv_id}/reply",
                                     json={"text": "Sorry! Let me check <b>that</b>."})
    assert resp.status == 201
    pushed = await _receive_until(shopper_ws, lambda m: m.get("sender") == "agent")
    assert pushed["text"] == "Sorry! Let me check <b>that</b>." and pushed["agent"] == "Alice B."
    assert "agent_login" not in pushed
    assert stub.events[conv_id][-1]["event"] == "bot"

    assert (await shopper_client.post(f"/api/desk/conversations/{conv_id}/handback")).status == 200
    assert (await _receive_until(shopper_ws, lambda m: m["type"] == "handoff"))["status"] == "bot"
    assert "resume" in stub.event_names(conv_id)
    assert stub.slots[conv_id]["handoff_requested"] is False
    resp = await shopper_client.post(f"{base}/messages", json={"text": "hi"}, headers=headers)
    assert (await resp.json())["messages"][0]["text"] == "Hi! What are you looking for?"

    senders = [m["sender"] for m in await history(shopper_client, conv_id, headers)]
    assert senders.count("agent") == 1 and senders.count("shopper") == 4
    await shopper_ws.close()
    await desk.close()


async def test_only_one_agent_can_claim(make_client, settings):
    client = await make_client()
    service = client.app[keys.SERVICE]
    conv_id, headers = await new_conversation(client)
    await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "agent please"}, headers=headers)
    names = [f"agent{i}" for i in range(6)]
    results = await asyncio.gather(*(asyncio.to_thread(service.store.claim, conv_id, n) for n in names))
    assert sum(results) == 1
    winner = names[results.index(True)]
    conv = service.store.get_conversation(conv_id)
    assert conv["status"] == "agent" and conv["assigned_agent"] == winner

    await _agent(client, "bob")
    assert (await client.post(f"/api/desk/conversations/{conv_id}/claim")).status == 409
    assert (await client.post(f"/api/desk/conversations/{conv_id}/reply", json={"text": "x"})).status == 409
    assert (await client.post(f"/api/desk/conversations/{conv_id}/handback")).status == 409


async def test_close_a_waiting_conversation_then_shopper_talks_to_bot(client):
    conv_id, headers = await new_conversation(client)
    await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "human please"}, headers=headers)
    await _agent(client)
    assert (await client.post(f"/api/desk/conversations/{conv_id}/close")).status == 200
    hist = await client.get(f"/api/conversations/{conv_id}/history", headers=headers)
    assert (await hist.json())["status"] == "closed"
    resp = await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "hi"}, headers=headers)
    assert (await resp.json())["messages"][0]["type"] == "text"


async def test_desk_requires_login_and_same_origin(client):
    assert (await client.get("/api/desk/queue")).status == 401
    store = client.app[keys.SERVICE].store
    await asyncio.to_thread(store.create_agent, "carol", "s3cret-pass")
    wrong = await client.post("/api/desk/login", json={"name": "carol", "password": "nope"})
    assert wrong.status == 401 and "error" in await wrong.json()
    unknown = await client.post("/api/desk/login", json={"name": "mallory", "password": "nope"})
    assert unknown.status == 401
    ok = await client.post("/api/desk/login", json={"name": "carol", "password": "s3cret-pass"})
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert (await client.get("/api/desk/queue")).status == 200
    cross = await client.get("/api/desk/queue", headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    assert (await client.post("/api/desk/logout")).status == 200
    assert (await client.get("/api/desk/queue")).status == 401


async def test_login_attempts_are_rate_limited(make_client):
    client = await make_client(rate_login=3)
    statuses = [(await client.post("/api/desk/login", json={"name": "x", "password": "y"})).status
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_desk_view_without_rasa_still_shows_transcript(make_client):
    from tests.bot.conftest import free_port

    client = await make_client(rasa_url=f"http://127.0.0.1:{free_port()}")
    conv_id, headers = await new_conversation(client)
    await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "hello"}, headers=headers)
    await _agent(client)
    view = await (await client.get(f"/api/desk/conversations/{conv_id}")).json()
    assert "error" in view["bot"]
    assert view["messages"][0]["text"] == "hello"
