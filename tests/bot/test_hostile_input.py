"""Hostile input is refused with a JSON error or kept as inert text, and nothing stored is lost."""

from __future__ import annotations

import pytest

from tests.bot.conftest import history, new_conversation


async def _with_one_turn(client):
    conv_id, headers = await new_conversation(client)
    resp = await client.post(f"/api/conversations/{conv_id}/messages", json={"text": "hi"}, headers=headers)
    assert resp.status == 200
    return conv_id, headers, await history(client, conv_id, headers)


async def test_script_tags_are_stored_and_returned_as_plain_text(client, rasa):
    stub, _ = rasa
    conv_id, headers = await new_conversation(client)
    text = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    resp = await client.post(f"/api/conversations/{conv_id}/messages", json={"text": text}, headers=headers)
    assert resp.status == 200 and resp.content_type == "application/json"
    assert (await resp.json())["messages"][0]["text"] == f"You said: {text}"
    assert (await history(client, conv_id, headers))[0]["text"] == text
    assert stub.received[-1] == (conv_id, text)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"text"', 400),
        (b"\xff\xfe\x00garbage", 400),
        (b'{"text": 42}', 400),
        (b'{"text": "   "}', 400),
        (b'{"text": "nul\\u0000byte"}', 400),
        (b'{"text": "esc \\u001b[31m"}', 400),
        (b'{"text": "' + b"a" * 201 + b'"}', 413),
        (b'{"text": "' + b"a" * 70_000 + b'"}', 413),
    ],
    ids=["malformed", "array", "string", "binary", "number", "blank", "nul", "escape", "too-long", "huge-body"],
)
async def test_bad_messages_get_json_errors_and_lose_nothing(client, rasa, body, status):
    stub, _ = rasa
    conv_id, headers, before = await _with_one_turn(client)
    sent = len(stub.received)
    resp = await client.post(f"/api/conversations/{conv_id}/messages", data=body,
                             headers={**headers, "Content-Type": "application/json"})
    assert resp.status == status
    assert resp.content_type == "application/json"
    assert (await resp.json())["error"]
    assert len(stub.received) == sent  # Rasa never saw it
    assert await history(client, conv_id, headers) == before


async def test_tokens_and_foreign_conversations(client):
    mine, my_headers = await new_conversation(client)
    other, other_headers = await new_conversation(client)
    url = "/api/conversations/{}/messages"
    cases = [
        (url.format(mine), {}, 401),
        (url.format(mine), {"Authorization": "Bearer wrong"}, 403),
        (url.format(mine), {"Authorization": "Basic abc"}, 401),
        (url.format(other), my_headers, 403),  # my token, someone else's conversation
        (url.format("0" * 32), my_headers, 404),
        (url.format("../../etc"), my_headers, 404),
    ]
    for path, headers, status in cases:
        resp = await client.post(path, json={"text": "hi"}, headers=headers)
        assert resp.status == status, (path, headers)
        assert "error" in await resp.json()
    resp = await client.get(f"/api/conversations/{other}/history", headers=my_headers)
    assert resp.status == 403
    resp = await client.post(f"/api/conversations/{other}/events", json={"type": "click"}, headers=my_headers)
    assert resp.status == 403
    assert await history(client, other, other_headers) == []


async def test_websocket_needs_the_right_token(client):
    mine, my_headers = await new_conversation(client)
    other, _ = await new_conversation(client)
    token = my_headers["Authorization"].split()[1]
    bad = await client.get(f"/api/conversations/{other}/ws?token={token}")
    assert bad.status == 403
    missing = await client.get(f"/api/conversations/{mine}/ws")
    assert missing.status == 401


async def test_websocket_turns_and_refused_frames(client):
    conv_id, headers = await new_conversation(client)
    token = headers["Authorization"].split()[1]
    async with client.ws_connect(f"/api/conversations/{conv_id}/ws?token={token}") as ws:
        await ws.send_bytes(b"\x00\x01\x02")
        assert (await ws.receive_json())["status"] == 400
        await ws.send_str("{oops")
        assert (await ws.receive_json())["status"] == 400
        await ws.send_json({"text": "x" * 500})
        assert (await ws.receive_json())["status"] == 413
        await ws.send_json({"text": "hi"})
        first = await ws.receive_json()
        second = await ws.receive_json()
        assert (first["type"], second["type"]) == ("text", "buttons")
        assert first["sender"] == "bot"
        await ws.close()
    assert [m["text"] for m in await history(client, conv_id, headers) if m["sender"] == "shopper"] == ["hi"]


async def test_rate_limit_per_conversation(make_client):
    client = await make_client(rate_conversation=3)
    conv_id, headers = await new_conversation(client)
    url = f"/api/conversations/{conv_id}/messages"
    for _ in range(3):
        assert (await client.post(url, json={"text": "hi"}, headers=headers)).status == 200
    resp = await client.post(url, json={"text": "hi again"}, headers=headers)
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert "error" in await resp.json()
    other, other_headers = await new_conversation(client)  # other conversations are unaffected
    assert (await client.post(f"/api/conversations/{other}/messages", json={"text": "hi"},
                              headers=other_headers)).status == 200


async def test_rate_limit_per_client_address(make_client):
    client = await make_client(rate_client=5)
    statuses = [(await client.post("/api/conversations")).status for _ in range(7)]
    assert statuses[:5] == [201] * 5
    assert statuses[5:] == [429, 429]
    assert (await client.get("/")).status == 200  # pages are not API calls
