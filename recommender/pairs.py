"""Training pairs for the encoder: (shopper query, product text), from pluggable sources.

* :class:`CatalogPairs` writes shopper-like queries for catalog products from their titles,
  attributes, category paths, colours, materials, gender and price, in varied phrasings.
* :class:`LoggedPairs` reads pairs mined from logged chats (JSON Lines
  ``{"query", "positive", "negatives": [...]}``, written by a later issue).

Evaluation hygiene: :func:`split_products` holds products out by id (a stable hash, so the
split does not move when the catalog grows), and every source drops queries that appear in the
evaluation set (``data/eval/queries.tsv``), so the model never trains on a query it is judged on.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from recommender.catalog import Product, RowError, embedding_text
from recommender.evaluate import load_queries


@dataclass(frozen=True)
class TrainingPair:
    query: str
    positive: str  # the text the product is embedded from
    negatives: tuple[str, ...] = ()
    product_id: str | None = None
    source: str = "catalog"


@runtime_checkable
class PairSource(Protocol):
    """Anything that yields training pairs; ``name`` is recorded in ``training.json``."""

    name: str

    def pairs(self) -> Iterator[TrainingPair]: ...


# ---------------------------------------------------------------- eval hygiene
def normalize_query(text: str) -> str:
    return " ".join(re.sub(r"[^\w$%.'-]+", " ", text.lower()).split())


def load_eval_queries(path: str | Path) -> set[str]:
    """Normalised query strings of an evaluation ``queries.tsv`` (missing file → empty set)."""
    path = Path(path)
    if not path.exists():
        return set()
    return {normalize_query(text) for text in load_queries(path).values()}


def is_held_out(product_id: str, fraction: float, seed: int = 0) -> bool:
    """Stable membership of the held-out split, decided by a hash of the product id."""
    digest = hashlib.sha256(f"{seed}:{product_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_products(products: Iterable[Product], fraction: float = 0.1, seed: int = 0
                   ) -> tuple[list[Product], list[Product]]:
    """(train, held_out) products; held-out products never contribute training pairs."""
    train: list[Product] = []
    held: list[Product] = []
    for product in products:
        (held if is_held_out(product.id, fraction, seed) else train).append(product)
    return train, held


# ---------------------------------------------------------------- catalog queries
_GENDER_PHRASES = {
    "men": ["for men", "men's", "mens"],
    "women": ["for women", "women's", "womens", "ladies"],
    "kids": ["for kids", "kids", "for children"],
}
_PRICE_PHRASES = ["under ${n}", "below {n} dollars", "less than ${n}", "under {n}", "max {n} bucks"]
_OPENERS = ["", "", "", "i need ", "looking for ", "show me ", "do you have ", "any ", "i want "]
_YES_WORDS = {  # yes/no attributes phrased as adjectives
    "waterproof": "waterproof", "insulated": "insulated", "noise cancelling": "noise cancelling",
    "wireless": "wireless", "dimmable": "dimmable", "backlit": "backlit", "rechargeable": "rechargeable",
    "packable": "packable", "gps": "gps", "induction compatible": "induction", "dishwasher safe": "dishwasher safe",
    "moisture-wicking": "moisture wicking", "quick-dry": "quick dry", "lined": "lined", "mips": "mips",
    "water repellent": "water repellent", "collapsible": "collapsible", "machine washable": "washable",
}


_TITLE_SUFFIXES = {"pro", "lite", "ii", "classic", "plus", "max", "essential", "sport", "edge", "air"}


def _type_words(product: Product, rng: random.Random) -> str:
    """What the shopper calls the thing: the category leaf ("hiking boots") or the title's tail."""
    words = [w for w in product.title.lower().split() if w not in _TITLE_SUFFIXES] or [product.title.lower()]
    tail = " ".join(words[-2:])
    leaf = (product.product_type or "").lower()
    if not leaf or "&" in leaf or not leaf.endswith("s") or rng.random() < 0.4:
        return tail
    return leaf


def _price_bound(price: float) -> int:
    step = 10 if price < 100 else 50
    return int(math.ceil((price + 0.01) / step) * step)


def _attribute_phrases(product: Product) -> list[tuple[str, str]]:
    """(prefix, suffix) fragments from the attributes: ("waterproof", "") or ("", "with 30 h battery")."""
    phrases: list[tuple[str, str]] = []
    for key, value in product.attributes.items():
        value = value.strip()
        if not value:
            continue
        if value.lower() in ("yes", "no"):
            if value.lower() == "yes" and key in _YES_WORDS:
                phrases.append((_YES_WORDS[key], ""))
            continue
        if key == "battery":
            phrases += [("", f"with {value} battery"), ("long battery", "")] if _hours(value) >= 20 else [("", f"with {value} battery")]
        elif key in ("capacity", "screen", "resolution", "season", "power", "length", "diameter"):
            phrases.append((value.lower(), ""))
        elif key in ("weight",):
            phrases.append(("", f"around {value}"))
            if _grams(value) and _grams(value) < 500:
                phrases.append(("lightweight", ""))
        elif key == "sleeps":
            phrases.append(("", f"for {value.split()[0]} people"))
        elif key == "temperature rating":
            phrases.append(("", f"rated to {value}"))
        else:
            phrases.append(("", f"with {value} {key}"))
    return phrases


