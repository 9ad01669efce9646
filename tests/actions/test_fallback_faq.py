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


async def test_an_unsure_request_for_a_person_is_honoured(services, domain):
    tracker = load_tracker("fallback_first")
    tracker.latest_message.update(text="this is useless, get me a human", intent_ranking=[
        {"name": "nlu_fallback", "confidence": 0.4}, {"name": "complaint", "confidence": 0.32},
        {"name": "switch_account", "confidence": 0.2}])  # fmt: skip
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_handoff"]
    assert slot_events(events)["handoff_requested"] is True


async def test_a_shopping_fragment_is_not_answered_from_the_faq(services, domain):
    tracker = load_tracker("fallback_first")
    tracker.latest_message.update(text="for a man, size M", intent_ranking=[
        {"name": "nlu_fallback", "confidence": 0.4}, {"name": "refine_search", "confidence": 0.37}])
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_default"]
