"""Catalog evidence for intent classification (pure: stdlib only, no Rasa).

DIET learns intents from a few hundred examples, so a short message in words it never saw
("a french press", "blush or cream", "not Glimmerlab") lands on whichever intent its character
n-grams resemble: out_of_scope, deny, even recover_password. The catalog knows better: those
words are its products, colours, materials and brands. ``Evidence`` holds

- the catalog's terms, from the lookup tables ``tools/build_lookups.py`` generates (product
  types, words of product titles, brands, colours, materials), minus every word the training
  data also uses outside shopping ("set" of "set up my account", "over", "order");
- the service words: words the training data uses (almost) only outside shopping ("refund",
  "password", "invoice", "human").

``shopping_intent`` moves a message to a shopping intent only when it names a product type,
brand or material of the catalog (or two catalog terms of any kind: "blush or cream"), names no
service word, order id or email, and the classifier put a non-shopping intent first or was
unsure of its shopping one.
Both are learned from the training data, so another shop's catalog and data give their own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SHOPPING_INTENTS = frozenset({
    "search_product", "refine_search", "product_details", "compare_products", "add_to_cart",
    "view_cart", "show_more", "more_like_this", "reject_product", "start_over", "inform",
})
CATALOG_LOOKUPS = ("product_type", "product_word", "product_noun", "gender", "brand", "color",
                   "material")
TYPE_LOOKUP = "product_type"
# one of these is evidence alone ("mugs", "women's", "no faux fur"); a colour or any other word of
# a title ("black", "power", "electric") only with a second term
STRONG_LOOKUPS = ("product_type", "product_noun", "gender", "brand", "material")
SERVICE_MIN_COUNT = 3  # a service word occurs in at least this many non-shopping examples …
SERVICE_RATIO = 5.0  # … and in this many times more of them, proportionally, than of shopping ones
CONFIDENT = 0.6  # a shopping intent DIET is this sure of is left alone
# an unsure cart intent on a message naming the catalog is a search: the cart's words are
# product words too ("storage baskets", "a bag for the gym")
CART_INTENTS = frozenset({"view_cart", "add_to_cart"})
SHORT_MESSAGE = 3  # words: a message this short that is all catalog terms is a refinement
FILLER_WORDS = frozenset({"anything", "something", "one", "ones", "maybe", "ok", "okay", "pls",
                          "please", "hmm", "nah", "oh", "like", "perhaps"})
# English function words: never evidence of a topic, however the training data spreads them
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "i", "me", "my", "mine", "we",
    "us", "our", "you", "your", "yours", "he", "him", "his", "she", "her", "they", "them", "their",
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "if", "then", "than",
    "so", "as", "and", "or", "but", "nor", "not", "no", "yes", "do", "does", "did", "done",
    "doing", "be", "is", "am", "are", "was", "were", "been", "being", "have", "has", "had",
    "having", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "to",
    "of", "in", "on", "at", "by", "for", "from", "with", "about", "into", "onto", "over", "under",
    "up", "down", "out", "off", "again", "also", "just", "still", "now", "back", "get", "got",
    "getting", "another", "other", "some", "any", "all", "each", "every", "more", "most", "much",
    "many", "way", "time", "know", "please", "there", "here", "too", "very",
})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ORDER_OR_EMAIL = re.compile(r"\b[a-z]{2,4}-\d{3,}\b|[^\s@]+@[^\s@]+\.[a-z]{2,}", re.I)


def fold(word: str) -> str:
    """Lower case, no possessive, plural folded: "Women's" → "women", "boxes" → "box" (the
    folding of ``recommender.words.stem``; rasa_ext imports nothing of the project)."""
    word = word.lower().replace("’", "'").split("'")[0]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    return [fold(t) for t in _TOKEN.findall(text.lower().replace("’", "'"))]


@dataclass(frozen=True)
class Evidence:
    terms: frozenset[tuple[str, ...]]  # folded word tuples of catalog terms
    type_terms: frozenset[tuple[str, ...]]
    service_words: frozenset[str]
    strong_terms: frozenset[tuple[str, ...]] = frozenset()
    max_len: int = 1

    @classmethod
    def learn(cls, lookups: Mapping[str, Iterable[str]],
              examples: Iterable[tuple[str, str]]) -> Evidence:
        """``lookups``: lookup table name → values; ``examples``: (text, intent) pairs. (The
        NLU's synonyms are no evidence here: "kicks" and "true" made CLINC's "is it true that
        nicotine is harder to kick than heroin" a product search; the fallback action reads
        them through the recommender's vocabulary instead.)"""
        shopping: Counter[str] = Counter()  # word → examples it occurs in
        other: Counter[str] = Counter()
        n_shop = n_other = 0
        for text, intent in examples:
            if intent in SHOPPING_INTENTS:
                shopping.update(set(tokens(text)))
                n_shop += 1
            else:
                other.update(set(tokens(text)))
                n_other += 1
        n_shop, n_other = max(1, n_shop), max(1, n_other)

        def ratio(word: str) -> float:  # how much more often, proportionally, outside shopping
            return (other[word] / n_other) / max(shopping[word] / n_shop, 0.5 / n_shop)

        ambiguous = {w for w in other if ratio(w) > 1.0}
        service = frozenset(w for w, n in other.items() if w not in FUNCTION_WORDS
                            and n >= SERVICE_MIN_COUNT and ratio(w) >= SERVICE_RATIO)
        terms: set[tuple[str, ...]] = set()
        type_terms: set[tuple[str, ...]] = set()
        strong: set[tuple[str, ...]] = set()
        for name in CATALOG_LOOKUPS:
            for value in lookups.get(name, ()):
                key = tuple(tokens(str(value)))
                if not key or (len(key) == 1 and (key[0] in ambiguous or len(key[0]) < 3
                                                   or key[0].isdigit())):
                    continue
                terms.add(key)
                if name == TYPE_LOOKUP:
                    type_terms.add(key)
                if name in STRONG_LOOKUPS:
                    strong.add(key)
        return cls(frozenset(terms), frozenset(type_terms), service, frozenset(strong),
                   max((len(t) for t in terms), default=1))

    def mentions(self, text: str) -> list[tuple[str, ...]]:
        """Catalog terms in ``text``, longest first at each position; two words written
        apart that the catalog writes as one count as that one ("smart watch", "ear buds")."""
        return self._scan(tokens(text))[0]

    def _scan(self, toks: list[str]) -> tuple[list[tuple[str, ...]], int]:
        """(terms found, how many words no term covers and no function word explains)."""
        found, uncovered, i = [], 0, 0
        while i < len(toks):
            spans = [(tuple(toks[i : i + n]), n) for n in range(min(self.max_len, len(toks) - i), 0, -1)]
            if i + 1 < len(toks):  # before the single word: "smart" may be a term of its own
                spans.insert(len(spans) - 1, ((fold(toks[i] + toks[i + 1]),), 2))
            match = next(((span, n) for span, n in spans if span in self.terms), None)
            if match:
                found.append(match[0])
                i += match[1]
            else:
                uncovered += toks[i] not in FUNCTION_WORDS and toks[i] not in FILLER_WORDS
                i += 1
        return found, uncovered

    def shopping_intent(self, text: str, intent: str | None, confidence: float = 1.0) -> str | None:
        """The shopping intent this message should have (``intent`` itself when it is a
        shopping intent DIET was unsure of), or None to keep what DIET said."""
        if not text or _ORDER_OR_EMAIL.search(text):
            return None
        if intent in SHOPPING_INTENTS and confidence >= CONFIDENT:
            return None
        toks = tokens(text)
        if self.service_words.intersection(toks):
            return None
        found, uncovered = self._scan(toks)
        # a term of a strong kind, two terms, or a short message of nothing else ("rose gold?",
        # "anything in silver?")
        short = len(toks) <= SHORT_MESSAGE and uncovered <= 1
        if not found or (not any(t in self.strong_terms for t in found) and len(found) < 2 and not short):
            return None
        if intent in SHOPPING_INTENTS and intent not in CART_INTENTS:
            return intent
        return "search_product" if any(t in self.type_terms for t in found) else "refine_search"

    def to_dict(self) -> dict[str, list]:
        return {"terms": sorted(" ".join(t) for t in self.terms),
                "type_terms": sorted(" ".join(t) for t in self.type_terms),
                "strong_terms": sorted(" ".join(t) for t in self.strong_terms),
                "service_words": sorted(self.service_words)}

    @classmethod
    def from_dict(cls, data: Mapping[str, list]) -> Evidence:
        terms = frozenset(tuple(t.split()) for t in data.get("terms", []))
        return cls(terms, frozenset(tuple(t.split()) for t in data.get("type_terms", [])),
                   frozenset(data.get("service_words", [])),
                   frozenset(tuple(t.split()) for t in data.get("strong_terms", [])),
                   max((len(t) for t in terms), default=1))
