"""Handoff, complaints, fallbacks and FAQ answers."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.common import sentiment
from actions.fallback import ActionDefaultFallback
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionHandleComplaint, ActionHandoff
from tests.actions.conftest import load_tracker, payloads, responses, slot_events

HANDOFF = {"type": "handoff", "status": "waiting"}


async def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


async def test_handoff_on_request(domain):
    dispatcher, events = await run(ActionHandoff(), load_tracker("handoff_request"), domain)
    assert responses(dispatcher) == ["utter_handoff"]
    assert payloads(dispatcher) == [HANDOFF]
    assert slot_events(events)["handoff_requested"] is True


async def test_angry_complaint_hands_over(domain):
    dispatcher, events = await run(ActionHandleComplaint(), load_tracker("complaint_angry"), domain)
    assert responses(dispatcher) == ["utter_complaint_handoff"]  # not the calm apology
    assert payloads(dispatcher) == [HANDOFF]
    assert slot_events(events) == {"handoff_requested": True, "pending_offer": None, "consecutive_fallbacks": 0}


async def test_calm_complaint_offers_a_human(domain):
    dispatcher, events = await run(ActionHandleComplaint(), load_tracker("complaint_calm"), domain)
    assert responses(dispatcher) == ["utter_complaint_sorry"] and not payloads(dispatcher)
    assert slot_events(events) == {"pending_offer": "handoff"}


def test_sentiment_lexicon_orders_messages():
    assert sentiment("This is the WORST shop ever, a disgrace") < sentiment("the zip broke") < sentiment("great, thanks")


async def test_first_fallback_asks_to_rephrase(domain):
    dispatcher, events = await run(ActionDefaultFallback(), load_tracker("fallback_first"), domain)
    assert responses(dispatcher) == ["utter_default"] and not payloads(dispatcher)
    assert events[0]["event"] == "rewind"
    assert slot_events(events)["consecutive_fallbacks"] == 1


async def test_second_fallback_in_a_row_hands_over(domain):
    dispatcher, events = await run(ActionDefaultFallback(), load_tracker("fallback_second"), domain)
    assert responses(dispatcher) == ["utter_handoff"]  # no "please rephrase" a second time
    assert payloads(dispatcher) == [HANDOFF]
    assert slot_events(events) == {"handoff_requested": True, "pending_offer": None, "consecutive_fallbacks": 0}
    assert "rewind" not in [e["event"] for e in events]


async def test_fallbacks_not_in_a_row_do_not_hand_over(domain):
    dispatcher, events = await run(ActionDefaultFallback(), load_tracker("fallback_after_success"), domain)
    assert responses(dispatcher) == ["utter_default"] and not payloads(dispatcher)
    assert slot_events(events)["consecutive_fallbacks"] == 1  # the greeting in between reset the count
    assert events[0]["event"] == "rewind"


async def test_faq_answer_comes_from_the_faq_file(services, domain):
    dispatcher, _ = await run(ActionAnswerFaq(), load_tracker("faq_delivery_period"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq_answer"
    [entry] = services.faq.entries_for("delivery_period")
    assert message["answer"] == entry.answer
    assert message["answer"].startswith("Orders leave our warehouse within 1 business day.")
