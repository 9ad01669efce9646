"""The gateway store on SQLite, and on PostgreSQL when AISLE_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot import security
from bot.__main__ import main as cli
from bot.store import AgentExists, GatewayStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gw.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = GatewayStore(url)
    store.create_schema()
    yield store
    store.dispose()


def test_conversation_token_is_hashed(store):
    conv_id, token = store.create_conversation()
    row = store.get_conversation(conv_id)
    assert row["token_hash"] != token and token not in row["token_hash"]
    assert security.token_matches(token, row["token_hash"])
    assert not security.token_matches(token + "x", row["token_hash"])


def test_messages_keep_order_and_content(store):
    conv_id, _ = store.create_conversation()
    shopper = store.add_message(conv_id, "shopper", {"type": "text", "text": "<b>hi</b> ✓"}, delivered=False)
    for body in ({"type": "text", "text": "hello"},
                 {"type": "products", "items": [{"id": "P1"}], "relaxed": []}):
        store.add_message(conv_id, "bot", body, reply_to=shopper["id"])
    hist = store.history(conv_id)
    assert [(m["sender"], m["type"]) for m in hist] == [("shopper", "text"), ("bot", "text"), ("bot", "products")]
    assert hist[0]["text"] == "<b>hi</b> ✓" and hist[0]["delivered"] is False
    assert store.products_shown(conv_id)[0]["query"] == "<b>hi</b> ✓"


def test_a_reply_is_stored_with_its_message_marked_delivered(store):
    conv_id, _ = store.create_conversation()
    shopper = store.add_message(conv_id, "shopper", {"type": "text", "text": "boots"}, delivered=False)
    other = store.add_message(conv_id, "shopper", {"type": "text", "text": "later"}, delivered=False)
    saved = store.record_reply(conv_id, shopper["id"], [{"type": "text", "text": "Here"},
                                                        {"type": "products", "items": [{"id": "P1"}]}])
    assert [m["type"] for m in saved] == ["text", "products"] and saved[0]["id"] < saved[1]["id"]
    delivered = {m["text"]: m["delivered"] for m in store.history(conv_id) if m["sender"] == "shopper"}
    assert delivered == {"boots": True, "later": False}
    assert other["id"] < saved[0]["id"]


def test_status_transitions_are_atomic(store):
    conv_id, _ = store.create_conversation()
    assert not store.claim(conv_id, "a")  # not waiting yet
    assert store.mark_waiting(conv_id)
    assert not store.mark_waiting(conv_id)
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda n: store.claim(conv_id, f"agent{n}"), range(8)))
    assert wins.count(True) == 1
    holder = f"agent{wins.index(True)}"
    assert not store.hand_back(conv_id, "someone-else")
    assert store.hand_back(conv_id, holder)
    assert store.get_conversation(conv_id)["status"] == "bot"


def test_agents_and_sessions(store):
    name = "agent-" + secrets.token_hex(4)
    store.create_agent(name, "pa55word!")
    with pytest.raises(AgentExists):
        store.create_agent(name, "other")
    assert store.login(name, "wrong", 1) is None
    token = store.login(name, "pa55word!", 1)
    assert token and store.session_agent(token) == name
    assert store.session_agent("forged") is None
    expired = store.login(name, "pa55word!", -1)
    assert store.session_agent(expired) is None
    store.logout(token)
    assert store.session_agent(token) is None


def test_password_hash_is_salted_scrypt():
    first, second = security.hash_password("same"), security.hash_password("same")
    assert first != second and first.startswith("scrypt$")
    assert security.verify_password("same", first) and not security.verify_password("Same", first)
    assert not security.verify_password("same", "garbage")


def test_cli_creates_agent(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("AISLE_GATEWAY_DB_URL", url)
    assert cli(["create-agent", "dora", "--password", "long-enough"]) == 0
    assert cli(["create-agent", "dora", "--password", "long-enough"]) == 1
    assert cli(["create-agent", "eve", "--password", "short"]) == 2
    assert GatewayStore(url).login("dora", "long-enough", 1)
    assert "created" in capsys.readouterr().out


def _resolved(store, context, *texts, agent="alice"):
    """A conversation whose shopper wrote ``texts``, handed over with ``context`` and closed."""
    conv_id, _ = store.create_conversation()
    for text in texts:
        store.add_message(conv_id, "shopper", {"type": "text", "text": text})
    store.add_message(conv_id, "bot", {"type": "text", "text": "I'm connecting you with a human agent."})
    store.mark_waiting(conv_id)
    store.set_handoff_context(conv_id, "Asked for a human", context)
    assert store.claim(conv_id, agent) and store.close_conversation(conv_id, agent)
    return conv_id


def test_the_resolved_list_searches_customer_email_order_and_transcript(store):
    maya = _resolved(store, {"customer": "Maya Tan", "email": "maya.tan@example.com",
                             "order": "ORD-10427", "verified": True}, "Where is my parcel?")
    leo = _resolved(store, {"email": "leo@example.com"}, "the zip of my 100% wool jacket broke")
    anon = _resolved(store, {}, "Ich möchte mit einem Menschen sprechen", "ORD-10999 please")

    def found(search):  # among this test's (PostgreSQL's database is shared by the runs)
        return [i["conversation_id"] for i in store.queue("alice", search=search)["resolved"]
                if i["conversation_id"] in (maya, leo, anon)]

    assert found(None) == [anon, leo, maya]  # newest first
    assert found("maya") == [maya] and found("TAN@EXAMPLE") == [maya]  # name, e-mail, any case
    assert found("ord-10427") == [maya] and found("ORD-10") == [anon, maya]  # order, or typed
    assert found("zip of my") == [leo] and found("MENSCHEN") == [anon]  # the transcript
    assert found("connecting you") == [anon, leo, maya]  # the bot's words are the transcript too
    assert found("100%") == [leo] and found("%") == [leo] and found("_") == []  # literal, no wildcards
    assert found("' OR 1=1 --") == [] and found("nobody") == []
    assert [i["conversation_id"] for i in store.queue("alice", resolved_limit=2)["resolved"]] == [anon, leo]


def test_unread_counts_shopper_messages_since_the_agent_last_read(store):
    conv_id, _ = store.create_conversation()
    first = store.add_message(conv_id, "shopper", {"type": "text", "text": "hello"})
    reply = store.add_message(conv_id, "bot", {"type": "text", "text": "hi"})
    store.mark_waiting(conv_id)

    def unread(agent):
        return next(i["unread"] for i in store.queue(agent)["waiting"] if i["conversation_id"] == conv_id)

    assert unread("alice") == 1 and unread("bob") == 1  # never opened: every shopper message
    assert store.mark_read("alice", conv_id) == reply["id"]  # up to the newest message
    assert unread("alice") == 0 and unread("bob") == 1  # per agent
    second = store.add_message(conv_id, "shopper", {"type": "text", "text": "anyone?"})
    third = store.add_message(conv_id, "shopper", {"type": "text", "text": "hello??"})
    assert unread("alice") == 2
    assert store.mark_read("alice", conv_id, second["id"]) == second["id"]
    assert unread("alice") == 1
    store.mark_read("alice", conv_id, first["id"])  # an older mark never moves it back
    assert unread("alice") == 1
    assert store.mark_read("alice", conv_id, 10**9) == third["id"]  # at most the newest
    assert unread("alice") == 0
