"""rasa_ext/tracker_store.py inside Rasa's own environment: it must behave like Rasa's
InMemoryTrackerStore (same trackers back, latest session only, copies in and out), persist like
Rasa's SQLTrackerStore (a new store on the same file, as after a restart, has every conversation
back), hand Rasa a bounded window of a long conversation that predicts as the whole one would,
and the real Rasa server of the test stack must load it from endpoints.yml."""

from __future__ import annotations

import pytest

from common.settings import ROOT
from tests.rasa_ext.rasa_env import run_in_rasa
from tools.stack import RasaStack

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


WINDOW_SCRIPT = r"""
import asyncio, sys
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, ConversationPaused,
                                      SessionStarted, SlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_ext.tracker_store import ObjectTrackerStore, user_turns

domain = Domain.load("domain.yml")
INTENTS = ["search_product", "refine_search", "show_more", "affirm", "check_order_status"]


async def rasa_turn(store, sender, i, reference, extra=()):
    # what Rasa's processor does with a message: read, add the turn's events, save
    tracker = await store.get_or_create_tracker(sender)
    events = [UserUttered(f"message {i}", {"name": INTENTS[i % 5], "confidence": 0.9}, []),
              ActionExecuted("action_recommend_products"), SlotSet("focus_product_id", f"P{i}"),
              *extra, BotUttered(f"reply {i}"), ActionExecuted("action_listen")]
    for e in events:
        tracker.update(e)
        reference.update(e)
    await store.save(tracker)


async def main():
    db = sys.argv[1]
    store = ObjectTrackerStore(domain, db=db, window_turns=4)
    reference = DialogueStateTracker("s1", domain.slots)  # every event, as Rasa would hold it
    reference.update(ActionExecuted("action_listen"))  # what get_or_create_tracker starts with
    for i in range(60):
        extra = ()
        if i == 2:
            extra = (SlotSet("order_id", "ORD-10427"), ActiveLoop("order_form"))
        if i == 3:
            extra = (ConversationPaused(),)  # an agent took over; the bot stays paused
        await rasa_turn(store, "s1", i, reference, extra)
        view = await store.retrieve("s1")
        turns = user_turns(view.events)
        assert turns == i + 1 if i < 8 else 4 <= turns <= 8, (i, turns)
        # the policies see the same last states, slots, form and pause as with the whole tracker
        assert view.past_states(domain)[-5:] == reference.past_states(domain)[-5:], i
        assert view.current_slot_values() == reference.current_slot_values(), i
        assert view.active_loop_name == "order_form" if i >= 2 else view.active_loop_name is None
        assert view.is_paused() == (i >= 3), i
        assert view.latest_message.text == f"message {i}"
    full = await store.retrieve_full_tracker("s1")
    assert len(full.events) == len(reference.events) and full.current_state() == reference.current_state()
    # the database holds every event once: Rasa's own store reads the same conversation
    rasas = await SQLTrackerStore(domain, db=db).retrieve("s1")
    assert len(rasas.events) == len(reference.events) and rasas.current_slot_values() == reference.current_slot_values()

    # another process (a Rasa replica on the same database) handles a turn: this one reads it
    replica = ObjectTrackerStore(domain, db=db, window_turns=4)
    await rasa_turn(replica, "s1", 60, reference)
    assert (await store.retrieve("s1")).latest_message.text == "message 60"
    await rasa_turn(store, "s1", 61, reference)
    assert len((await SQLTrackerStore(domain, db=db).retrieve("s1")).events) == len(reference.events)

    # a new session: the window is the new session only, with the carried-over slots
    tracker = await store.retrieve("s1")
    new_session = [ActionExecuted("action_session_start"), SessionStarted(),
                   SlotSet("order_id", "ORD-10427"), ActionExecuted("action_listen")]
    for e in new_session:
        tracker.update(e)
    await store.save(tracker)
    view = await store.retrieve("s1")
    assert list(view.events)[0].action_name == "action_session_start" and user_turns(view.events) == 0
    assert view.get_slot("order_id") == "ORD-10427" and view.get_slot("focus_product_id") is None

    # only the most recently used conversations stay in memory; the others come back from the database
    small = ObjectTrackerStore(domain, db=db, kept_conversations=2)
    others = {f"s{n}": DialogueStateTracker(f"s{n}", domain.slots) for n in (2, 3, 4)}
    for n, (sender, ref) in enumerate(others.items()):
        ref.update(ActionExecuted("action_listen"))
        await rasa_turn(small, sender, n, ref)
        await rasa_turn(small, sender, n + 10, ref)
    assert list(small.conversations) == ["s3", "s4"]
    assert (await small.retrieve("s2")).current_state() == others["s2"].current_state()
    assert list(small.conversations) == ["s4", "s2"]
    print("ok")

asyncio.run(main())
"""


def test_behaves_like_rasas_stores_and_survives_a_restart(tmp_path) -> None:
    run_in_rasa(SCRIPT, tmp_path)


def test_a_long_conversation_is_handed_to_rasa_as_a_window_that_predicts_the_same(tmp_path) -> None:
    run_in_rasa(WINDOW_SCRIPT, tmp_path)


@pytest.mark.integration
def test_the_stacks_rasa_loads_it(rasa_stack: RasaStack) -> None:
    log = (rasa_stack.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "rasa_ext.tracker_store.ObjectTrackerStore" in (ROOT / "endpoints.yml").read_text()
    assert "Using `InMemoryTrackerStore` instead" not in log, log[-3000:]
