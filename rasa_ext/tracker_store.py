"""Rasa's SQL tracker store, read from tracker objects in memory, with a bounded window of a long
conversation handed to Rasa (runs inside Rasa; docs/architecture.md §5).

Writes go to Rasa's own :class:`~rasa.core.tracker_store.SQLTrackerStore` tables (SQLite by
default, ``var/rasa-trackers.db``; PostgreSQL in production), so a restart of Rasa or of the
machine continues every conversation: its constraints, shown products, verified order and any
form in progress are slots and events.

Reads come from memory. Rebuilding a tracker from stored JSON costs ≈27 ms at 500 events, several
reads per message; this store keeps the objects and hands out copies (``DialogueStateTracker.copy``
replays the events: cheap for a short tracker). A conversation another process wrote to (a Rasa
replica on the same database) is read again from the database: each read first compares the
number of the conversation's stored events with the number this store knows. The
``KEPT_CONVERSATIONS`` most recently used conversations are kept.

What Rasa is handed (``retrieve``) is the latest session, and of a long session only its last
``WINDOW_TURNS`` to ``2 × WINDOW_TURNS`` user turns, after events that restore the state at the
window's start (slot values, an active form, a paused conversation). Every policy turns the
tracker it is given into states on each prediction, and the action server is sent all its
events: a turn's cost grew with the conversation (turn 80 cost 2× turn 5). The policies look at
``max_history`` 5 states, a few turns; actions read recent events only. The full history stays
in the database and in memory for ``retrieve_full_tracker`` (the HTTP API's tracker, which the
agent desk reads) and for the next window.

Configured in ``endpoints.yml``; Rasa puts the project folder on its import path. This module is
imported by Rasa's Python 3.10 environment only and imports nothing from the project.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import SingletonThreadPool

WINDOW_TURNS = 8  # user turns a window starts with; it grows to twice that, then is cut back
KEPT_CONVERSATIONS = 5_000  # in memory, the most recently used; the others are read from the database


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL with synchronous=NORMAL: a commit is an append to the log, not an fsync. A killed
    process loses nothing committed; a power cut may lose the last turns before a checkpoint."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def latest_session_start(events: list[Event]) -> int:
    """Index of the latest session's ``action_session_start`` (0 if there is none)."""
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME:
            return i
    return 0


def window_start(events: list[Event], session: int, turns: int) -> int:
    """Index where the window of the last ``turns`` user turns after ``session`` begins (the
    ``action_listen`` before its first user message), or ``session`` if the session is shorter."""
    seen = 0
    for i in range(len(events) - 1, session, -1):
        if isinstance(events[i], UserUttered):
            seen += 1
            if seen == turns:
                before = events[i - 1]
                listen = isinstance(before, ActionExecuted) and before.action_name == ACTION_LISTEN_NAME
                return i - 1 if listen and i - 1 > session else i
    return session


def user_turns(events: Iterable[Event]) -> int:
    return sum(isinstance(e, UserUttered) for e in events)


def window(full: DialogueStateTracker, slots: Iterable[Any], turns: int = WINDOW_TURNS
           ) -> tuple[DialogueStateTracker, int]:
    """The tracker Rasa is handed for ``full``: its latest session, or of a session longer than
    ``2 × turns`` user turns the last ``turns``, after events that set the state at their start.
    Returns it and the number of those restoring events."""
    events = list(full.events)
    session = latest_session_start(events)
    start = session
    if user_turns(events[session:]) > 2 * turns:
        start = window_start(events, session, turns)
    if start == session:
        return DialogueStateTracker.from_events(full.sender_id, events[session:], slots,
                                                sender_source=full.sender_source), 0
    before = DialogueStateTracker.from_events(full.sender_id, events[session:start], slots)
    at = events[start].timestamp
    restore: list[Event] = [SlotSet(slot.name, slot.value, timestamp=at)
                            for slot in before.slots.values() if slot.value != slot.initial_value]
    if before.active_loop_name:
        restore.append(ActiveLoop(before.active_loop_name, timestamp=at))
    if before.is_paused():
        restore.append(ConversationPaused(timestamp=at))
    view = DialogueStateTracker.from_events(full.sender_id, restore + events[start:], slots,
                                            sender_source=full.sender_source)
    return view, len(restore)