def _hours(value: str) -> float:
    match = re.match(r"([\d.]+)\s*(h|days|weeks)", value)
    if not match:
        return 0.0
    number, unit = float(match.group(1)), match.group(2)
    return number * {"h": 1, "days": 24, "weeks": 168}[unit]


def _grams(value: str) -> float | None:
    match = re.match(r"([\d.]+)\s*g\b", value)
    return float(match.group(1)) if match else None


def catalog_queries(product: Product, count: int, rng: random.Random) -> list[str]:
    """Up to ``count`` distinct shopper queries for ``product``, combining one to three facets."""
    facets_before: list[str] = []  # words that go before the product type
    facets_after: list[str] = []  # phrases that go after it
    for prefix, suffix in _attribute_phrases(product):
        (facets_before if prefix else facets_after).append(prefix or suffix)
    facets_before += [c.lower() for c in product.colors[:2]]
    facets_before += [m.lower() for m in product.materials[:1]]
    if product.brand:
        facets_before.append(product.brand.lower())
    if product.gender in _GENDER_PHRASES:
        facets_after.append(rng.choice(_GENDER_PHRASES[product.gender]))
    if product.price:
        facets_after.append(rng.choice(_PRICE_PHRASES).format(n=_price_bound(product.price)))
    if len(product.category) >= 2:
        facets_after.append(f"in {product.category[-2].lower()}")

    candidates: set[str] = set()
    title = product.title.lower()
    candidates.add(title)
    title_words = title.split()
    if len(title_words) > 2:  # the title without its product-line word
        candidates.add(" ".join(title_words[1:]))
    attempts = 0
    while len(candidates) < count + 2 and attempts < count * 8:
        attempts += 1
        before = rng.sample(facets_before, k=min(len(facets_before), rng.choice((0, 1, 1, 2))))
        after = rng.sample(facets_after, k=min(len(facets_after), rng.choice((0, 1, 1, 2))))
        if not before and not after:
            continue
        query = " ".join([*before, _type_words(product, rng), *after])
        candidates.add(rng.choice(_OPENERS) + query)
    ordered = sorted(candidates)
    rng.shuffle(ordered)
    return ordered[:count]


@dataclass
class CatalogPairs:
    """Pairs from catalog products (the training split only; pass it in)."""

    products: list[Product]
    per_product: int = 4
    seed: int = 13
    exclude_queries: set[str] = field(default_factory=set)
    name: str = "catalog"

    def pairs(self) -> Iterator[TrainingPair]:
        for product in self.products:
            rng = random.Random(f"{self.seed}:{product.id}")
            text = embedding_text(product)
            for query in catalog_queries(product, self.per_product, rng):
                if normalize_query(query) in self.exclude_queries:
                    continue
                yield TrainingPair(query, text, product_id=product.id, source=self.name)


@dataclass
class LoggedPairs:
    """Pairs mined from logged chats: JSON Lines ``{"query", "positive", "negatives": [...]}``.

    ``positive``/``negatives`` are product texts, or product ids when ``catalog`` (id → Product)
    is given, in which case they are replaced by the products' embedding texts. Bad lines are
    collected in ``errors`` (line number and reason) and skipped.
    """

    path: Path
    catalog: Mapping[str, Product] | None = None
    exclude_queries: set[str] = field(default_factory=set)
    exclude_product_ids: set[str] = field(default_factory=set)
    name: str = "logged"
    errors: list[RowError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.name = f"logged:{self.path}"

    def _text(self, value: str) -> str:
        if self.catalog is not None and value in self.catalog:
            return embedding_text(self.catalog[value])
        return value

    def pairs(self) -> Iterator[TrainingPair]:
        self.errors.clear()
        with self.path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    self.errors.append(RowError(line_no, f"invalid JSON: {exc.msg}"))
                    continue
                problem = _logged_problem(record)
                if problem:
                    self.errors.append(RowError(line_no, problem))
                    continue
                if normalize_query(record["query"]) in self.exclude_queries:
                    continue
                if record["positive"] in self.exclude_product_ids:
                    continue
                yield TrainingPair(
                    query=record["query"].strip(),
                    positive=self._text(record["positive"]),
                    negatives=tuple(self._text(n) for n in record.get("negatives") or ()),
                    product_id=record["positive"] if self.catalog and record["positive"] in self.catalog else None,
                    source="logged",
                )


def _logged_problem(record: object) -> str | None:
    if not isinstance(record, dict):
        return "a record must be a JSON object"
    for key in ("query", "positive"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            return f"{key}: a non-empty string is required"
    negatives = record.get("negatives", [])
    if negatives is not None and (not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives)):
        return "negatives: a list of strings is required"
    return None


def held_out_queries(products: Iterable[Product], per_product: int = 2, seed: int = 7,
                     exclude_queries: set[str] | None = None) -> list[tuple[str, str]]:
    """(query, product id) for evaluation on held-out products; the product is the right answer.

    Specific phrasings only (at least two facets or the title), so a single product is a fair target.
    """
    exclude = exclude_queries or set()
    result: list[tuple[str, str]] = []
    for product in products:
        rng = random.Random(f"heldout:{seed}:{product.id}")
        queries = [q for q in catalog_queries(product, per_product + 4, rng) if len(q.split()) >= 3]
        for query in queries[:per_product]:
            if normalize_query(query) not in exclude:
                result.append((query, product.id))
    return result
