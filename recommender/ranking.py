"""Rerank, diversify and relax.

Rerank formula (each candidate, after RRF fusion of the dense and sparse prefetches)::

    relevance = (fused − min fused) / (max fused − min fused)   # over the candidates, 0..1
    score = relevance
          + w_rating · rating / 5                             # quality prior
          + w_reviews · ln(1 + reviews) / ln(1 + max_reviews)  # popularity prior (log-damped)
          + w_stock · [in stock]                               # availability
          + w_title · (query keywords found in title) / (query keywords)
          − 2 · [a children's product, when the shopper named no gender]

then, with ``Weights.mmr``, MMR picks the list greedily: ``λ·score − (1−λ)·max cosine to the
items already picked`` (λ = 0.7). The weights (``Weights``) earn their place by ablation on
every judged catalog (``python -m recommender eval --mode all --ablate``): on 2026-12-03 only
the title term did (w_title = 0.05; the others are 0 and MMR is off). Relevance is min-max
scaled over the candidate pool: RRF scores are compressed (the 1st and the 10th of 100
candidates differ by ~15 %), so a small term breaks near-ties without reordering on it alone.

Relaxation order when fewer than k products pass the filter (each step is cumulative and
reported to the shopper): price (+30%, then +60%, then no upper bound; a lower bound goes
down the same way), then colour, then brand, then material, then size, then minimum rating,
then gender, then the product type widens to its parent category; what the latest message
asked for comes after the older wishes (``Constraints.latest``), and a gender only implied by
whom the request is for ("a scarf for my mum") comes first. After "cheaper"
(``Constraints.price_firm``) the price is never relaxed, and nothing else is when at least one
exact match is cheaper. Exclusions the shopper
stated ("not Nike", "no leather") and in-stock are never relaxed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace

import numpy as np

from common.money import format_money
from recommender.matching import unmet
from recommender.query import RELAXABLE, Constraints, Vocabulary
from recommender.store.base import Hit
from recommender.words import tokenize

KIDS_LAST = 2.0  # below every other product's score (≤ 1.25), also after MMR's similarity term
MMR_LAMBDA = 0.7


@dataclass(frozen=True)
class Weights:
    """The terms of the rerank formula beside relevance, and MMR. ``eval --ablate`` scores the
    shipped pipeline with each one off in turn (``ablations``), on every judged catalog."""

    # Defaults from the ablation of 2026-12-03 (docs/benchmarks.md §4), nDCG@10 change when a
    # term is switched off, shop / home: rating −0.002 / – and reviews −0.001 / – (only the shop
    # has those fields: off until a second judged catalog with them agrees), stock +0.001 /
    # +0.0005 (off), MMR −0.0007 / +0.004 (off), title +0.0001 / −0.002 (on: helps, never hurts).
    rating: float = 0.0
    reviews: float = 0.0
    stock: float = 0.0
    title: float = 0.05
    mmr: bool = False

    def ablations(self) -> dict[str, Weights]:
        """The shipped weights with one term off (those already off are left out)."""
        return {f"no {f.name}": replace(self, **{f.name: type(getattr(self, f.name))(0)})
                for f in fields(self) if getattr(self, f.name)}


SHIPPED = Weights()


@dataclass
class Ranked:
    hit: Hit
    score: float
    relevance: float


def rerank(hits: list[Hit], keywords: list[str] = (), adults_first: bool = False,
           weights: Weights = SHIPPED) -> list[Ranked]:
    """``adults_first`` (no gender stated): children's products rank after every other one, an
    adult asking for "a summer dress" sees kids' dresses only when nothing else matches."""
    if not hits:
        return []
    top = max(h.score for h in hits) or 1.0
    low = min(h.score for h in hits) if len(hits) > 1 else 0.0
    max_reviews = max(int(h.payload.get("review_count") or 0) for h in hits)
    terms = {t for k in keywords for t in tokenize(k)}
    out = []
    for h in hits:
        p = h.payload
        relevance = (h.score - low) / (top - low) if top > low else (1.0 if top > 0 else 0.0)
        rating = float(p.get("rating") or 0.0) / 5.0
        reviews = math.log1p(int(p.get("review_count") or 0)) / math.log1p(max_reviews) if max_reviews else 0.0
        stock = 1.0 if p.get("in_stock", True) else 0.0
        title_hits = len(terms & set(tokenize(str(p.get("title", ""))))) / len(terms) if terms else 0.0
        score = relevance + weights.rating * rating + weights.reviews * reviews + \
            weights.stock * stock + weights.title * title_hits
        if adults_first and p.get("gender") == "kids":
            score -= KIDS_LAST
        out.append(Ranked(h, score, relevance))
    out.sort(key=lambda r: r.score, reverse=True)
    return out


