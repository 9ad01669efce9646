"""Fallback, for a message the NLU was unsure of, and the reply to one it put out of scope.

- When its best guess is a human or a complaint, that is acted on: a missed request for a person
  costs far more than an unneeded one ("this is useless, get me a human").
- Else, unless the best guess is shopping and the message no question, the FAQ is tried with a
  stricter bar than its own (``FAQ_MIN_SCORE``): a follow-up question such as "and do I pay for
  return shipping?" is often too short for the intent classifier, not for the FAQ.
- Else, when the message read with the catalog's vocabulary names a product or changes the
  search ("rose gold?", "my daughter's 6 and needs a jumper"), it is searched.
- Else, when it asks for a kind of product the catalog does not sell ("do you sell bikinis?"),
  say so.
- Else ask to rephrase once; the second fallback in a row hands over.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.carried import not_carried_reply
from actions.common import is_strongly_negative, latest_text, off_loop
from actions.faq import FAQ_MIN_SCORE, faq_answer, is_question, question_answer
from actions.handoff import handoff
from actions.recommend import ActionRecommendProducts, asks_for_a_gift, is_refinement
from rasa_ext.intent_evidence import SHOPPING_INTENTS

FALLBACK_ACTION = "action_default_fallback"
HANDOFF_AFTER = 2  # consecutive fallbacks
_IGNORED = {"action_listen", "action_extract_slots", "action_session_start", "action_default_fallback"}


def best_guess(tracker: Tracker) -> str | None:
    """The NLU's most likely intent other than the fallback itself."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    names = [item.get("name") for item in ranking if item.get("name") != "nlu_fallback"]
    return names[0] if names else None


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
        guess, text = best_guess(tracker), latest_text(tracker)
        if guess == "contact_human_agent" or (guess == "complaint" and is_strongly_negative(text)):
            return handoff(dispatcher, tracker, response="utter_handoff" if guess == "contact_human_agent"
                           else "utter_complaint_handoff")  # fmt: skip
        # a shopping guess gives way to the FAQ only for a question ("can she swap them?")
        shopping = guess in SHOPPING_INTENTS and not is_question(text)
        answer = None if shopping else await off_loop(faq_answer, text, None)
        if answer is not None and answer.score >= FAQ_MIN_SCORE:
            dispatcher.utter_message(response="utter_faq_answer", answer=answer.answer)
            return [SlotSet("consecutive_fallbacks", 0)]
        if await off_loop(is_refinement, tracker, True) or await off_loop(asks_for_a_gift, tracker):
            # "rose gold?", "a jumper for my daughter", "a gift for my niece, she loves cosy stuff"
            # searched here, not as a follow-up action: after one, the policies would see the
            # unsure message again and fall back a second time
            events = await ActionRecommendProducts().run(dispatcher, tracker, domain)
            return [*events, SlotSet("consecutive_fallbacks", 0)]
        if await off_loop(not_carried_reply, dispatcher, tracker):  # "do you sell bikinis?"
            return [SlotSet("consecutive_fallbacks", 0)]
        count = previous_fallbacks(tracker.events) + 1
        if count >= HANDOFF_AFTER:
            return handoff(dispatcher, tracker)
        dispatcher.utter_message(response="utter_default")
        # forget the misunderstood message so the dialogue continues where it was
        return [UserUtteranceReverted(), SlotSet("consecutive_fallbacks", count)]


class ActionOutOfScope(Action):
    """A message the NLU put out of scope: a request for a kind of product the shop does not
    sell is told so ("do you sell laptops?"), a question the FAQ answers well is answered ("do
    you price match amazon?"), anything else gets the polite out-of-scope reply."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if await off_loop(not_carried_reply, dispatcher, tracker):  # "do you sell laptops?"
            return []
        answer = await off_loop(question_answer, latest_text(tracker))
        if answer is None:
            dispatcher.utter_message(response="utter_out_of_scope")
        else:
            dispatcher.utter_message(response="utter_faq_answer", answer=answer.answer)
        return []
