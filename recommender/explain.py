"""One short sentence per suggestion, computed from what the product actually matches.

Every ✓ is checked against the product's stored payload (never assumed from the query);
a constraint the product does not meet (because it was relaxed) is shown with ✗.
"""

from __future__ import annotations

from typing import Any

from common.money import format_money
from recommender.query import Constraints, material_matches
from recommender.sparse import tokenize

SEP = " · "


def _lower(values: Any) -> set[str]:
    if values is None:
        return set()
    if isinstance(values, str):
        return {values.lower()}
    return {str(v).lower() for v in values}


def explain(payload: dict[str, Any], c: Constraints, max_terms: int = 2) -> tuple[str, list[str]]:
    """Return (sentence, matched items) for one product under the shopper's constraints."""
    parts: list[str] = []
    matched: list[str] = []

    def check(ok: bool, label: str, miss: str | None = None) -> None:
        if ok:
            parts.append(f"{label} ✓")
            matched.append(label)
        elif miss:
            parts.append(f"{miss} ✗")

    colors = _lower(payload.get("colors"))
    if c.colors:
        hits = [v for v in c.colors if v.lower() in colors]
        check(bool(hits), " or ".join(hits), f"not {' or '.join(c.colors)}")
    if c.exclude_colors:
        check(not any(v.lower() in colors for v in c.exclude_colors), f"not {'/'.join(c.exclude_colors)}")
    brand = str(payload.get("brand") or "")
    if c.brands:
        check(brand.lower() in _lower(c.brands), brand, f"{brand or 'other brand'} instead of {' or '.join(c.brands)}")
    if c.exclude_brands:
        check(brand.lower() not in _lower(c.exclude_brands), f"not {'/'.join(c.exclude_brands)}")
    materials = _lower(payload.get("materials"))
    if c.materials:
        hits = [v for v in c.materials if any(material_matches(v, m) for m in materials)]
        check(bool(hits), " and ".join(hits), f"not {' or '.join(c.materials)}")
    if c.exclude_materials:
        check(not any(material_matches(v, m) for v in c.exclude_materials for m in materials),
              f"no {'/'.join(c.exclude_materials)}")
    if c.sizes:
        sizes = _lower(payload.get("sizes"))
        hits = [s for s in c.sizes if s.lower() in sizes]
        in_stock = bool(payload.get("in_stock", True))
        check(bool(hits) and in_stock, f"size {hits[0]} in stock" if hits else "",
              f"size {' or '.join(c.sizes)} not available")
    price = payload.get("price")
    if price is not None and (c.price_min is not None or c.price_max is not None):
        lo, hi = c.price_min, c.price_max
        ok = (lo is None or price >= lo) and (hi is None or price <= hi)

        def money(amount: float) -> str:  # the bounds are in the shop's, i.e. the product's, currency
            return format_money(amount, payload.get("currency"))

        if lo is not None and hi is not None:
            label = f"{money(lo)}–{money(hi)}"
        elif hi is not None:
            label = f"under {money(hi)}"
        else:
            label = f"over {money(lo)}"
        check(ok, label, f"{money(price)}, outside {label}")
    if c.min_rating is not None:
        rating = payload.get("rating")
        check(rating is not None and rating >= c.min_rating, f"rated {rating:g}" if rating else "",
              f"rated {rating:g}, below {c.min_rating:g}" if rating else "unrated")
    if c.gender:
        gender = payload.get("gender")
        check(gender in (c.gender, "unisex"), f"for {gender}", f"for {gender or 'anyone'}")
    if c.product_type:
        check(payload.get("product_type") == c.product_type, c.product_type.lower(),
              f"{str(payload.get('product_type') or 'other').lower()} instead of {c.product_type.lower()}")
    # query terms found in the product's own words
    title = set(tokenize(str(payload.get("title", ""))))
    description = set(tokenize(str(payload.get("description", ""))))
    attributes = set(tokenize(" ".join(f"{k} {v}" for k, v in (payload.get("attributes") or {}).items())))
    shown_terms = 0
    for kw in c.keywords:
        if shown_terms >= max_terms:
            break
        terms = tokenize(kw)
        if not terms:
            continue
        where = ("title" if all(t in title for t in terms) else
                 "description" if all(t in description for t in terms) else
                 "details" if all(t in attributes for t in terms) else None)
        if where:
            parts.append(f"'{kw}' in {where}")
            matched.append(kw)
            shown_terms += 1
    if not parts:
        return "closest match to what you described", matched
    return SEP.join(parts), matched
