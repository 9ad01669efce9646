"""Rasa's training-data notation: ``[red](color)``, ``[80]{"entity": "price", "role": "max"}``."""

from __future__ import annotations

import json
import re
from typing import Any

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")


def plain_text(example: str) -> str:
    """A Rasa example without its entity annotations, normalised for deduplication."""
    return " ".join(ANNOTATION.sub(r"\1", example).lower().split())


def annotate(text: str, entities: list[dict[str, Any]]) -> str:
    """``text`` with its entities written inline in Rasa's Markdown-in-YAML notation."""
    spans = sorted((e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)),
                   key=lambda e: e["start"])
    out, cursor = [], 0
    for entity in spans:
        start, end = entity["start"], entity["end"]
        if start < cursor or not 0 <= start < end <= len(text):
            continue
        surface = text[start:end]
        out.append(text[cursor:start])
        value = entity.get("value")
        extra = {k: entity[k] for k in ("role", "group") if entity.get(k)}
        if extra or (isinstance(value, str) and value != surface):
            spec: dict[str, Any] = {"entity": entity["entity"], **extra}
            if isinstance(value, str) and value != surface:
                spec["value"] = value
            out.append(f"[{surface}]{json.dumps(spec, ensure_ascii=False)}")
        else:
            out.append(f"[{surface}]({entity['entity']})")
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
