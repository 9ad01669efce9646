"""rasa_ext/tracker_store.py inside Rasa's own environment: it must behave like Rasa's
InMemoryTrackerStore (same trackers back, latest session only, copies in and out), persist like
Rasa's SQLTrackerStore (a new store on the same file, as after a restart, has every conversation
back), and the real Rasa server of the test stack must load it from endpoints.yml."""

from __future__ import annotations

import subprocess

import pytest

from common.settings import ROOT
from tools.stack import RASA_BIN, RasaStack

RASA_PYTHON = RASA_BIN.parent / "python"

SCRIPT = r"""
import asyncio, sys
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet,
                                      UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_ext.tracker_store import ObjectTrackerStore

domain = Domain.load("domain.yml")


def turn(tracker, text, slot_value):
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text, {"name": "search_product", "confidence": 0.9}, []))
    tracker.update(ActionExecuted("action_recommend_products"))
    tracker.update(SlotSet("order_id", slot_value))
    tracker.update(BotUttered("Take a look", {"custom": {"type": "products", "items": [{"id": "P1"}]}}))


async def main():
    db = sys.argv[1]
    ours, rasas = ObjectTrackerStore(domain, db=db), InMemoryTrackerStore(domain)
    tracker = DialogueStateTracker("s1", domain.slots)
    for i in range(30):
        turn(tracker, f"boots {i}", f"type {i}")
    for store in (ours, rasas):
        await store.save(tracker)
    # a second session: retrieve gives the latest one only, the full tracker both
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    turn(tracker, "tents", "tents")
    for store in (ours, rasas):
        await store.save(tracker)
    tracker.update(SlotSet("order_id", "changed after saving"))  # must not leak into the store

    mine, theirs = await ours.retrieve("s1"), await rasas.retrieve("s1")
    assert mine.current_state() == theirs.current_state()
    assert len(mine.events) == len(theirs.events) == 7, len(mine.events)
    assert mine.get_slot("order_id") == "tents"
    full_mine, full_theirs = await ours.retrieve_full_tracker("s1"), await rasas.retrieve_full_tracker("s1")
    assert full_mine.current_state() == full_theirs.current_state()
    assert len(full_mine.events) == 30 * 5 + 7
    mine.update(SlotSet("order_id", "mutated copy"))  # a caller's changes stay its own
    full_mine.update(SlotSet("order_id", "mutated full copy"))
    assert (await ours.retrieve("s1")).get_slot("order_id") == "tents"
    assert (await ours.retrieve_full_tracker("s1")).get_slot("order_id") == "tents"
    assert await ours.retrieve("nobody") is None and await ours.retrieve_full_tracker("nobody") is None
    assert list(await ours.keys()) == ["s1"]

    # a restart: a new store on the same file reads the conversation back from SQLite
    restarted = ObjectTrackerStore(domain, db=db)
    back = await restarted.retrieve("s1")
    assert back.current_state() == theirs.current_state() and back.get_slot("order_id") == "tents"
    assert len((await restarted.retrieve_full_tracker("s1")).events) == 30 * 5 + 7
    turn(back, "one more", "after restart")
    await restarted.save(back)
    rasa_sql = SQLTrackerStore(domain, db=db)  # what Rasa's own store makes of the same file
    assert (await rasa_sql.retrieve("s1")).current_state() == (await restarted.retrieve("s1")).current_state()
    assert (await rasa_sql.retrieve("s1")).get_slot("order_id") == "after restart"
    print("ok")

asyncio.run(main())
"""


def test_behaves_like_rasas_stores_and_survives_a_restart(tmp_path) -> None:
    if not RASA_PYTHON.exists():
        pytest.skip("Rasa's environment is not installed (make setup)")
    result = subprocess.run([str(RASA_PYTHON), "-c", SCRIPT, str(tmp_path / "trackers.db")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


@pytest.mark.integration
def test_the_stacks_rasa_loads_it(rasa_stack: RasaStack) -> None:
    log = (rasa_stack.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "rasa_ext.tracker_store.ObjectTrackerStore" in (ROOT / "endpoints.yml").read_text()
    assert "Using `InMemoryTrackerStore` instead" not in log, log[-3000:]
