"""Rasa's SQL tracker store with trackers kept as objects for reading (runs inside Rasa).

Writes go to Rasa's own :class:`~rasa.core.tracker_store.SQLTrackerStore` (SQLite by default,
``var/rasa-trackers.db``), so a restart of Rasa or of the machine continues every conversation:
its constraints, shown products, verified order and any form in progress are slots and events.

Reads come from memory. Rebuilding a tracker from stored JSON looks each event's class up by
walking every ``Event`` subclass: ≈27 ms per read at 500 events, several reads per message. This
store keeps the last saved tracker object and hands out copies made by replaying its events
(``DialogueStateTracker.copy``, what Rasa itself uses for prior trackers: ≈1.5 ms). Only the first
read of a conversation after a restart goes to the database. Semantics are Rasa's: a copy is kept
on save and a copy is returned on read, ``retrieve`` returns the latest conversation session, and
events are streamed to the event broker.

Configured in ``endpoints.yml``; Rasa puts the project folder on its import path. This module is
imported by Rasa's Python 3.10 environment only and imports nothing from the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import SingletonThreadPool


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL with synchronous=NORMAL: a commit is an append to the log, not an fsync. A killed
    process loses nothing committed; a power cut may lose the last turns before a checkpoint."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class ObjectTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that reads from the tracker objects it last saved."""

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, dialect: str = "sqlite",
                 db: str = "var/rasa-trackers.db", **kwargs: Any) -> None:
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
        self.trackers: dict[str, DialogueStateTracker] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)  # streams the events, writes the new ones, commits
        self.trackers[tracker.sender_id] = tracker.copy()

    async def keys(self) -> Any:
        return sorted(set(await super().keys()) | set(self.trackers))

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> DialogueStateTracker | None:
        stored = self.trackers.get(sender_id)
        if stored is None:  # first read since start: every session, from the database
            stored = await super()._retrieve(sender_id, fetch_events_from_all_sessions=True)
            if stored is None:
                return None
            self.trackers[sender_id] = stored
        tracker = stored.copy()
        if fetch_events_from_all_sessions:
            return tracker
        sessions = get_trackers_for_conversation_sessions(tracker)
        return sessions[-1] if len(sessions) > 1 else tracker
