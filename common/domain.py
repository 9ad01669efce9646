"""The intents and entities of ``domain.yml``: the one place code reads the project's list of
intents from (the domain is the contract the NLU data, the stories and the actions share).

    from common import domain
    domain.intents()    # ('cancel_order', 'change_order', …) in the file's order
    domain.entities()   # ('product_type', 'brand', …): names only, roles left out

Standard library and PyYAML only, and ``ROOT`` comes from this file's place: tools/eval_nlu.py
imports this module under Rasa's Python 3.10, where pydantic-settings (``common.settings``) is
not installed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_PATH = ROOT / "domain.yml"


def _names(items: list[Any] | None) -> tuple[str, ...]:
    """``- greet`` or ``- brand: {roles: [exclude]}`` → the names, in order."""
    return tuple(next(iter(item)) if isinstance(item, dict) else str(item) for item in items or [])


@lru_cache(maxsize=16)
def _read(path: Path, _mtime_ns: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return _names(domain.get("intents")), _names(domain.get("entities"))


def _load(path: Path | str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    path = Path(path) if path is not None else DOMAIN_PATH
    # cached per file version: an edited domain.yml is read again
    return _read(path, path.stat().st_mtime_ns)


def intents(path: Path | str | None = None) -> tuple[str, ...]:
    """The intent names of ``domain.yml`` (or of the domain file at ``path``)."""
    return _load(path)[0]


def entities(path: Path | str | None = None) -> tuple[str, ...]:
    """The entity names of ``domain.yml`` (or of the domain file at ``path``)."""
    return _load(path)[1]


SYNONYM_FILES = (ROOT / "data/nlu/synonyms.yml", ROOT / "data/nlu/generated/lookups.yml")


def synonyms(paths: tuple[Path, ...] = SYNONYM_FILES) -> dict[str, list[str]]:
    """The NLU's entity synonyms (canonical value → surface forms) from the hand-written file
    and the catalog-generated one: the shop's words for its own values ("jumper" → sweaters),
    which the recommender's text scan uses too. Missing files give nothing."""
    out: dict[str, list[str]] = {}
    for path in paths:
        if not path.exists():
            continue
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if isinstance(item, dict) and "synonym" in item:
                forms = [line.strip()[2:].strip() for line in str(item.get("examples", "")).splitlines()
                         if line.strip().startswith("- ")]
                out.setdefault(str(item["synonym"]), []).extend(forms)
    return out
