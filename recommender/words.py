"""Words for query understanding, matching and explanations: a light tokeniser with stopwords
and plural folding ("boots" and "boot" are one word when a title is matched against a wish).

Retrieval does not use these: the ``keywords`` vector is Qdrant's BM25 (``recommender/bm25.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that", "the", "their", "this", "to", "was", "we", "with", "you", "your", "im", "looking", "want", "need", "some", "any", "show"]
)


@lru_cache(maxsize=1 << 16)  # a catalog repeats its words
def stem(token: str) -> str:
    """Tiny plural folding: boots→boot, dresses→dress, accessories→accessory."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "shes", "ches", "xes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens with stopwords removed and plurals folded."""
    words = _TOKEN.findall(text.lower().replace("’", "'"))
    return [stem(w.split("'")[0]) for w in words if w not in STOPWORDS]
