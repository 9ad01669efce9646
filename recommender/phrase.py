"""The head noun of a request: what the shopper asks for, in their own words (pure).

"a throw for the sofa" asks for a throw, "looking for a 55 inch TV" for a TV, "I need a suit for
a job interview" for a suit: the last word of the first noun phrase, after the verbs that frame
a request and before a preposition or a clause break. Words the caller calls noise (articles,
price and filler words) are no part of a phrase; a vague phrase ("something cosy", "a gift")
names no head at all. Tokens are ``recommender.query.words`` (folded, punctuation kept).
"""

from __future__ import annotations

from collections.abc import Collection

# what ends a noun phrase: prepositions, relative and conjunction words …
PREPOSITIONS = frozenset({
    "for", "with", "to", "at", "on", "in", "under", "over", "below", "above", "from", "of", "by",
    "about", "that", "which", "who", "than", "and", "or", "but", "like", "if", "so", "because",
    "while", "when", "then", "without", "not", "no",
})
PUNCTUATION = frozenset({",", ".", ";", "!", "?"})  # … and clause breaks
# the verbs that frame a request: what came before them is no part of the thing asked for
FRAME_VERBS = frozenset({
    "need", "want", "looking", "look", "after", "searching", "search", "sell", "carry", "stock",
    "have", "got", "show", "buy", "find", "get", "offer", "recommend", "suggest",
})
# a phrase with one of these for its noun asks for nothing named ("something cosy", "a gift")
VAGUE_NOUNS = frozenset({"something", "anything", "stuff", "thing", "one", "ones", "idea", "gift",
                         "present", "pressie", "prezzie", "option", "item", "everything",
                         "it", "them", "they", "this", "these", "those", "he", "she", "him", "her"})


def head_noun(toks: list[str], noise: Collection[str], framed: bool = False) -> int | None:
    """The index in ``toks`` of the head noun of the first noun phrase, or None when the first
    phrase is vague ("something cosy", "them"), a verb follows the request verb ("I want to
    return it"), the message opens with a preposition ("with a hood" refines, it asks for no
    hood) or has no phrase. ``framed``: only a phrase after a request verb counts ("do you
    sell laptops", "I need a new mattress", "looking for a 55 inch TV")."""
    phrase: list[int] = []
    seen_frame = False
    for i, tok in enumerate([*toks, "."]):
        if tok in VAGUE_NOUNS:
            return None
        if tok in FRAME_VERBS:
            phrase, seen_frame = [], True
        elif tok == "to" and not phrase and seen_frame:
            return None  # "I want to talk to someone": a verb follows, no thing
        elif tok in PREPOSITIONS or tok in PUNCTUATION:
            if phrase and toks[phrase[-1]].isalpha() and (seen_frame or not framed):
                return phrase[-1]
            if not phrase and not seen_frame and tok in PREPOSITIONS:
                return None
            phrase = []
        elif tok not in noise:
            phrase.append(i)
    return None
