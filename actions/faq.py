"""Questions about the shop (delivery, payment, refunds, accounts …) answered from data/faq."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.carried import not_carried_reply
from actions.common import latest_intent, latest_text, off_loop, ordinal_positions
from actions.services import get_services

logger = logging.getLogger(__name__)

# The intents whose own FAQ entries are preferred: deliberately a subset of domain.yml's
# intents (the knowledge questions), so not read from it; tests/common/test_domain.py checks
# that every name here is still a domain intent.
FAQ_INTENTS = (
    "check_refund_policy", "delivery_options", "delivery_period", "check_payment_methods",
    "payment_issue", "check_cancellation_fee", "contact_customer_service", "review",
    "newsletter_subscription", "create_account", "delete_account", "edit_account",
    "recover_password", "registration_problems", "switch_account", "set_up_shipping_address",
    "place_order", "track_refund",
)  # fmt: skip
# The FAQ answers a question that another path would take (a search, a fallback, out of scope)
# only above this cosine score (its own bar is 0.55): with the base MiniLM, policy questions in
# other words score 0.65–0.99, shopping fragments ("for a man, size M", "cheaper?") up to 0.6.
FAQ_MIN_SCORE = 0.65
# asked as a question: a question mark, or an opening question word ("how do I …", "and do you …")
_QUESTION = re.compile(
    r"\?|^\W*(?:(?:and|so|ok|okay|also|btw|hmm|oh|but|well|actually)\W+)*"
    r"(?:how|what|what's|whats|where|when|why|which|who|do|does|did|can|could|is|are|will|"
    r"would|should|may)\b", re.IGNORECASE,
)  # fmt: skip


def faq_answer(text: str, intent: str | None) -> Any:
    """The FAQ's answer to ``text`` (entries of ``intent`` preferred when it is a knowledge
    question), or None; a broken FAQ never breaks the conversation (blocking). A word of the
    question that one entry alone uses counts for it, unless it is a shopping word."""
    try:
        return get_services().faq.answer(text, intent if intent in FAQ_INTENTS else None,
                                         ignore=_shopping_words())
    except Exception:  # the FAQ is optional help
        logger.exception("FAQ lookup failed")
        return None


def _shopping_words() -> Any:
    """``is_shopping_word`` with the catalog's vocabulary, or None (no keyword bonus) while the
    recommender is not built (store down, or not warmed up yet): the FAQ still answers on
    similarity alone, and never waits for the store."""
    from recommender.query import is_shopping_word

    recommender = get_services().built_recommender()
    if recommender is None:
        return None
    vocabulary = recommender.vocabulary
    return lambda word: is_shopping_word(word, vocabulary)


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text or ""))


def question_answer(text: str) -> Any:
    """The FAQ's answer to a message asked as a question that matches one of its entries at
    ``FAQ_MIN_SCORE``, or None (blocking): "do you price match amazon?", "will it come back?"."""
    if not is_question(text):
        return None
    answer = faq_answer(text, None)
    return answer if answer is not None and answer.score >= FAQ_MIN_SCORE else None


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        answer = await off_loop(faq_answer, latest_text(tracker), latest_intent(tracker))
        if answer is None or answer.score < FAQ_MIN_SCORE:
            if tracker.get_slot("last_page_ids") and ordinal_positions(tracker):
                # "the second one - does it have noise cancelling?": a shown product's question
                # the FAQ only half matches is that product's
                return [FollowupAction("action_product_details")]
            if await off_loop(not_carried_reply, dispatcher, tracker):
                return []  # "I need a new mattress", read as an address question
        if answer is None:
            dispatcher.utter_message(response="utter_faq_unknown")
            return [SlotSet("pending_offer", "handoff")]
        dispatcher.utter_message(response="utter_faq_answer", answer=answer.answer)
        return []
