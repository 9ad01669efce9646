"""Whether the catalog carries what a message asks for (pure).

"do you sell laptops?", "I need a new mattress", "looking for a 55 inch TV": the head noun of the
request (``phrase.head_noun``, after a request verb) names no kind of product the catalog sells
(``Vocabulary.names_kind``: type and category names, their aliases, the head nouns of titles;
"laptop" of "Laptop Power Bank" is no kind), is no catalog value, size, gender, gift or filler
word, no misspelling of a catalog word, and is a word the language knows (the base encoder's
WordPiece words), and no word of the shop's service knowledge (the caller's ``service_words``,
the FAQ's: "password", "address", "order"). The WordPiece test keeps shoppers' own words for
what the shop does sell ("wellies", "rucksack") out: those go to the search, whose encoder
learns them.
"""

from __future__ import annotations

from collections.abc import Collection

from recommender.phrase import head_noun
from recommender.query import (
    GENDER_ALIASES,
    GIFT_WORDS,
    QUERY_NOISE,
    SIZE_WORDS,
    Vocabulary,
    english_words,
    scan,
    stem,
    surface_words,
    words,
)


def not_carried(text: str, vocab: Vocabulary, service_words: Collection[str] = ()) -> str | None:
    """The thing a request asks for, as the shopper wrote it ("laptops", "TV"), when the catalog
    sells nothing of that kind; None otherwise (or when the message asks for no named thing)."""
    toks = words(text or "")
    if any(m.kind in ("product_type", "category") for m in scan(text or "", vocab)[0]):
        return None
    i = head_noun(toks, QUERY_NOISE | GIFT_WORDS, framed=True)
    if i is None:
        return None
    head, said = toks[i], surface_words(text)[i]
    if len(head) < 2 or head in service_words or head in GENDER_ALIASES or head in SIZE_WORDS or head in GIFT_WORDS or \
            vocab.names_kind(head) or vocab.names_value((head,)) or vocab.spelling(head) != head:
        return None
    known = english_words()
    if not known or not ({head, said.lower(), stem(said.lower())} & known or said.lower().rstrip("s") in known):
        return None  # no word list here, or a word the language does not know: maybe a product's
    return said
