#!/usr/bin/env python3
"""Judge the demo catalog for the evaluation queries and write ``queries.tsv`` + ``qrels.tsv``.

The queries were written by hand as a shopper would type them (plain words, a few typos,
never a copy of a product title). Each one carries explicit criteria, in the table below, and
every product of the catalog is judged against them — so the judgments are reproducible and
are rebuilt whenever the catalog changes:

* grade 2 (exact): the product's type (category leaf) is one of ``types`` and it meets every
  other criterion of the query;
* grade 1 (partial): the right type with exactly one criterion missed, or a related type
  (``related``) that meets every other criterion;
* grade 0: everything else (not written, as in TREC qrels).

Criteria: ``attrs`` (attribute equals, case-insensitive), ``at_least``/``at_most`` (leading
number of an attribute, e.g. battery "30 h" ≥ 20), ``gender`` ("women" also accepts unisex),
``price_max``/``price_min``, ``materials``/``colors``/``sizes`` (any of), ``title_any`` (a word
of the title). Stock is not judged: relevance is about the product, availability is ranking's job.

    python -m tools.build_qrels [--catalog data/catalog/products.jsonl] [--out-dir data/eval]

The script fails (exit 1) if a query ends up with no grade-2 product.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from recommender.catalog import Product, load_catalog

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Q:
    qid: str
    text: str
    types: tuple[str, ...]
    related: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()
    at_least: tuple[tuple[str, float], ...] = ()
    at_most: tuple[tuple[str, float], ...] = ()
    gender: str | None = None
    price_max: float | None = None
    price_min: float | None = None
    materials: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    title_any: tuple[str, ...] = ()


QUERIES: list[Q] = [
    # footwear
    Q("q01", "waterproof hiking boots for women under 150", ("Hiking Boots",), ("Trail Running Shoes", "Winter Boots"),
      attrs=(("waterproof", "yes"),), gender="women", price_max=150),
    Q("q02", "red running shoes for men", ("Running Shoes",), ("Trail Running Shoes",), colors=("red",), gender="men"),
    Q("q03", "insulated winter boots for kids", ("Winter Boots",), ("Rain Boots",), gender="kids"),
    Q("q04", "hikking boots waterprof", ("Hiking Boots",), ("Winter Boots", "Trail Running Shoes"), attrs=(("waterproof", "yes"),)),
    Q("q05", "suede chelsea boots", ("Chelsea Boots",), ("Casual Sneakers",), materials=("suede",)),
    Q("q06", "wellies for the garden", ("Rain Boots",)),
    Q("q07", "leather shoes to wear at a wedding", ("Dress Shoes",), ("Flats & Heels", "Chelsea Boots"), materials=("leather",)),
    Q("q08", "cosy slippers with sheepskin lining", ("Slippers",), materials=("shearling",)),
    Q("q09", "ballet flats", ("Flats & Heels",), title_any=("Ballet Flat",)),
    Q("q10", "something for my feet at the beach this summer", ("Sandals",)),
    Q("q11", "trail runners that keep water out", ("Trail Running Shoes",), ("Hiking Boots",), attrs=(("waterproof", "yes"),)),
    Q("q12", "white canvas sneakers", ("Casual Sneakers",), materials=("canvas",), colors=("white",)),
    Q("q13", "running shoes size 12 under 100", ("Running Shoes",), ("Trail Running Shoes",), sizes=("12",), price_max=100),
    # apparel
    Q("q14", "warm wool sweater", ("Sweaters",), ("Fleece Jackets", "Hoodies & Sweatshirts"), materials=("wool",)),
    Q("q15", "cashmre sweater", ("Sweaters",), ("Scarves & Gloves",), materials=("cashmere",)),
    Q("q16", "lightweight rain jacket that packs small", ("Rain Jackets",), attrs=(("packable", "yes"),)),
    Q("q17", "down jacket for really cold weather", ("Down Jackets",), ("Coats",), at_least=(("fill power", 700),)),
    Q("q18", "puffer vest", ("Down Jackets",), title_any=("Vest",)),
    Q("q19", "merino running top", ("Running Tops",), ("T-Shirts",), materials=("merino wool",)),
    Q("q20", "high waisted yoga leggings", ("Leggings",), attrs=(("rise", "high"),)),
    Q("q21", "black jeans for men", ("Jeans",), ("Trousers",), colors=("black",), gender="men"),
    Q("q22", "breathable linen shirt for summer", ("Shirts",), ("T-Shirts",), materials=("linen",)),
    Q("q23", "oxford shirt for the office", ("Shirts",), ("T-Shirts",), title_any=("Oxford",)),
    Q("q24", "midi dress for a summer wedding", ("Dresses",), ("Skirts",), attrs=(("length", "midi"),)),
    Q("q25", "soft cashmere scarf", ("Scarves & Gloves",), materials=("cashmere",), title_any=("Scarf",)),
    Q("q26", "wool beanie", ("Hats",), title_any=("Beanie",), materials=("wool",)),
    Q("q27", "merino socks for hiking", ("Socks",), materials=("merino wool",)),
    Q("q28", "pyjamas for kids", ("Pajamas",), gender="kids"),
    Q("q29", "wool winter coat for women", ("Coats",), ("Down Jackets",), materials=("wool",), gender="women"),
    Q("q30", "tshirt organic coton", ("T-Shirts",), ("Running Tops",), materials=("organic cotton",)),
    Q("q31", "hoodie for my son", ("Hoodies & Sweatshirts",), ("Fleece Jackets",), gender="kids"),
    Q("q32", "warm hat for skiing", ("Hats",), ("Scarves & Gloves",), title_any=("Beanie",)),
    Q("q33", "mens chinos", ("Trousers",), ("Jeans", "Shorts"), title_any=("Chino",), gender="men"),
    # electronics
    Q("q34", "cheap wireless earbuds with long battery", ("Wireless Earbuds",), ("Headphones",),
      price_max=60, at_least=(("battery", 8),)),
    Q("q35", "noise cancelling headphones for flights", ("Headphones",), ("Wireless Earbuds",), attrs=(("noise cancelling", "yes"),)),
    Q("q36", "wireles headphons", ("Headphones",), ("Wireless Earbuds",), attrs=(("wireless", "yes"),)),
    Q("q37", "headphones under 100 dollars", ("Headphones",), ("Wireless Earbuds",), price_max=100),
    Q("q38", "speaker i can take in the pool", ("Bluetooth Speakers",), attrs=(("waterproof", "yes"),)),
    Q("q39", "smartwatch with gps and a battery that lasts a week", ("Smartwatches",), ("Fitness Trackers",),
      attrs=(("gps", "yes"),), at_least=(("battery", 7),)),
    Q("q40", "cheap fitness tracker", ("Fitness Trackers",), ("Smartwatches",), price_max=60),
    Q("q41", "mechanical keyboard with backlight", ("Keyboards",), title_any=("Mechanical",), attrs=(("backlit", "yes"),)),
    Q("q42", "ergonomic wireless mouse", ("Mice",), ("Keyboards",), title_any=("Ergonomic",), attrs=(("wireless", "yes"),)),
    Q("q43", "4k webcam for streaming", ("Webcams",), ("Action Cameras",), attrs=(("resolution", "4K"),)),
    Q("q44", "power bank 20000mah", ("Power Banks",), ("Chargers",), at_least=(("capacity", 20000),)),
    Q("q45", "fast usb c charger for my laptop 65w", ("Chargers",), ("Power Banks",), at_least=(("power", 60),)),
    Q("q46", "waterproof ereader to read at the beach", ("E-Readers",), attrs=(("waterproof", "yes"),)),
    Q("q47", "camera for snorkeling", ("Action Cameras",)),
    Q("q48", "something to keep my phone charged on a trip", ("Power Banks",), ("Chargers",)),
    Q("q49", "braided usb-c cable", ("Cables & Hubs",), title_any=("USB-C Cable",)),
    # home
    Q("q50", "linen duvet cover queen", ("Duvet Covers",), ("Sheet Sets",), materials=("linen",), sizes=("Queen",)),
    Q("q51", "cotton sheets king size", ("Sheet Sets",), ("Duvet Covers",), materials=("cotton",), sizes=("King",)),
    Q("q52", "firm pillow for side sleepers", ("Pillows",), attrs=(("firmness", "firm"),)),
    Q("q53", "cozy fleece throw for the couch", ("Throw Blankets",), materials=("fleece",)),
    Q("q54", "soft turkish cotton towels", ("Towels",), materials=("Turkish cotton",)),
    Q("q55", "cast iron skillet", ("Cookware",), materials=("cast iron",), title_any=("Skillet",)),
    Q("q56", "non stick pan that works on induction", ("Cookware",), title_any=("Nonstick",), attrs=(("induction compatible", "yes"),)),
    Q("q57", "a good chef knife", ("Knives",), title_any=("Chef's Knife",)),
    Q("q58", "drip coffee machine under 120", ("Coffee & Tea",), title_any=("Drip Coffee Maker",), price_max=120),
    Q("q59", "electric kettle", ("Coffee & Tea",), ("Camp Kitchen",), title_any=("Kettle",)),
    Q("q60", "dimmable desk lamp", ("Lamps",), title_any=("Desk Lamp",), attrs=(("dimmable", "yes"),)),
    Q("q61", "candle that smells of vanilla", ("Candles",), attrs=(("scent", "vanilla"),)),
    Q("q62", "rug i can put in the washing machine", ("Rugs",), attrs=(("machine washable", "yes"),)),
    Q("q63", "velvet cushion covers", ("Cushions",), materials=("velvet",)),
    Q("q64", "baskets to tidy up the closet", ("Baskets & Bins",)),
    Q("q65", "gift for a coffee lover", ("Coffee & Tea",), ("Drinkware",)),
    # outdoor
    Q("q66", "4 person tent for family camping", ("Tents",), at_least=(("sleeps", 4),)),
    Q("q67", "ultralight backpacking tent", ("Tents",), at_most=(("weight", 2000),)),
    Q("q68", "sleeping bag for below freezing", ("Sleeping Bags",), at_most=(("temperature rating", -5),)),
    Q("q69", "insulated bottle that keeps water cold", ("Water Bottles",), attrs=(("insulated", "yes"),)),
    Q("q70", "bright rechargeable head torch", ("Headlamps",), attrs=(("rechargeable", "yes"),), at_least=(("lumens", 600),)),
    Q("q71", "big backpack for multi day treks", ("Backpacks",), at_least=(("capacity", 48),)),
    Q("q72", "small daypack under 80 dollars", ("Backpacks",), at_most=(("capacity", 28),), price_max=80),
    Q("q73", "carbon trekking poles", ("Trekking Poles",), materials=("carbon fiber",)),
    Q("q74", "light folding camp chair", ("Camp Furniture",), title_any=("Chair",), at_most=(("weight", 2000),)),
    Q("q75", "camping stove", ("Camp Kitchen",), title_any=("Stove",)),
    Q("q76", "dry bag for kayaking 20 liters", ("Dry Bags",), ("Backpacks",), at_least=(("capacity", 20),)),
    Q("q77", "bike helmet with mips", ("Bike Helmets",), attrs=(("mips", "yes"),)),
    Q("q78", "sleping pad for camping", ("Sleeping Pads",), ("Sleeping Bags",)),
]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _number(value: str | None) -> float | None:
    match = _NUMBER.search(value or "")
    return float(match.group()) if match else None


def _checks(q: Q, product: Product) -> list[bool]:
    """One boolean per criterion of ``q`` other than the product type."""
    attrs = {k.lower(): v.lower() for k, v in product.attributes.items()}
    title = product.title.lower()
    checks = [attrs.get(key.lower()) == value.lower() for key, value in q.attrs]
    checks += [(n := _number(attrs.get(key.lower()))) is not None and n >= bound for key, bound in q.at_least]
    checks += [(n := _number(attrs.get(key.lower()))) is not None and n <= bound for key, bound in q.at_most]
    if q.gender:
        allowed = {q.gender} if q.gender == "kids" else {q.gender, "unisex"}
        checks.append((product.gender or "unisex") in allowed)
    if q.price_max is not None:
        checks.append(product.price is not None and product.price <= q.price_max)
    if q.price_min is not None:
        checks.append(product.price is not None and product.price >= q.price_min)
    if q.materials:
        checks.append(any(w.lower() in m.lower() for w in q.materials for m in product.materials))
    if q.colors:
        checks.append(any(c.lower() in (pc.lower() for pc in product.colors) for c in q.colors))
    if q.sizes:
        checks.append(any(s in product.sizes for s in q.sizes))
    if q.title_any:
        checks.append(any(w.lower() in title for w in q.title_any))
    return checks


def grade(q: Q, product: Product) -> int:
    """2 exact, 1 partial, 0 irrelevant (rules in the module docstring)."""
    leaf = product.product_type
    misses = _checks(q, product).count(False)
    if leaf in q.types:
        return 2 if misses == 0 else 1 if misses == 1 else 0
    if leaf in q.related and misses == 0:
        return 1
    return 0


def build(products: list[Product]) -> dict[str, dict[str, int]]:
    return {q.qid: {p.id: g for p in products if (g := grade(q, p)) > 0} for q in QUERIES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=ROOT / "data/catalog/products.jsonl")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    report = load_catalog(args.catalog)
    if report.errors:
        print(f"warning: {len(report.errors)} bad catalog rows skipped", file=sys.stderr)
    judgments = build(report.products)
    empty = [q.qid for q in QUERIES if not any(g == 2 for g in judgments[q.qid].values())]
    if empty:
        print(f"error: no grade-2 product for {', '.join(empty)}", file=sys.stderr)
        return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "queries.tsv").write_text("".join(f"{q.qid}\t{q.text}\n" for q in QUERIES), encoding="utf-8")
    lines = [f"{qid}\t{pid}\t{g}\n" for qid, grades in judgments.items() for pid, g in sorted(grades.items())]
    (args.out_dir / "qrels.tsv").write_text("".join(lines), encoding="utf-8")
    exact = [sum(g == 2 for g in grades.values()) for grades in judgments.values()]
    print(f"wrote {len(QUERIES)} queries and {len(lines)} judgments to {args.out_dir} "
          f"(grade-2 per query: min {min(exact)}, median {sorted(exact)[len(exact) // 2]}, max {max(exact)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
