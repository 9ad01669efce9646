"""Answers from the shop's FAQ (data/faq/faq.yml), ranked by meaning with the sentence encoder.

Each entry's question and alternatives are encoded once; a shopper's message is matched
against all of them and an entry scores its best match (cosine similarity). Entries of the
intent Rasa predicted are preferred: the best of them is the answer, so "how much?" after
``check_cancellation_fee`` still finds the fee answer, unless another entry matches the text
clearly better (by ``intent_margin``), which catches a misclassified intent. Without an
intent (or for an intent with no entries) an answer needs ``min_score``; below it there is
no answer (None) and the bot says it does not know rather than answer something else. The index reloads when the file changes, so
editing the YAML changes the answers without code changes or restarts. Built by
:meth:`FaqIndex.from_settings`, it also follows the published encoder (``recommender/active.py``):
after a promotion or rollback the phrasings are re-encoded with the new encoder and swapped in
together with it.

    from recommender.encoder import get_encoder
    faq = FaqIndex.from_file("data/faq/faq.yml", get_encoder())
    faq.answer("can I pay with paypal?", intent="check_payment_methods")
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import yaml

from recommender.words import tokenize

if TYPE_CHECKING:
    from recommender.active import Follower, Published

log = logging.getLogger(__name__)

# Calibrated on the base MiniLM encoder: paraphrases of an entry score 0.55–0.97, unrelated
# chat (weather, jokes, product searches) 0.2–0.5.
DEFAULT_MIN_SCORE = 0.55
# With an intent from Rasa, its entries win unless another entry matches the text this much better.
DEFAULT_INTENT_MARGIN = 0.2
# added to an entry whose phrasings alone use a word of the question: paraphrases that share the
# entry's one telling word score only 0.43–0.62 with the base MiniLM ("I'm a student, do I get
# money off?" against "Do you have discount codes or a student discount?")
KEYWORD_BONUS = 0.25


class TextEncoder(Protocol):
    def encode_query(self, text: str) -> np.ndarray: ...

    def encode_documents(self, texts: list[str]) -> np.ndarray: ...


class FaqError(ValueError):
    """The FAQ file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class FaqEntry:
    intent: str | None
    question: str
    alternatives: tuple[str, ...]
    answer: str

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternatives)


@dataclass(frozen=True)
class _Index:
    """The entries with the vectors of their phrasings and the encoder that made them: replaced
    as a whole, so a request never scores with one encoder against another's vectors."""

    encoder: TextEncoder
    entries: list[FaqEntry]
    owners: np.ndarray
    vectors: np.ndarray
    words: dict[str, frozenset[int]]  # word (stem) of a phrasing → the entries using it


@dataclass(frozen=True)
class FaqAnswer:
    question: str
    answer: str
    score: float  # cosine similarity of the best-matching phrasing (+ a keyword bonus, no intent bonus)
    intent: str | None = None


