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
    store.add_messages(conv_id, "bot", [{"type": "text", "text": "hello"},
                                        {"type": "products", "items": [{"id": "P1"}], "relaxed": []}],
                       reply_to=shopper["id"])
    hist = store.history(conv_id)
    assert [(m["sender"], m["type"]) for m in hist] == [("shopper", "text"), ("bot", "text"), ("bot", "products")]
    assert hist[0]["text"] == "<b>hi</b> ✓" and hist[0]["delivered"] is False
    assert store.products_shown(conv_id)[0]["query"] == "<b>hi</b> ✓"


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
