"""Drill: the gateway's SQLite file becomes unwritable (read-only, disk full: the kernel refuses
the write). The shopper gets a clear 503 and nothing is acknowledged that was not kept: the
message is neither stored nor sent to Rasa. Once the file is writable again, the chat goes on."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.conftest import history, new_conversation


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[callable]:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: the unwritable-file drill needs it")
    changed: list[Path] = []

    def freeze(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"chattr +i refused here ({done.stderr.strip()}): drill skipped")
        changed.append(path)

    yield freeze
    for path in changed:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def thaw(path: Path) -> None:
    subprocess.run(["chattr", "-i", str(path)], check=True)


async def test_an_unwritable_database_refuses_clearly_and_loses_nothing(make_client, rasa, tmp_path,
                                                                      immutable) -> None:
    stub, _ = rasa
    db = tmp_path / "frozen.db"
    client = await make_client(gateway_db_url=f"sqlite:///{db}")
    conv_id, headers = await new_conversation(client)
    url = f"/api/conversations/{conv_id}/messages"
    assert (await client.post(url, json={"text": "hello"}, headers=headers)).status == 200
    sent = len(stub.received)

    for path in (db, db.with_name(db.name + "-wal")):  # WAL mode: the writes land in -wal
        if path.exists():
            immutable(path)
    resp = await client.post(url, json={"text": "where is my order?"}, headers=headers)
    assert resp.status == 503
    assert "not sent" in (await resp.json())["error"]
    assert len(stub.received) == sent  # Rasa never saw what the gateway could not keep

    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            thaw(path)
    assert (await client.post(url, json={"text": "where is my order?"}, headers=headers)).status == 200
    texts = [m["text"] for m in await history(client, conv_id, headers) if m["sender"] == "shopper"]
    assert texts == ["hello", "where is my order?"]
