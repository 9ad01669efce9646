"""One short sentence per suggestion, computed from what the product actually matches.

Every ✓ is checked against the product's stored payload (never assumed from the query);
a constraint the product does not meet (because it was relaxed) is shown with ✗.
"""

from __future__ import annotations

from typing import Any

from common.money import format_money
from recommender.matching import Match, constraint_matches
from recommender.query import Constraints
from recommender.words import tokenize

SEP = " · "


def explain(payload: dict[str, Any], c: Constraints, max_terms: int = 2) -> tuple[str, list[str]]:
    """Return (sentence, matched items) for one product under the shopper's constraints."""
    parts: list[str] = []
    matched: list[str] = []
    for m in constraint_matches(payload, c):
        label, miss = _labels(m, payload, c)
        ok = m.met and (m.key != "sizes" or bool(payload.get("in_stock", True)))  # "in stock" is said
        if ok:
            parts.append(f"{label} ✓")
            matched.append(label)
        elif miss:
            parts.append(f"{miss} ✗")
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


def _labels(m: Match, payload: dict[str, Any], c: Constraints) -> tuple[str, str | None]:
    """What the explanation says when the constraint is met, and when it is not (None: nothing)."""
    if m.key == "colors":
        return " or ".join(m.values), f"not {' or '.join(c.colors)}"
    if m.key == "exclude_colors":
        return f"not {'/'.join(c.exclude_colors)}", None
    if m.key == "brands":
        brand = str(payload.get("brand") or "")
        return brand, f"{brand or 'other brand'} instead of {' or '.join(c.brands)}"
    if m.key == "exclude_brands":
        return f"not {'/'.join(c.exclude_brands)}", None
    if m.key == "materials":
        return " and ".join(m.values), f"not {' or '.join(c.materials)}"
    if m.key == "exclude_materials":
        return f"no {'/'.join(c.exclude_materials)}", None
    if m.key == "sizes":
        return (f"size {m.values[0]} in stock" if m.values else "",
                f"size {' or '.join(c.sizes)} not available")
    if m.key == "price":
        def money(amount: float) -> str:  # the bounds are in the shop's, i.e. the product's, currency
            return format_money(amount, payload.get("currency"))

        lo, hi = c.price_min, c.price_max
        if lo is not None and hi is not None:
            label = f"{money(lo)}–{money(hi)}"
        elif hi is not None:
            label = f"under {money(hi)}"
        else:
            label = f"over {money(lo)}"
        return label, f"{money(payload['price'])}, outside {label}"
    if m.key == "min_rating":
        rating = payload.get("rating")
        return (f"rated {rating:g}" if rating else "",
                f"rated {rating:g}, below {c.min_rating:g}" if rating else "unrated")
    if m.key == "gender":
        gender = payload.get("gender")
        return f"for {gender}", f"for {gender or 'anyone'}"
    if m.key == "product_type":
        kind = str(payload.get("product_type") or "other").lower()
        return c.product_type.lower(), f"{kind} instead of {c.product_type.lower()}"
    raise ValueError(f"no explanation for the constraint {m.key!r}")
