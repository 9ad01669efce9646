"""A message the NLU was unsure of is tried on the FAQ before "didn't catch that"."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallback
from tests.actions.conftest import load_tracker, responses, slot_events


async def test_a_follow_up_policy_question_is_answered_from_the_faq(services, domain):
    tracker = load_tracker("fallback_first")
    tracker.latest_message["text"] = "and do I have to pay for return shipping?"
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_faq_answer"]
    assert "Return shipping is free" in dispatcher.messages[0]["answer"]
    assert slot_events(events) == {"consecutive_fallbacks": 0}
