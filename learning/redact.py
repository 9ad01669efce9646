"""Personal data out of logged chats before anything is written to disk.

What is replaced (in this order, so a longer pattern wins over a shorter one inside it):

| kind | example | replacement |
| --- | --- | --- |
| email | ``jane.doe@mail.com`` | ``customer@example.com`` (still an email, so ``email`` entities stay trainable) |
| card-like number | ``4111 1111 1111 1111`` (13–19 digits, spaces/dashes) | ``<CARD>`` |
| order / invoice id | ``ORD-10427``, ``ord10427``, ``INV-00042`` | same shape, pseudonymous digits (``ORD-58213``) |
| phone | ``+1 (555) 201-3344``, ``0171 2345678`` | ``<PHONE>`` |
| street address | ``12 Baker Street``, ``221b Elm Ave, Apt 4`` | ``<ADDRESS>`` |
| name | ``my name is Jane Doe``, values of name slots | ``<NAME>`` |
| form values | any string passed in ``known`` (slot values such as ``shipping_address``) | ``<ADDRESS>``/``<NAME>``/… by slot |

Pseudonymous ids are stable within one :class:`Redactor` (same real id → same placeholder) and
depend on a secret salt, so they cannot be mapped back by hashing candidate ids.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

EMAIL_PLACEHOLDER = "customer@example.com"

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
ORDER_ID = re.compile(r"\b(ORD|INV)(-?)(\d{5})\b", re.IGNORECASE)
PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,5}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,8}){1,4}(?![\w-])"
    r"|(?<![\w-])\+?\d{9,15}(?![\w-])"
)
STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|square|sq|"
    r"terrace|parkway|pkwy|highway|hwy|strasse|straße|str|weg|gasse|allee|platz|rue|via|calle"
)
ADDRESS = re.compile(
    rf"\b\d{{1,5}}[a-z]?,?\s+(?:[A-Za-zÀ-ÿ'.-]+\s+){{0,3}}(?:{STREET_WORDS})\b\.?"
    r"(?:,?\s+(?:apt|apartment|unit|suite|flat|#)\.?\s*\w+)?"
    r"(?:,\s*[A-Z][A-Za-zÀ-ÿ' -]{1,40}(?:,?\s+[A-Z]{2})?)?"
    r"(?:,?\s+\d{4,5}(?:-\d{4})?)?",
    re.IGNORECASE,
)
ADDRESS_CONTINENTAL = re.compile(  # "Hauptstraße 5", "Lindenweg 12a"
    r"\b[A-ZÄÖÜ][a-zäöüß]+(?:strasse|straße|str\.|weg|gasse|allee|platz)\s+\d{1,4}[a-z]?\b"
)
_NAME_WORD = r"[A-Z][a-zà-ÿ'-]+"
NAME_INTRO = re.compile(
    rf"(?P<intro>\b(?:my name is|my name's|name:|this is|i am|i'm|call me|signed,?|regards,?|cheers,?)\s+)"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})",
    re.IGNORECASE,
)
# words that follow "I'm"/"this is" but are not names
_NOT_NAMES = {
    "looking", "searching", "trying", "interested", "not", "so", "very", "just", "here", "back",
    "a", "an", "the", "it", "that", "from", "in", "on", "at", "still", "also", "really", "sure",
    "fine", "good", "okay", "ok", "happy", "unhappy", "sorry", "waiting", "after", "going", "getting",
    "having", "done", "unable", "able", "new", "ready", "annoyed", "angry", "upset",
}
# slots whose values are personal data, and the placeholder of each
PERSONAL_SLOTS = {
    "email": EMAIL_PLACEHOLDER,
    "shipping_address": "<ADDRESS>",
    "address": "<ADDRESS>",
    "name": "<NAME>",
    "first_name": "<NAME>",
    "last_name": "<NAME>",
    "full_name": "<NAME>",
    "customer_name": "<NAME>",
    "phone": "<PHONE>",
    "phone_number": "<PHONE>",
}


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass
class Redactor:
    """Replaces personal data; keeps pseudonymous order ids consistent across one export."""

    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    counts: dict[str, int] = field(default_factory=dict)

    def _count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def pseudo_id(self, prefix: str, dash: str, digits: str) -> str:
        """Same shape as the real id (prefix case, dash, five digits), other digits."""
        digest = hashlib.sha256(f"{self.salt}:{prefix.upper()}:{digits}".encode()).hexdigest()
        fake = f"{int(digest[:12], 16) % 100000:05d}"
        if fake == digits:
            fake = f"{(int(fake) + 1) % 100000:05d}"
        return f"{prefix}{dash}{fake}"

    def redact(self, text: str, known: Iterable[tuple[str, str]] = ()) -> str:
        """``text`` with personal data replaced; ``known`` = (value, placeholder) to replace verbatim."""
        if not text:
            return text
        for value, placeholder in sorted(known, key=lambda kv: -len(kv[0])):
            if value and len(value.strip()) >= 3 and value in text:
                text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", placeholder, text)
                self._count("form_value")
        text = self._sub(EMAIL, text, "email", lambda m: EMAIL_PLACEHOLDER)
        text = self._sub(ORDER_ID, text, "order_id",
                         lambda m: self.pseudo_id(m.group(1), m.group(2), m.group(3)))
        text = self._sub(CARD, text, "card", self._card)
        text = self._sub(ADDRESS, text, "address", lambda m: "<ADDRESS>")
        text = self._sub(ADDRESS_CONTINENTAL, text, "address", lambda m: "<ADDRESS>")
        text = self._sub(PHONE, text, "phone", self._phone)
        text = self._sub(NAME_INTRO, text, "name", self._name)
        return text

    def _sub(self, pattern: re.Pattern[str], text: str, kind: str, replace: Any) -> str:
        def one(match: re.Match[str]) -> str:
            out = replace(match)
            if out != match.group(0):
                self._count(kind)
            return out
        return pattern.sub(one, text)

    @staticmethod
    def _card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        # 13–19 digits: a payment card if the checksum holds, or if written in card-like groups
        grouped = bool(re.fullmatch(r"\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?", match.group(0)))
        return "<CARD>" if luhn_ok(digits) or grouped else match.group(0)

    @staticmethod
    def _phone(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if not 7 <= len(digits) <= 15:
            return raw
        if re.fullmatch(r"\d{1,4}([.,]\d{1,2})?", raw) or re.fullmatch(r"\d{1,2}[-/]\d{1,2}([-/]\d{2,4})?", raw):
            return raw  # prices, sizes, dates
        if re.fullmatch(r"(19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}", raw):
            return raw  # ISO date
        groups = re.findall(r"\d+", raw)
        if len(groups) > 1 and max(len(g) for g in groups) <= 2 and not raw.startswith("+"):
            return raw  # "sizes 38 40 42 44"
        return "<PHONE>"

    @staticmethod
    def _name(match: re.Match[str]) -> str:
        words = match.group("name").split()
        first = words[0].lower()
        if first in _NOT_NAMES or not words[0][0].isupper():
            return match.group(0)
        intro = match.group("intro").lower()
        if intro.startswith(("i am", "i'm", "this is")) and len(words) < 2 and first in _NOT_NAMES:
            return match.group(0)
        return match.group("intro") + "<NAME>"

    def names_in(self, texts: Iterable[str]) -> list[tuple[str, str]]:
        """Names people gave ("my name is Jane Doe") in any of ``texts``, with each name word,
        so a later "Hi Jane" in the same conversation is redacted too."""
        found: dict[str, str] = {}
        for text in texts:
            for match in NAME_INTRO.finditer(text or ""):
                if self._name(match) != match.group(0):
                    name = match.group("name")
                    found[name] = "<NAME>"
                    found.update((w, "<NAME>") for w in name.split() if len(w) >= 3)
        return list(found.items())

    def known_values(self, slots: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(value, placeholder) for the personal slots of a tracker (form answers)."""
        out = []
        for name, value in slots.items():
            placeholder = PERSONAL_SLOTS.get(name)
            if placeholder and isinstance(value, str) and value.strip():
                out.append((value, placeholder))
        return out

    def redact_entities(self, text: str, entities: list[dict[str, Any]],
                        known: Iterable[tuple[str, str]] = ()) -> tuple[str, list[dict[str, Any]]]:
        """Redact ``text`` and its entity annotations together, recomputing start/end offsets.

        The text between entities and each entity value are redacted separately, then joined,
        so every entity still points at its (redacted) value.
        """
        known = list(known)
        spans = sorted(
            (e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
             and 0 <= e["start"] < e["end"] <= len(text)),
            key=lambda e: e["start"],
        )
        out, new_entities, cursor = [], [], 0
        for entity in spans:
            if entity["start"] < cursor:
                continue  # overlapping extractor outputs: keep the first
            out.append(self.redact(text[cursor:entity["start"]], known))
            start = sum(len(p) for p in out)
            value = self.redact(text[entity["start"]:entity["end"]], known)
            out.append(value)
            clean = {k: entity[k] for k in ("entity", "role", "group") if entity.get(k) is not None}
            raw_value = entity.get("value")
            clean["value"] = self.redact(raw_value, known) if isinstance(raw_value, str) else raw_value
            clean.update(start=start, end=start + len(value))
            new_entities.append(clean)
            cursor = entity["end"]
        out.append(self.redact(text[cursor:], known))
        return "".join(out), new_entities
