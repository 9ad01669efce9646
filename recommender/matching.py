"""Which of the shopper's constraints a product meets: the one definition that ranking (which
relaxation a shown product needed, ``ranking.violations``) and the explanations (✓ / ✗,
``explain.explain``) both read, checked against the product's stored payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recommender.query import Constraints, material_matches, same_kind


@dataclass(frozen=True)
class Match:
    """One constraint the shopper stated, and whether the product meets it."""

    key: str  # the Constraints field ("price" for both bounds), as in the relaxation notes
    met: bool
    values: list[str] = field(default_factory=list)  # the wanted values the product has


def _lower(values: Any) -> set[str]:
    if values is None:
        return set()
    if isinstance(values, str):
        return {values.lower()}
    return {str(v).lower() for v in values}


def constraint_matches(payload: dict[str, Any], c: Constraints) -> list[Match]:
    """Every stated constraint with its verdict, in the order explanations list them. Not
    judged (so left out): a price bound for a product without a price, the stock (a filter, never
    relaxed), the category and the keywords (they steer retrieval, they are not kept or broken)."""
    out: list[Match] = []
    colors = _lower(payload.get("colors"))
    if c.colors:
        hits = [v for v in c.colors if v.lower() in colors]
        out.append(Match("colors", bool(hits), hits))
    if c.exclude_colors:
        out.append(Match("exclude_colors", not any(v.lower() in colors for v in c.exclude_colors)))
    brand = str(payload.get("brand") or "").lower()
    if c.brands:
        out.append(Match("brands", brand in _lower(c.brands)))
    if c.exclude_brands:
        out.append(Match("exclude_brands", brand not in _lower(c.exclude_brands)))
    materials = _lower(payload.get("materials"))
    if c.materials:
        hits = [v for v in c.materials if any(material_matches(v, m) for m in materials)]
        out.append(Match("materials", bool(hits), hits))
    if c.exclude_materials:
        out.append(Match("exclude_materials", not any(
            material_matches(v, m) for v in c.exclude_materials for m in materials)))
    if c.sizes:
        sizes = _lower(payload.get("sizes"))
        hits = [s for s in c.sizes if s.lower() in sizes]
        out.append(Match("sizes", bool(hits), hits))
    price = payload.get("price")
    if price is not None and (c.price_min is not None or c.price_max is not None):
        out.append(Match("price", (c.price_min is None or price >= c.price_min)
                         and (c.price_max is None or price <= c.price_max)))
    if c.min_rating is not None:
        rating = payload.get("rating")
        out.append(Match("min_rating", rating is not None and rating >= c.min_rating))
    if c.gender:
        out.append(Match("gender", payload.get("gender") in (c.gender, "unisex")))
    if c.product_type:
        path = list(payload.get("category") or [])
        out.append(Match("product_type", same_kind(c.product_type, str(payload.get("product_type") or ""))
                         or c.product_type in path[:-1]))  # as ``Vocabulary.type_family`` filters
    return out


def unmet(payload: dict[str, Any], c: Constraints) -> set[str]:
    """Keys of the constraints the product does not meet."""
    return {m.key for m in constraint_matches(payload, c) if not m.met}
