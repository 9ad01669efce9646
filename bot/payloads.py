"""The ``cart`` and ``comparison`` payloads of the actions, cleaned for the widget
(docs/architecture.md §3.4): known fields only, strings and numbers of the right kind, bounded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_LINES = 50  # cart lines shown
MAX_ROWS = 12  # comparison rows
MAX_TEXT = 300


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        return None
    return str(value)[:MAX_TEXT]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def clean_cart(custom: dict[str, Any]) -> dict[str, Any]:
    """``{"type": "cart", "items": [{id, title, size, color, quantity, line_total}], "item_count",
    "total", "currency"}``; a line without id or title is dropped."""
    items = []
    for item in custom.get("items") or []:
        if not isinstance(item, dict) or not _text(item.get("id")) or not _text(item.get("title")):
            continue
        items.append({
            "id": _text(item["id"]), "title": _text(item["title"]), "size": _text(item.get("size")),
            "color": _text(item.get("color")), "quantity": _count(item.get("quantity")),
            "line_total": _number(item.get("line_total")),
        })
    return {"type": "cart", "items": items[:MAX_LINES], "item_count": _count(custom.get("item_count")),
            "total": _number(custom.get("total")) or 0.0,
            "currency": _text(custom.get("currency")) or "USD"}


def clean_comparison(custom: dict[str, Any], clean_product: Callable[[Any], dict[str, Any] | None]
                     ) -> dict[str, Any] | None:
    """``{"type": "comparison", "items": [two products], "rows": [{"label", "values"}]}``, each
    row with one value per product; None unless at least two products are left."""
    items = [p for p in map(clean_product, custom.get("items") or []) if p]
    if len(items) < 2:
        return None
    rows = []
    for row in custom.get("rows") or []:
        if not isinstance(row, dict) or not _text(row.get("label")) or not isinstance(row.get("values"), list):
            continue
        values = [_text(v) or "n/a" for v in row["values"]][: len(items)]
        values += ["n/a"] * (len(items) - len(values))
        rows.append({"label": _text(row["label"]), "values": values})
    return {"type": "comparison", "items": items, "rows": rows[:MAX_ROWS]}
