"""Fallback: a message the NLU was unsure of is first tried on the FAQ (a follow-up question such
as "and do I pay for return shipping?" is often too short for the intent classifier, not for the
FAQ's own threshold); else ask to rephrase once; the second fallback in a row hands over."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, off_loop
from actions.faq import faq_answer
from actions.handoff import handoff

FALLBACK_ACTION = "action_default_fallback"
HANDOFF_AFTER = 2  # consecutive fallbacks
_IGNORED = {"action_listen", "action_extract_slots", "action_session_start", "action_default_fallback"}


def previous_fallbacks(events: list[dict[str, Any]]) -> int:
    """How many user turns right before the current one ended in the fallback action."""
    turns: list[list[str]] = []
    for event in events:
        if event.get("event") == "user":
            turns.append([])
        elif event.get("event") == "action" and turns:
            turns[-1].append(event.get("name") or "")
    count = 0
    for actions in reversed(turns[:-1]):  # the last turn is the one being handled now
        if FALLBACK_ACTION not in actions or any(a not in _IGNORED for a in actions):
            break
        count += 1
    return count


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return FALLBACK_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        answer = await off_loop(faq_answer, latest_text(tracker), None)
        if answer is not None:
            dispatcher.utter_message(response="utter_faq_answer", answer=answer.answer)
            return [SlotSet("consecutive_fallbacks", 0)]
        count = previous_fallbacks(tracker.events) + 1
        if count >= HANDOFF_AFTER:
            return handoff(dispatcher, tracker)
        dispatcher.utter_message(response="utter_default")
        # forget the misunderstood message so the dialogue continues where it was
        return [UserUtteranceReverted(), SlotSet("consecutive_fallbacks", count)]
