#!/usr/bin/env python3
"""Generate Rasa lookup tables and synonyms from the shop's catalog.

    .venv/bin/python -m tools.build_lookups [--catalog PATH] [--out PATH]

Reads the catalog with ``recommender.catalog.load_catalog`` and writes
``data/nlu/generated/lookups.yml`` with lookup tables ``product_type``, ``brand``,
``color``, ``size`` and ``material`` plus synonyms that map surface forms to the
catalog's own values, so a shop with another catalog gets an assistant that knows
its products:

- product types are the catalog's category names below the root department
  ("Running Shoes", "Sneakers"), lower-cased ("running shoes"); singular and plural
  forms and the parts of "A & B" names ("hoodies", "sweatshirt") map back to them;
- brands keep the catalog's spelling ("Alder & Co"); lower-case and "and" forms map to it;
- ``product_word``: the words of product titles ("french", "press", "mug"), no entity, and
  ``product_noun``, their last words ("mug", "mugs"): features for DIET and the catalog
  evidence of ``rasa_ext/intent_evidence.py``; ``gender``: the catalog's genders and their forms;
- colours, materials and sizes are the values found in the catalog (numeric sizes are
  left out of the lookup table because they look like prices; DIET learns them from context).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from recommender.catalog import Product, load_catalog
from recommender.words import STOPWORDS

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_CATALOG = ROOT / "data/catalog/products.jsonl"
DEFAULT_OUT = ROOT / "data/nlu/generated/lookups.yml"
STATIC_SYNONYMS = ROOT / "data/nlu/synonyms.yml"

_IRREGULAR_PLURALS = {"scarf": "scarves", "knife": "knives", "shelf": "shelves", "leaf": "leaves",
                      "half": "halves", "wife": "wives", "mouse": "mice", "foot": "feet"}
_GENDER_SINGULAR = {"men": "man", "women": "woman"}
_IRREGULAR_SINGULARS = {plural: single for single, plural in _IRREGULAR_PLURALS.items()}
_UNCOUNTABLE = {"jeans", "shorts", "trousers", "leggings", "pajamas", "pyjamas", "glasses",
                "headphones", "earbuds", "sneakers", "clothing", "footwear", "outerwear",
                "knitwear", "activewear", "sleepwear", "bedding", "decor", "storage", "gear",
                "lighting", "furniture", "drinkware", "cookware", "hydration", "audio", "power"}


def singular(word: str) -> str:
    """English singular of the last word of a phrase ("running shoes" → "running shoe")."""
    head, _, last = word.rpartition(" ")
    low = last.lower()
    if low in _UNCOUNTABLE or low.endswith("ing"):
        single = last
    elif low in _IRREGULAR_SINGULARS:
        single = _IRREGULAR_SINGULARS[low]
    elif re.search(r"(ches|shes|sses|xes)$", low):
        single = last[:-2]
    elif re.search(r"[^aeiou]ies$", low):
        single = last[:-3] + "y"
    elif low.endswith("s") and not low.endswith("ss"):
        single = last[:-1]
    else:
        single = last
    return f"{head} {single}" if head else single


def plural(word: str) -> str:
    """English plural of the last word of a phrase ("rain jacket" → "rain jackets")."""
    head, _, last = word.rpartition(" ")
    low = last.lower()
    if low in _UNCOUNTABLE or low.endswith("ing") or (low.endswith("s") and not low.endswith("ss")):
        many = last  # already plural
    elif low in _IRREGULAR_PLURALS:
        many = _IRREGULAR_PLURALS[low]
    elif re.search(r"(ch|sh|ss|x)$", low):
        many = last + "es"
    elif re.search(r"[^aeiou]y$", low):
        many = last[:-1] + "ies"
    else:
        many = last + "s"
    return f"{head} {many}" if head else many


@dataclass
class Vocabulary:
    """Entity values found in a catalog, and the surface forms that map onto them."""

    lookups: dict[str, set[str]] = field(default_factory=lambda: {
        "product_type": set(), "product_word": set(), "product_noun": set(), "gender": set(),
        "brand": set(), "color": set(), "size": set(), "material": set()})
    synonyms: dict[str, set[str]] = field(default_factory=dict)  # canonical value → variants

    def add(self, entity: str, canonical: str, variants: Iterable[str] = ()) -> None:
        canonical = canonical.strip()
        if not canonical:
            return
        self.lookups[entity].add(canonical)
        for variant in (v.strip() for v in variants):
            if variant and variant != canonical:
                self.lookups[entity].add(variant)
                self.synonyms.setdefault(canonical, set()).add(variant)


def product_type_forms(name: str) -> tuple[str, list[str]]:
    """Canonical value and variants of a category name ("Hoodies & Sweatshirts")."""
    canonical = name.lower().strip()
    parts = [p.strip() for p in re.split(r"\s*(?:&|\band\b|/|,)\s*", canonical) if p.strip()]
    forms = {canonical}
    if len(parts) > 1:
        forms.add(canonical.replace("&", "and"))
    for part in parts:
        forms.update({part, singular(part), plural(part)})
        if part.endswith("ies"):  # "hoodies" → "hoodie" as well as "hoody"
            forms.add(part[:-1])
    for form in list(forms):
        if "-" in form:  # "t-shirts" → "t shirts", "tshirts"
            forms.update({form.replace("-", " "), form.replace("-", "")})
    forms.discard(canonical)
    return canonical, sorted(forms)


def build_vocabulary(products: Iterable[Product]) -> Vocabulary:
    vocab = Vocabulary()
    for product in products:
        for name in product.category[1:]:  # the root department ("Home") is too vague a type
            canonical, variants = product_type_forms(name)
            vocab.add("product_type", canonical, variants)
        if product.brand:
            brand = product.brand.strip()
            variants = [brand.lower()]  # Rasa matches synonyms case-insensitively
            if "&" in brand:
                variants.append(brand.replace("&", "and").lower())
            vocab.add("brand", brand, variants)
        title_words = [w for w in re.findall(r"[a-z]+", product.title.lower())
                       if len(w) >= 3 and w not in STOPWORDS]
        for word in title_words:  # "french", "press", "mug"
            vocab.add("product_word", word, [])
        # lookup values only, no synonyms (they would remap other entities' values)
        if title_words:  # the head noun of the title: "Ember Stoneware Mug" → mug, mugs
            for form in {singular(title_words[-1]), plural(title_words[-1])}:
                vocab.add("product_noun", form, [])
        if product.gender:  # "women", "women's", "woman"
            gender = product.gender.lower()
            for form in {gender, f"{gender}'s", _GENDER_SINGULAR.get(gender, singular(gender))}:
                vocab.add("gender", form, [])
        for color in product.colors:
            vocab.add("color", color.lower(), [])  # lookups match case-insensitively
        for material in product.materials:
            vocab.add("material", material.lower(), [])
        for size in product.sizes:
            if not re.fullmatch(r"[\d.,]+", size.strip()):
                vocab.add("size", size.strip(), [])
    return vocab


def _static_synonym_names(path: Path) -> set[str]:
    """Surface forms already defined in the hand-written synonyms file (they take precedence)."""
    if not path.exists():
        return set()
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s+- (.+)$", line)
        if match:
            names.add(match.group(1).strip().lower())
    return names


def _quote(value: str) -> str:
    """A YAML-safe list item inside a block literal (Rasa reads ``- text`` lines verbatim)."""
    return value.replace("\n", " ")


def render_yaml(vocab: Vocabulary, reserved: set[str] = frozenset()) -> str:
    lines = ['version: "3.1"', "",
             "# GENERATED by tools/build_lookups.py from the catalog. Do not edit; rebuild.",
             "nlu:"]
    for entity in ("product_type", "product_word", "product_noun", "gender", "brand", "color", "size",
                   "material"):
        values = sorted(vocab.lookups[entity], key=str.lower)
        if not values:
            continue
        lines += [f"- lookup: {entity}", "  examples: |"]
        lines += [f"    - {_quote(v)}" for v in values]
        lines.append("")
    # a surface form maps to one value only: hand-written synonyms and canonical values win
    canonicals = {v.lower() for values in vocab.lookups.values() for v in values if v in vocab.synonyms}
    seen: set[str] = set(reserved)
    for canonical in sorted(vocab.synonyms, key=str.lower):
        variants = [v for v in sorted(vocab.synonyms[canonical], key=str.lower)
                    if v.lower() not in seen and (v.lower() not in canonicals or v.lower() == canonical.lower())]
        if not variants:
            continue
        seen.update(v.lower() for v in variants)
        lines += [f"- synonym: {canonical}", "  examples: |"]
        lines += [f"    - {_quote(v)}" for v in variants]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--static-synonyms", type=Path, default=STATIC_SYNONYMS)
    args = parser.parse_args(argv)
    if not args.catalog.exists():
        print(f"error: catalog not found: {args.catalog}", file=sys.stderr)
        return 2
    report = load_catalog(args.catalog)
    for error in report.errors:
        print(f"warning: {args.catalog}: {error}", file=sys.stderr)
    if not report.products:
        print(f"error: no valid products in {args.catalog}", file=sys.stderr)
        return 1
    vocab = build_vocabulary(report.products)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_yaml(vocab, _static_synonym_names(args.static_synonyms)), encoding="utf-8")
    counts = ", ".join(f"{k}={len(v)}" for k, v in vocab.lookups.items())
    print(f"wrote {args.out} from {len(report.products)} products ({counts}, synonyms={len(vocab.synonyms)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