@dataclass
class _Conversation:
    full: DialogueStateTracker  # every session, as stored
    stored: int  # events of this conversation in the database
    view: DialogueStateTracker  # what Rasa is handed (see ``window``)
    restoring: int  # events at the start of ``view`` that are not in ``full``


class ObjectTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that reads from the tracker objects it last saved, windowed."""

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, dialect: str = "sqlite",
                 db: str = "var/rasa-trackers.db", window_turns: int = WINDOW_TURNS,
                 kept_conversations: int = KEPT_CONVERSATIONS, **kwargs: Any) -> None:
        if dialect == "sqlite" and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(domain=domain, dialect=dialect, host=host, db=db, event_broker=event_broker,
                         **kwargs)
        if dialect == "sqlite":
            # one kept connection per thread instead of Rasa's connection per session: closing the
            # last connection of a WAL database checkpoints it (an fsync on every save)
            self.engine.dispose()
            self.engine = create_engine(self.engine.url, poolclass=SingletonThreadPool)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sessionmaker(bind=self.engine)
        self.window_turns = int(window_turns)
        self.kept = int(kept_conversations)
        self.conversations: OrderedDict[str, _Conversation] = OrderedDict()

    # ---- the database ----------------------------------------------------------------------
    def _count(self, sender_id: str) -> int:
        with self.session_scope() as session:
            return session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).count()

    def _insert(self, sender_id: str, events: list[Event]) -> None:
        """The rows Rasa's ``SQLTrackerStore.save`` writes for ``events``."""
        with self.session_scope() as session:
            for e in events:
                data = e.as_dict()
                session.add(self.SQLEvent(
                    sender_id=sender_id, type_name=e.type_name, timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data)))
            session.commit()

    async def _load(self, sender_id: str) -> _Conversation | None:
        """The conversation as this store knows it, read again if another process wrote to it."""
        known = self.conversations.get(sender_id)
        stored = self._count(sender_id)
        if known is not None and known.stored == stored:
            self.conversations.move_to_end(sender_id)
            return known
        self.conversations.pop(sender_id, None)
        if stored == 0:
            return None
        full = await super()._retrieve(sender_id, fetch_events_from_all_sessions=True)
        if full is None:
            return None
        return self._keep(full, stored)

    def _keep(self, full: DialogueStateTracker, stored: int) -> _Conversation:
        view, restoring = window(full, self.domain.slots, self.window_turns)
        conversation = _Conversation(full, stored, view, restoring)
        self.conversations[full.sender_id] = conversation
        self.conversations.move_to_end(full.sender_id)
        while len(self.conversations) > self.kept:
            self.conversations.popitem(last=False)
        return conversation

    # ---- Rasa's interface ------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        known = self.conversations.get(tracker.sender_id)
        if known is None or not _extends(tracker, known.view):
            # not what this store handed out (a new conversation, or one replaced through the API):
            # Rasa's own save, and the next read goes to the database
            self.conversations.pop(tracker.sender_id, None)
            await super().save(tracker)
            return
        new = list(tracker.events)[len(known.view.events):]
        if not new:
            return
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new, tracker.sender_id)
        self._insert(tracker.sender_id, new)
        for e in new:
            known.full.update(e)
        known.stored += len(new)
        turns = user_turns(list(tracker.events)[known.restoring:])
        starts_session = any(isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME
                             for e in new)
        if starts_session or turns > 2 * self.window_turns:
            self._keep(known.full, known.stored)  # a new window, from the full history
        else:
            known.view = tracker.copy()

    async def keys(self) -> Any:
        return sorted(set(await super().keys()) | set(self.conversations))

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> DialogueStateTracker | None:
        conversation = await self._load(sender_id)
        if conversation is None:
            return None
        return (conversation.full if fetch_events_from_all_sessions else conversation.view).copy()


def _extends(tracker: DialogueStateTracker, view: DialogueStateTracker) -> bool:
    """``tracker`` is ``view`` (a copy of it: the same event objects) with events added."""
    n = len(view.events)
    if len(tracker.events) < n or tracker.sender_id != view.sender_id:
        return False
    return n == 0 or tracker.events[n - 1] is view.events[-1] or tracker.events[n - 1] == view.events[-1]
