"""An honest "we don't carry that" for a request for a kind of product the catalog does not
sell ("do you sell laptops?", "I need a new mattress"), whichever intent the NLU gave it
(``recommender.carried.not_carried`` decides)."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import join_values, latest_text
from actions.services import get_services

logger = logging.getLogger(__name__)

_service_words: tuple[int, frozenset[str]] = (0, frozenset())


def service_words() -> frozenset[str]:
    """Every word (folded) of the FAQ's questions and answers: the shop's service topics
    ("password", "address", "order"), never a product a shopper may be told the shop lacks."""
    global _service_words
    from recommender.query import words

    try:
        entries = get_services().faq.entries
    except Exception:  # the FAQ is optional help
        logger.exception("FAQ unavailable")
        return frozenset()
    if _service_words[0] != id(entries):  # built once per loaded FAQ
        texts = [text for entry in entries for text in (*entry.phrasings, entry.answer)]
        _service_words = (id(entries), frozenset(w for text in texts for w in words(text)))
    return _service_words[1]


def not_carried_reply(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Say so when the message asks for a kind of product the catalog does not sell, naming the
    departments it does (blocking); False, saying nothing, otherwise."""
    from recommender.carried import not_carried

    text = latest_text(tracker)
    if not text or text.startswith("/"):  # a button payload
        return False
    vocabulary = get_services().recommender.vocabulary
    thing = not_carried(text, vocabulary, service_words())
    if thing is None:
        return False
    departments = sorted({root.lower() for root in vocabulary.type_root.values()})
    dispatcher.utter_message(response="utter_not_carried", thing=thing,
                             departments=join_values(departments, limit=len(departments)))
    return True
