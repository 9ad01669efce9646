"""The agent desk's API beyond the handoff cycle: the readable view (chips, reason, summary,
what the bot did), the queue's reason/wait/customer and the resolved list, internal notes that
never reach the shopper, display names, canned replies, typing both ways, and a desk that keeps
following a conversation after the hand-back."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from bot.desk_view import bot_actions, handoff_reason, shopping_chips, summary
from bot.shop_activity import ShopActivity
from bot.store import GatewayStore
from tests.bot.conftest import history, new_conversation
from tests.bot.test_handoff import _agent, _receive_until

ROOT = Path(__file__).resolve().parents[2]


async def _waiting(client, first: str = "show me green jackets", ask: str = "I want a human"):
    conv_id, headers = await new_conversation(client)
    base = f"/api/conversations/{conv_id}"
    for text in (first, ask):
        await client.post(f"{base}/messages", json={"text": text}, headers=headers)
    return conv_id, headers, base


async def _watch(agent, conv_id: str):
    """A desk socket watching ``conv_id``. The server reads a socket's messages in order, so
    its pong means the watch is registered: without it a message posted right after races it."""
    desk = await agent.ws_connect("/api/desk/ws")
    await desk.send_json({"type": "watch", "conversation_id": conv_id})
    await desk.send_json({"type": "ping"})
    await _receive_until(desk, lambda m: m["type"] == "pong")
    return desk


def test_shopping_state_reads_as_chips():
    constraints = {"product_type": "Rain Jackets", "gender": "women", "price_max": 150.0,
                   "exclude_brands": ["Northpeak"], "colors": ["green"], "sizes": ["M"],
                   "price_min": None, "in_stock_only": True, "keywords": []}
    assert shopping_chips(constraints) == ["rain jackets", "women", "green", "size M",
                                           "under $150", "not Northpeak"]
    assert shopping_chips({"price_min": 20, "price_max": 40, "min_rating": 4}) == [
        "$20–$40", "rated 4+"]
    assert shopping_chips(None) == [] and shopping_chips("garbage") == []


def test_handoff_reasons_and_the_summary_line():
    def tracker(*intents, **slots):
        return {"slots": slots, "events": [
            {"event": "user", "text": i, "parse_data": {"intent": {"name": i}}} for i in intents]}

    assert handoff_reason(tracker("greet", "contact_human_agent")) == "Asked for a human"
    assert handoff_reason(tracker("complaint")) == "Complaint"
    assert handoff_reason(tracker("nlu_fallback", "nlu_fallback")) == "The bot did not understand"
    assert handoff_reason(tracker("inform", verification_failures=3.0)).startswith("Could not verify")
    line = summary(["rain jackets", "women"], {"order": "ORD-1", "verified": True,
                                               "request": "cancel an order"},
                   "Asked for a human", [{"items": [1, 2, 3]}], [{"text": "x"}], "Maya Tan")
    assert line == ("Maya Tan; looking for rain jackets · women; saw 3 products; order ORD-1, "
                    "verified (wants to cancel an order); 1 change in the shop; asked for a human.")
    events = [{"event": "user", "text": "boots please", "timestamp": 1},
              {"event": "action", "name": "action_recommend_products", "timestamp": 2},
              {"event": "action", "name": "action_listen", "timestamp": 3},
              {"event": "user", "text": "/show_more", "timestamp": 4},
              {"event": "action", "name": "action_show_more", "timestamp": 5},
              {"event": "action", "name": "action_show_more", "timestamp": 6},
              {"event": "action", "name": "action_order_request", "timestamp": 7}]
    actions = bot_actions({"events": events, "slots": {"verified_order_id": "ORD-1"}},
                          [{"time": "1970-01-01T00:00:03Z", "text": "Cancelled"}])
    assert [a["text"] for a in actions] == ["Searched the catalog: “boots please”", "Cancelled",
                                            "Showed more products",
                                            "Handled the order request for ORD-1"]


def test_shop_activity_reads_the_shops_audit_log(tmp_path):
    from shop.sql.service import ShopData

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    shop = ShopData(url)
    shop.create_schema()
    shop.seed(ROOT / "data/shop")
    assert shop.change_quantity("ORD-10408", "lucas.silva@example.com", 3, 1).ok
    assert shop.cancel_order("ORD-10401", "maya.tan@example.com").ok
    assert shop.add_to_cart("c" * 32, "P00001", "Trail Runner 2", 89.0).ok
    activity = ShopActivity(url)
    try:
        events = activity.events("c" * 32, ["ORD-10401", "ORD-10408"], since=0,
                                 titles={"P00001": "Trail Runner 2"})
        texts = [e["text"] for e in events]
        assert any(t.startswith("Changed Wireless On-Ear Headphone") and "in ORD-10408 from 2 to 1 (refund $"
                   in t for t in texts), texts
        assert any(t.startswith("Cancelled ORD-10401 (refund $") for t in texts), texts
        assert "Added Trail Runner 2 to the cart (now 1)" in texts
        assert activity.events("c" * 32, ["ORD-10401"], since=2e10) == []  # before it began
        assert activity.customer_name("ORD-10401") == "Maya Tan"
    finally:
        activity.dispose()
    missing = ShopActivity(f"sqlite:///{tmp_path / 'nothing.db'}")
    assert missing.events("x", ["ORD-1"], 0) == [] and missing.customer_name("ORD-1") is None


async def test_view_queue_reason_and_resolved_list(client):
    conv_id, headers, base = await _waiting(client)
    await _agent(client)
    queue = await (await client.get("/api/desk/queue")).json()
    item = queue["waiting"][0]
    assert item["conversation_id"] == conv_id and item["reason"] == "Asked for a human"
    assert item["requested_at"] and item["waiting_since"] and item["last_shopper_text"] == "I want a human"

    view = await (await client.get(f"/api/desk/conversations/{conv_id}")).json()
    assert view["view"]["chips"] == ["rain jackets", "women", "green", "under $150", "not Northpeak"]
    assert view["view"]["reason"] == "Asked for a human"
    assert view["view"]["summary"].startswith("Looking for rain jackets · women · green")
    assert "saw 6 products" in view["view"]["summary"]
    assert view["bot"]["slots"]["search_constraints"]["product_type"] == "Rain Jackets"  # raw, for details

    assert (await client.post(f"/api/desk/conversations/{conv_id}/claim")).status == 200
    queue = await (await client.get("/api/desk/queue")).json()
    assert queue["waiting"] == [] and queue["mine"][0]["claimed_at"]
    assert (await client.post(f"/api/desk/conversations/{conv_id}/handback")).status == 200
    queue = await (await client.get("/api/desk/queue")).json()
    assert queue["mine"] == [] and queue["resolved"][0]["conversation_id"] == conv_id
    assert queue["resolved"][0]["outcome"] == "handed_back" and queue["resolved"][0]["agent"] == "alice"


async def test_the_verified_order_and_its_customer_reach_the_queue(make_client, tmp_path):
    from shop.sql.service import ShopData

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    shop = ShopData(url)
    shop.create_schema()
    shop.seed(ROOT / "data/shop")
    client = await make_client(shop_db_url=url)
    conv_id, headers, _ = await _waiting(client, "where is my order ORD-10427", "agent please")
    await _agent(client)
    item = (await (await client.get("/api/desk/queue")).json())["waiting"][0]
    assert item["context"]["order"] == "ORD-10427" and item["context"]["verified"] is True
    assert item["context"]["customer"] == "Maya Tan"
    view = (await (await client.get(f"/api/desk/conversations/{conv_id}")).json())["view"]
    assert view["summary"].startswith("Maya Tan; order ORD-10427, verified")


async def test_notes_are_for_agents_only(make_client):
    shopper = agent = await make_client()  # one app (one hub); its cookie jar is the agent's
    conv_id, headers, base = await _waiting(shopper)
    token = headers["Authorization"].split()[1]
    shopper_ws = await shopper.ws_connect(f"{base}/ws?token={token}")
    await _agent(agent)
    desk = await _watch(agent, conv_id)
    await agent.post(f"/api/desk/conversations/{conv_id}/claim")
    secret = "NOTE-7f3a: customer was rude, offer no discount"
    resp = await agent.post(f"/api/desk/conversations/{conv_id}/notes", json={"text": secret})
    assert resp.status == 201 and (await resp.json())["note"]["agent"] == "alice"
    pushed = await _receive_until(desk, lambda m: m["type"] == "note")
    assert pushed["note"]["text"] == secret
    await agent.post(f"/api/desk/conversations/{conv_id}/reply", json={"text": "the end"})

    received = []
    while True:  # everything the shopper's socket got up to the agent's reply
        msg = await asyncio.wait_for(shopper_ws.receive_json(), 10)
        received.append(msg)
        if msg.get("sender") == "agent":
            break
    assert "NOTE-7f3a" not in json.dumps(received)
    shopper_history = await (await shopper.get(f"{base}/history", headers=headers)).text()
    assert "NOTE-7f3a" not in shopper_history
    view = await (await agent.get(f"/api/desk/conversations/{conv_id}")).json()
    assert [n["text"] for n in view["notes"]] == [secret]
    assert "NOTE-7f3a" not in json.dumps(view["messages"])
    too_long = await agent.post(f"/api/desk/conversations/{conv_id}/notes", json={"text": "x" * 5000})
    assert too_long.status == 400
    await shopper_ws.close()
    await desk.close()


async def test_shoppers_see_a_display_name_never_the_login(make_client):
    shopper = agent = await make_client()  # one app (one hub); its cookie jar is the agent's
    conv_id, headers, base = await _waiting(shopper)
    await _agent(agent, "a.smith42")
    assert (await (await agent.get("/api/desk/me")).json()) == {"agent": "a.smith42", "display_name": None}
    await agent.post(f"/api/desk/conversations/{conv_id}/claim")
    await agent.post(f"/api/desk/conversations/{conv_id}/reply", json={"text": "Hello!"})
    set_name = await agent.post("/api/desk/me", json={"display_name": "  Anna  "})
    assert (await set_name.json())["display_name"] == "Anna"
    await agent.post(f"/api/desk/conversations/{conv_id}/reply", json={"text": "Anna here."})
    messages = await history(shopper, conv_id, headers)
    assert "a.smith42" not in json.dumps(messages)
    agent_lines = [m for m in messages if m["sender"] == "agent"]
    assert [m.get("agent") for m in agent_lines] == ["Anna", "Anna"]  # the current display name
    desk_view = await (await agent.get(f"/api/desk/conversations/{conv_id}")).json()
    assert {m.get("agent_login") for m in desk_view["messages"] if m["sender"] == "agent"} == {"a.smith42"}
    bad = await agent.post("/api/desk/me", json={"display_name": "x" * 41})
    assert bad.status == 400


async def test_canned_replies_come_from_an_editable_file(make_client, tmp_path):
    path = tmp_path / "canned.yml"
    path.write_text("- title: Hi\n  text: Hello, I'm {agent}.\n- text: no title\n- bad\n", "utf-8")
    client = await make_client(desk_canned_path=path)
    await _agent(client)
    replies = (await (await client.get("/api/desk/canned")).json())["replies"]
    assert replies == [{"title": "Hi", "text": "Hello, I'm {agent}."},
                       {"title": "no title", "text": "no title"}]
    path.write_text("- title: Bye\n  text: Goodbye!\n", "utf-8")
    replies = (await (await client.get("/api/desk/canned")).json())["replies"]
    assert replies == [{"title": "Bye", "text": "Goodbye!"}]
    path.unlink()
    assert (await (await client.get("/api/desk/canned")).json())["replies"] == []
    project = await make_client()  # the project's own file
    await _agent(project, "dora")
    assert len((await (await project.get("/api/desk/canned")).json())["replies"]) >= 5


async def test_typing_both_ways_and_following_after_hand_back(make_client):
    shopper = agent = await make_client()  # one app (one hub); its cookie jar is the agent's
    conv_id, headers, base = await _waiting(shopper)
    token = headers["Authorization"].split()[1]
    shopper_ws = await shopper.ws_connect(f"{base}/ws?token={token}")
    await _agent(agent, display_name="Alice")
    desk = await _watch(agent, conv_id)
    await shopper_ws.send_json({"type": "typing"})  # nobody holds it yet: nothing is sent
    await agent.post(f"/api/desk/conversations/{conv_id}/claim")
    await shopper_ws.send_json({"type": "typing"})
    typing = await _receive_until(desk, lambda m: m["type"] == "typing")
    assert typing == {"type": "typing", "conversation_id": conv_id, "sender": "shopper"}
    await desk.send_json({"type": "typing", "conversation_id": conv_id})
    seen = await _receive_until(shopper_ws, lambda m: m["type"] == "typing")
    assert seen == {"type": "typing", "sender": "agent", "agent": "Alice"}

    await agent.post(f"/api/desk/conversations/{conv_id}/handback")
    await shopper.post(f"{base}/messages", json={"text": "hi"}, headers=headers)
    got = [await _receive_until(desk, lambda m: m["type"] == "message") for _ in range(4)]
    texts = [m["message"].get("text") for m in got if m["message"]["type"] == "text"]
    assert "hi" in texts and "Hi! What are you looking for?" in texts
    await shopper_ws.close()
    await desk.close()


def test_an_older_agents_table_gets_the_display_name_column(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE gw_agents (id INTEGER PRIMARY KEY, name VARCHAR(64) UNIQUE NOT NULL,"
                     " password_hash VARCHAR(255) NOT NULL, created_at FLOAT NOT NULL)")
    store = GatewayStore(f"sqlite:///{db}")
    try:
        store.create_schema()
        store.create_schema()  # twice is fine
        store.create_agent("old", "password1", display_name="Olga")
        assert store.display_name("old") == "Olga"
    finally:
        store.dispose()


@pytest.mark.parametrize("status", ["waiting", "agent"])
async def test_shopper_messages_reach_a_desk_that_has_the_conversation_open(make_client, status):
    shopper = agent = await make_client()  # one app (one hub); its cookie jar is the agent's
    conv_id, headers, base = await _waiting(shopper)
    await _agent(agent, "erin")
    desk = await _watch(agent, conv_id)
    if status == "agent":
        await agent.post(f"/api/desk/conversations/{conv_id}/claim")
    await shopper.post(f"{base}/messages", json={"text": "still there?"}, headers=headers)
    msg = await _receive_until(desk, lambda m: m["type"] == "message"
                               and m["message"].get("text") == "still there?")
    assert msg["conversation_id"] == conv_id
    await desk.close()


async def test_unread_badges_count_shopper_messages_until_the_agent_opens_it(client):
    conv_id, headers, base = await _waiting(client)
    await _agent(client)

    async def unread() -> int:
        queue = await (await client.get("/api/desk/queue")).json()
        return next(i["unread"] for name in ("waiting", "mine", "others", "resolved")
                    for i in queue[name] if i["conversation_id"] == conv_id)

    assert await unread() == 2  # "show me green jackets", "I want a human": never opened
    await client.get(f"/api/desk/conversations/{conv_id}")  # opening it reads it
    assert await unread() == 0
    await client.post(f"{base}/messages", json={"text": "hello?"}, headers=headers)
    await client.post(f"{base}/messages", json={"text": "anyone?"}, headers=headers)
    assert await unread() == 2
    messages = await history(client, conv_id, headers)
    # the desk had it open when "hello?" arrived: it says so
    resp = await client.post(f"/api/desk/conversations/{conv_id}/read",
                             json={"message_id": messages[-2]["id"]})
    assert resp.status == 200 and (await resp.json())["read_up_to"] == messages[-2]["id"]
    assert await unread() == 1
    for bad in ({"message_id": "7"}, {"message_id": True}):
        assert (await client.post(f"/api/desk/conversations/{conv_id}/read", json=bad)).status == 400
    assert (await client.post(f"/api/desk/conversations/{'0' * 32}/read", json={})).status == 404


async def test_the_resolved_list_is_searched_on_the_server(client):
    jackets, _, _ = await _waiting(client, "show me green jackets", "I want a human")
    order, _, _ = await _waiting(client, "where is ORD-10427", "agent please")
    await _agent(client)
    for conv_id in (jackets, order):
        await client.post(f"/api/desk/conversations/{conv_id}/claim")
        await client.post(f"/api/desk/conversations/{conv_id}/close")

    async def found(query: str) -> list[str]:
        resp = await client.get("/api/desk/queue", params={"q": query})
        assert resp.status == 200
        return [i["conversation_id"] for i in (await resp.json())["resolved"]]

    assert await found("") == [order, jackets]
    assert await found("GREEN JACK") == [jackets]  # the shopper's words
    assert await found("ord-10427") == [order]  # the order (context and transcript)
    assert await found("maya.tan@example") == [order]  # the e-mail the bot verified
    assert await found("nothing like this") == []
    assert (await client.get("/api/desk/queue", params={"q": "x" * 101})).status == 400
    for limit in ("0", "101", "many"):
        assert (await client.get("/api/desk/queue", params={"limit": limit})).status == 400
    one = await (await client.get("/api/desk/queue", params={"limit": "1"})).json()
    assert [i["conversation_id"] for i in one["resolved"]] == [order]