def mmr(ranked: list[Ranked], k: int, lam: float = MMR_LAMBDA) -> list[Ranked]:
    """Greedy maximal marginal relevance on the ``text`` vectors (those without one are
    treated as dissimilar to everything)."""
    if len(ranked) <= 1:
        return ranked[:k]
    picked: list[Ranked] = []
    pool = list(ranked)
    while pool and len(picked) < k:
        best, best_value = 0, -math.inf
        for i, cand in enumerate(pool):
            sim = 0.0
            if cand.hit.text_vector is not None:
                sims = [float(np.dot(cand.hit.text_vector, p.hit.text_vector))
                        for p in picked if p.hit.text_vector is not None]
                sim = max(sims, default=0.0)
            value = lam * cand.score - (1 - lam) * sim
            if value > best_value:
                best, best_value = i, value
        picked.append(pool.pop(best))
    return picked


def _round5(x: float) -> float:
    return float(max(5, round(x / 5) * 5))


def relaxation_steps(c: Constraints, vocab: Vocabulary | None = None
                     ) -> Iterator[tuple[Constraints, dict[str, str]]]:
    """Cumulative relaxations, least important first. Yields (constraints, notes by field)
    where the notes describe every relaxation applied so far (prices in the catalog's currency).
    What the latest message asked for (``Constraints.latest``) gives way after everything older:
    "ok, up to 250 then" keeps the 250 and lets the earlier "pink" go first."""
    currency = vocab.currency if vocab else None

    def _money(amount: float | None) -> str:
        return format_money(amount, currency)

    def price(current: Constraints) -> Iterator[str]:
        if (c.price_max is None and c.price_min is None) or c.price_firm:
            return
        for factor in (1.3, 1.6, None):
            parts = []
            if c.price_max is not None:
                current.price_max = _round5(c.price_max * factor) if factor else None
                parts.append(f"price up to {_money(current.price_max)} instead of {_money(c.price_max)}"
                             if factor else f"any price instead of under {_money(c.price_max)}")
            if c.price_min is not None:
                current.price_min = float(round(c.price_min / factor)) if factor else None
                parts.append(f"price from {_money(current.price_min)} instead of {_money(c.price_min)}"
                             if factor else f"any price instead of over {_money(c.price_min)}")
            yield "; ".join(parts)

    def values(attr: str, what: str) -> Callable[[Constraints], Iterator[str]]:
        def step(current: Constraints) -> Iterator[str]:
            if getattr(c, attr):
                setattr(current, attr, [])
                yield f"other {what} than {' or '.join(getattr(c, attr))}"
        return step

    def rating(current: Constraints) -> Iterator[str]:
        if c.min_rating is not None:
            current.min_rating = None
            yield f"ratings below {c.min_rating:g} stars"

    def gender(current: Constraints) -> Iterator[str]:
        if c.gender:
            current.gender = None
            yield f"not only for {c.gender}"

    steps = {"price": price, "colors": values("colors", "colours"), "brands": values("brands", "brands"),
             "materials": values("materials", "materials"), "sizes": values("sizes", "sizes"),
             "min_rating": rating, "gender": gender}
    # stable: an implied gender first ("for my mum"), the latest wishes last
    order = sorted(RELAXABLE, key=lambda name: (name in c.latest, not (name == "gender" and c.gender_implied)))
    current = c.copy()
    notes: dict[str, str] = {}
    for name in order:
        for note in steps[name](current):  # each step changes ``current`` and says how
            notes[name] = note
            yield current.copy(), dict(notes)
    if c.product_type and vocab and vocab.type_parent.get(c.product_type):
        parent = vocab.type_parent[c.product_type]
        current.product_type, current.category = None, parent
        notes["product_type"] = f"other {parent.lower()} than {c.product_type.lower()}"
        yield current.copy(), dict(notes)


def violations(payload: dict, c: Constraints) -> set[str]:
    """Which of the shopper's constraints this product does not meet (keys as in the notes)."""
    return unmet(payload, c)