def load_entries(path: str | Path) -> list[FaqEntry]:
    """Read and check the YAML file: ``entries: [{intent, question, alternatives, answer}]``."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FaqError(f"{path}: FAQ file missing") from exc
    except yaml.YAMLError as exc:
        raise FaqError(f"{path}: invalid YAML ({exc})") from exc
    raw = document.get("entries") if isinstance(document, dict) else document
    if not isinstance(raw, list) or not raw:
        raise FaqError(f"{path}: expected a non-empty list under 'entries'")
    entries = []
    for number, item in enumerate(raw, start=1):
        entries.append(_entry(item, f"{path} entry {number}"))
    return entries


def _entry(item: Any, where: str) -> FaqEntry:
    if not isinstance(item, dict):
        raise FaqError(f"{where}: expected a mapping")
    question, answer, intent = item.get("question"), item.get("answer"), item.get("intent")
    if not isinstance(question, str) or not question.strip():
        raise FaqError(f"{where}: 'question' is required")
    if not isinstance(answer, str) or not answer.strip():
        raise FaqError(f"{where}: 'answer' is required")
    if intent is not None and not (isinstance(intent, str) and intent.strip()):
        raise FaqError(f"{where}: 'intent' must be an intent name or null")
    alternatives = item.get("alternatives") or []
    if not isinstance(alternatives, list) or not all(isinstance(a, str) for a in alternatives):
        raise FaqError(f"{where}: 'alternatives' must be a list of strings")
    return FaqEntry(
        intent=intent.strip() if intent else None,
        question=question.strip(),
        alternatives=tuple(a.strip() for a in alternatives if a.strip()),
        answer=" ".join(answer.split()),
    )


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class FaqIndex:
    """The FAQ entries and the vectors of their phrasings."""

    def __init__(
        self,
        entries: list[FaqEntry],
        encoder: TextEncoder,
        *,
        min_score: float = DEFAULT_MIN_SCORE,
        intent_margin: float = DEFAULT_INTENT_MARGIN,
        path: Path | None = None,
    ) -> None:
        self.min_score = min_score
        self.intent_margin = intent_margin
        self.path = path
        self._lock = threading.Lock()
        self._signature: tuple[int, int] | None = None
        self._index = self._build(entries, encoder)
        self.follower: Follower | None = None

    @classmethod
    def from_file(cls, path: str | Path, encoder: TextEncoder, **options: Any) -> FaqIndex:
        path = Path(path)
        signature = _signature(path)  # taken first: an edit while loading triggers a reload
        index = cls(load_entries(path), encoder, path=path, **options)
        index._signature = signature
        return index

    @classmethod
    def from_settings(cls, settings: Any = None, interval: float = 1.0) -> FaqIndex:
        """The configured FAQ file (AISLE_FAQ) with the active encoder (the published one if
        any, else the shared one), following the pointer: checked at most every ``interval`` s."""
        from common.settings import get_settings
        from recommender.active import follow, load_encoder
        from recommender.encoder import get_encoder

        settings = settings or get_settings()
        follower, published = follow(settings, interval)
        encoder = get_encoder() if published is None else load_encoder(published.model, settings)
        index = cls.from_file(settings.faq_path, encoder)
        index.follower, follower.switch = follower, index._switch
        return index

    @property
    def encoder(self) -> TextEncoder:
        return self._index.encoder

    @property
    def entries(self) -> list[FaqEntry]:
        return self._index.entries

    @staticmethod
    def _build(entries: list[FaqEntry], encoder: TextEncoder) -> _Index:
        owners = [number for number, entry in enumerate(entries) for _ in entry.phrasings]
        texts = [text for entry in entries for text in entry.phrasings]
        vectors = np.asarray(encoder.encode_documents(texts), dtype=np.float32)
        words: dict[str, set[int]] = {}
        for number, entry in enumerate(entries):
            for text in entry.phrasings:
                for word in tokenize(text):
                    words.setdefault(word, set()).add(number)
        return _Index(encoder, entries, np.asarray(owners), vectors,
                      {word: frozenset(owners_) for word, owners_ in words.items()})

    def _switch(self, published: Published) -> None:
        """Re-encode the phrasings with the published encoder and swap both in."""
        from common.settings import get_settings
        from recommender.active import load_encoder

        settings = self.follower.settings if self.follower else get_settings()
        encoder = load_encoder(published.model, settings)
        with self._lock:
            if encoder is not self._index.encoder:
                self._index = self._build(self._index.entries, encoder)
                log.info("FAQ now encoded with %s", published.model)

    def reload_if_changed(self) -> bool:
        """Re-read the file when it changed on disk; a broken edit is logged and the previous
        answers are kept until the file is fixed."""
        if self.path is None:
            return False
        signature = _signature(self.path)
        if signature is None or signature == self._signature:
            return False
        with self._lock:
            if signature == self._signature:
                return False
            self._signature = signature  # also for a broken file: do not retry on every call
            try:
                entries = load_entries(self.path)
            except FaqError as error:
                log.warning("FAQ not reloaded, keeping the previous answers: %s", error)
                return False
            self._index = self._build(entries, self._index.encoder)
            return True

    def scores(self, text: str, ignore: Callable[[str], bool] | None = None) -> np.ndarray:
        """Best cosine similarity of ``text`` to each entry's phrasings (one per entry), plus
        ``KEYWORD_BONUS`` for an entry that alone uses a word of ``text`` (with ``ignore``)."""
        return self._scores(self._index, text, ignore)

    @staticmethod
    def _scores(index: _Index, text: str, ignore: Callable[[str], bool] | None = None) -> np.ndarray:
        query = np.asarray(index.encoder.encode_query(text), dtype=np.float32)
        similarities = index.vectors @ query
        best = np.full(len(index.entries), -1.0, dtype=np.float32)
        np.maximum.at(best, index.owners, similarities)
        if ignore is not None:  # "warranty", "student", "swap": words one entry alone is about
            alone = {next(iter(owners)) for word in tokenize(text) if not ignore(word)
                     for owners in [index.words.get(word, frozenset())] if len(owners) == 1}
            for number in alone:
                best[number] += KEYWORD_BONUS
        return best

    def answer(self, text: str, intent: str | None = None,
               ignore: Callable[[str], bool] | None = None) -> FaqAnswer | None:
        """The best entry for ``text`` (entries of ``intent`` preferred), or None. ``ignore``:
        the words that earn no keyword bonus (the caller's shopping words: "size", "cheaper",
        the catalog's); without it the score is the cosine similarity alone."""
        if not text or not text.strip():
            return None
        self.reload_if_changed()
        if self.follower is not None:
            self.follower.poll()
        index = self._index  # one encoder and its vectors for this answer
        scores = self._scores(index, text, ignore)
        best = int(np.argmax(scores))
        own = [
            number for number, entry in enumerate(index.entries)
            if intent and entry.intent == intent
        ]
        if own:
            best_own = max(own, key=lambda number: scores[number])
            clearly_other = scores[best] - scores[best_own] > self.intent_margin
            if not (clearly_other and scores[best] >= self.min_score):
                best = best_own
        elif scores[best] < self.min_score:
            return None
        entry = index.entries[best]
        return FaqAnswer(entry.question, entry.answer, round(float(scores[best]), 4), entry.intent)

    def entries_for(self, intent: str) -> list[FaqEntry]:
        return [entry for entry in self.entries if entry.intent == intent]
