"""Handing the conversation to a human: on request, on an angry complaint, after fallbacks."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import is_strongly_negative, latest_text

HANDOFF_PAYLOAD = {"type": "handoff", "status": "waiting"}


def handoff(dispatcher: CollectingDispatcher, tracker: Tracker, response: str = "utter_handoff") -> list[EventType]:
    """Tell the shopper, emit the handoff payload for the gateway, and mark the conversation."""
    if tracker.get_slot("handoff_requested"):
        dispatcher.utter_message(response="utter_handoff_already")
    else:
        dispatcher.utter_message(response=response)
    dispatcher.utter_message(json_message=dict(HANDOFF_PAYLOAD))
    return [
        SlotSet("handoff_requested", True),
        SlotSet("pending_offer", None),
        SlotSet("consecutive_fallbacks", 0),
    ]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return handoff(dispatcher, tracker)


class ActionHandleComplaint(Action):
    """An angry complaint goes straight to a human; a calm one gets an apology and the offer."""

    def name(self) -> str:
        return "action_handle_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if is_strongly_negative(latest_text(tracker)):
            return handoff(dispatcher, tracker, response="utter_complaint_handoff")
        dispatcher.utter_message(response="utter_complaint_sorry")
        return [SlotSet("pending_offer", "handoff")]
