"""Small helpers shared by the actions: entities, ordinals, sentiment, off-loop calls (money:
``common.money``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker

T = TypeVar("T")

_ORDINALS = {
    "first": 0, "1st": 0, "one": 0, "1": 0,
    "second": 1, "2nd": 1, "two": 1, "2": 1,
    "third": 2, "3rd": 2, "three": 2, "3": 2,
    "fourth": 3, "4th": 3, "four": 3, "4": 3,
    "fifth": 4, "5th": 4, "five": 4, "5": 4,
    "sixth": 5, "6th": 5, "six": 5, "6": 5,
    "last": -1, "final": -1, "bottom": -1,
}  # fmt: skip
_ORDINAL_WORDS = re.compile(r"\b(" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")\b", re.I)


async def off_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (database, encoder, vector search) in a worker thread."""
    return await asyncio.to_thread(func, *args, **kwargs)


def entity_values(tracker: Tracker, name: str, role: str | None = None) -> list[str]:
    """Values of one entity in the latest user message (optionally of one role), in order."""
    values = []
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") != name:
            continue
        if role is not None and entity.get("role") != role:
            continue
        value = entity.get("value")
        if value not in (None, ""):
            values.append(str(value))
    return values


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


# An explicit yes to a change: a yes word, and nothing that takes it back or hedges it.
_YES = re.compile(
    r"\b(yes|yeah|yep|yup|yea|ya|y|sure|ok|okay|k|correct|right|absolutely|definitely|"
    r"of course|confirm|confirmed|go ahead|go for it|do it|do that|please do|proceed|fine|"
    r"alright|all right|affirmative|indeed|exactly|perfect|sounds good|that works|agreed?)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\?|\b(no|not|nope|nah|don'?t|do not|never|wait|hold on|stop|rather|unless|but|maybe|"
    r"perhaps|hmm|later|instead|if|what|how|why|when|which|wrong)\b",
    re.IGNORECASE,
)


def is_explicit_yes(text: str) -> bool:
    """"yes please", "ok go ahead", "sure, cancel it": a yes with nothing hedging it (no
    question, "but", "wait", "not" …). A change is made only on such a yes."""
    text = " ".join((text or "").replace("’", "'").split())
    return bool(_YES.search(text)) and not _HEDGE.search(text)


def ordinal_positions(tracker: Tracker) -> list[int]:
    """Ordinals of the latest message as list positions (0-based; -1 = last).

    Uses the ``ordinal`` entities, and falls back to ordinal words in the text.
    """
    words = entity_values(tracker, "ordinal") or _ORDINAL_WORDS.findall(latest_text(tracker))
    positions = []
    for word in words:
        position = _ORDINALS.get(word.strip().lower())
        if position is None:
            digits = re.sub(r"\D", "", word)
            position = int(digits) - 1 if digits else None
        if position is not None and position not in positions:
            positions.append(position)
    return positions


def pick(ids: list[str], position: int) -> str | None:
    """The id at a 0-based position (negative from the end), or None when out of range."""
    if not ids:
        return None
    try:
        return ids[position]
    except IndexError:
        return None


def join_values(values: list[str] | None, limit: int = 5) -> str:
    values = [str(v) for v in values or [] if v]
    return ", ".join(values[:limit]) if values else "n/a"


# A tiny sentiment lexicon for complaints: enough to tell "the zip broke, a bit annoying"
# from "this is a disgrace, worst shop ever". Scores are summed and scaled to [-1, 1].
_NEGATIVE = {
    "angry": 2, "furious": 3, "outraged": 3, "disgusting": 3, "disgrace": 3, "awful": 2,
    "terrible": 2, "horrible": 2, "worst": 3, "useless": 2, "pathetic": 3, "ridiculous": 2,
    "unacceptable": 3, "scam": 3, "fraud": 3, "hate": 2, "never": 1, "rude": 2, "liar": 3,
    "lied": 2, "joke": 1, "fed": 1, "sick": 1, "disappointed": 1, "annoyed": 1, "upset": 1,
    "frustrated": 2, "frustrating": 2, "incompetent": 3, "garbage": 2, "trash": 2, "crap": 2,
    "rubbish": 2, "nightmare": 2, "waste": 1, "lawyer": 3, "sue": 3, "refund": 0, "broken": 1,
    "damaged": 1, "late": 1, "still": 1, "again": 1, "wtf": 3, "!!": 1, "shame": 2,
}  # fmt: skip
_POSITIVE = {"thanks": 1, "thank": 1, "please": 0, "great": 2, "good": 1, "happy": 2, "love": 2}
_WORD = re.compile(r"[a-z']+|!!")


def sentiment(text: str) -> float:
    """Lexicon sentiment in [-1, 1]; negative means unhappy. SHOUTING adds to the negativity."""
    words = _WORD.findall(text.lower())
    score = sum(_POSITIVE.get(w, 0) for w in words) - sum(_NEGATIVE.get(w, 0) for w in words)
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 12 and sum(ch.isupper() for ch in letters) / len(letters) > 0.6:
        score -= 2
    return max(-1.0, min(1.0, score / 4))


def is_strongly_negative(text: str, threshold: float = -0.5) -> bool:
    return sentiment(text) <= threshold
