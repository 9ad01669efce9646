"""What a product card shows beyond the ``products`` payload (docs/architecture.md §3.4).

The actions send id, title, price, image, url and an explanation sentence. The gateway adds,
from its own catalog, what a shopper needs to decide (brand, kind, gender, sizes, colours), and
splits the sentence into what the product meets (``met``) and what was relaxed for it
(``unmet``), so the widget can say the matches first and the rest in one short line. A card whose
explanation says a colour matched shows its picture in that colour.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

SEP = " · "  # recommender.explain's separator
MET, UNMET = "✓", "✗"


def split_explanation(text: str) -> tuple[list[str], list[str]]:
    """("black ✓ · under $80 ✓ · not Northpeak ✗ · 'waterproof' in title") →
    (["black", "under $80", "'waterproof' in title"], ["not Northpeak"])."""
    met: list[str] = []
    unmet: list[str] = []
    for part in (p.strip() for p in (text or "").split(SEP)):
        if not part:
            continue
        if part.endswith(UNMET):
            unmet.append(part[: -len(UNMET)].strip())
        elif part.endswith(MET):
            met.append(part[: -len(MET)].strip())
        elif part != "closest match to what you described":
            met.append(part)
    return met, unmet


def enrich_item(item: dict[str, Any], catalog: dict[str, Any] | None) -> dict[str, Any]:
    """One cleaned payload item plus the card fields; unknown products keep what they had."""
    out = dict(item)
    met, unmet = split_explanation(str(item.get("explanation") or ""))
    out["met"], out["unmet"] = met, unmet
    product = (catalog or {}).get(str(item.get("id")))
    if product is None:
        return out
    out.update(
        brand=product.brand,
        kind=product.product_type,
        gender=product.gender,
        sizes=list(product.sizes),
        colors=list(product.colors),
        rating=product.rating,
    )
    own_drawing = f"/images/{product.id}.svg"
    if out.get("image_url") == own_drawing:
        wanted = {m.lower() for label in met for m in label.split(" or ")}
        color = next((c for c in product.colors if c.lower() in wanted), None)
        if color and color != (product.colors[0] if product.colors else None):
            out["image_url"] = f"{own_drawing}?color={quote(color)}"
    return out


def enrich_messages(messages: list[dict[str, Any]], catalog: dict[str, Any] | None
                    ) -> list[dict[str, Any]]:
    return [
        {**m, "items": [enrich_item(i, catalog) for i in m.get("items") or []]}
        if m.get("type") in ("products", "comparison") else m
        for m in messages
    ]
