#!/usr/bin/env python3
"""Generate the Aisle demo shop catalog (JSON Lines, docs/architecture.md §3.1).

Deterministic: every product is drawn from its own ``random.Random`` seeded with the fixed
seed and the product's number, so product ``P00042`` is the same whatever ``--scale`` is.

    python -m tools.generate_catalog                       # 1,200 products → data/catalog/products.jsonl
    python -m tools.generate_catalog --scale 100000 --output var/bench/products-100k.jsonl

Standard library only, besides the project's atomic writer (``common.files``); each record is
validated with ``recommender.catalog.Product`` (the project root is put on ``sys.path`` so the
script runs without installing anything).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.files import atomic_open

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "data/catalog/products.jsonl"
DEFAULT_COUNT = 1200
SEED = 20240611

AttrGen = Callable[[random.Random, str], str | None]  # (rng, noun) -> value or None (omit)


# ---------------------------------------------------------------- attribute helpers
def pick(*values: str) -> AttrGen:
    return lambda rng, noun: rng.choice(values)


def num(lo: int, hi: int, unit: str, step: int = 1) -> AttrGen:
    return lambda rng, noun: f"{rng.randrange(lo, hi + 1, step)} {unit}".strip()


def yes(p: float) -> AttrGen:
    return lambda rng, noun: "yes" if rng.random() < p else "no"


def when(word: str, then: AttrGen, otherwise: AttrGen | None = None) -> AttrGen:
    """Noun-dependent attribute: ``then`` if the noun contains ``word``."""

    def gen(rng: random.Random, noun: str) -> str | None:
        if word.lower() in noun.lower():
            return then(rng, noun)
        return otherwise(rng, noun) if otherwise else None

    return gen


def fixed(value: str) -> AttrGen:
    return lambda rng, noun: value


# ---------------------------------------------------------------- vocabulary
BRANDS: dict[str, list[str]] = {
    "Apparel": ["Alder & Co", "Marlow Knit", "Harbor Lane", "Sable Row", "Everfield",
                "Wrenfield", "Bramble & Birch", "Lofthouse", "Meadowlark"],
    "Footwear": ["Stridewell", "Featherstep", "Cobblestone & Finch", "Rootstock",
                 "Trailmark Supply", "Ferrow"],
    "Electronics": ["Voltline", "Kestrel Audio", "Pulsebyte", "Arcwave", "Circuit Bay",
                    "Nimbus Sound", "Quillon", "Glimmerlab"],
    "Home": ["Halcyon Home", "Kettleworth", "Lumen & Oak", "Copperleaf", "Moss & Ember",
             "Linden House", "Brightwell", "Juniper Supply"],
    "Outdoor": ["Northpeak", "Fjellby", "Redfern Outfitters", "Skyvale", "Cobalt Ridge",
                "Drift & Dune", "Ironbark", "Cinder Goods"],
}
# a few brands sell across two departments, as real ones do
CROSS_BRANDS = {"Apparel": ["Northpeak", "Fjellby"], "Footwear": ["Northpeak", "Redfern Outfitters"],
                "Outdoor": ["Trailmark Supply"], "Home": ["Alder & Co"]}

COLORS = {
    "Apparel": ["black", "white", "navy", "grey", "charcoal", "olive", "burgundy", "cream", "camel",
                "red", "blue", "green", "pink", "beige", "brown", "mustard", "teal", "lavender"],
    "Footwear": ["black", "brown", "tan", "grey", "navy", "white", "olive", "red", "blue", "burgundy"],
    "Electronics": ["black", "white", "silver", "graphite", "midnight blue", "rose gold", "sage green"],
    "Home": ["white", "cream", "grey", "charcoal", "sage", "terracotta", "navy", "natural", "black",
             "blush", "mustard", "silver"],
    "Outdoor": ["orange", "green", "olive", "blue", "red", "yellow", "grey", "black", "teal"],
}

LINES = {
    "Apparel": ["Everyday", "Heritage", "Coastline", "Harbour", "Fireside", "Weekend", "Metro",
                "Prairie", "Brookside", "Nordic", "Cabin", "Atelier", "Meridian", "Solstice"],
    "Footwear": ["Trailhead", "Summit", "Ridgeline", "Cascade", "Pathfinder", "Cityline", "Granite",
                 "Switchback", "Tempo", "Stride", "Boulder", "Canyon", "Meadow", "Alpine"],
    "Electronics": ["Aura", "Pulse", "Echo", "Nova", "Flux", "Orbit", "Vector", "Halo", "Quantum",
                    "Spark", "Zenith", "Atlas", "Prism", "Drift"],
    "Home": ["Hearth", "Linen Row", "Willow", "Oakridge", "Haven", "Nest", "Cove", "Juniper", "Ember",
             "Hollow", "Fern", "Tidal", "Birchwood", "Loft"],
    "Outdoor": ["Basecamp", "Trailblazer", "Tundra", "Sierra", "Glacier", "Timberline", "Ranger",
                "Backcountry", "Summit", "Horizon", "Wayfarer", "Kodiak", "Aspen", "Traverse"],
}
SUFFIXES = ["Pro", "Lite", "II", "Classic", "Plus", "Max", "Essential", "Sport", "Edge", "Air"]

SIZES = {
    "apparel": ["XS", "S", "M", "L", "XL", "XXL"],
    "kids_apparel": ["4Y", "6Y", "8Y", "10Y", "12Y", "14Y"],
    "waist": ["28", "30", "32", "34", "36", "38", "40"],
    "shoe": ["6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13"],
    "kids_shoe": ["10K", "11K", "12K", "13K", "1Y", "2Y", "3Y"],
    "sml": ["S", "M", "L"],
    "bed": ["Twin", "Full", "Queen", "King"],
    "pillow": ["Standard", "Queen", "King"],
    "rug": ["80 x 150 cm", "120 x 170 cm", "160 x 230 cm", "200 x 290 cm"],
    "none": [],
}
GENDER_WORD = {"men": "Men's", "women": "Women's", "kids": "Kids'", "unisex": ""}

CARE = {
    "Apparel": ["Machine washable at 30°C.", "Wash cold and lay flat to dry.",
                "Cut for a true-to-size fit; size up for layering.", "Pre-shrunk, so it keeps its shape wash after wash.",
                "Ethically made in a family-run factory."],
    "Footwear": ["Runs true to size.", "If you are between sizes, go half a size up.",
                 "A removable insole makes room for orthotics.", "Spot clean with a soft brush."],
    "Electronics": ["Comes with a USB-C cable and a two-year warranty.",
                    "Tested with phones, tablets and laptops.",
                    "Firmware updates arrive through the companion app.", "Ships in plastic-free packaging."],
    "Home": ["Wipe clean with a damp cloth.", "Designed in-house and made to last for years.",
             "Arrives ready to use, no assembly needed.", "Pairs well with the rest of the collection."],
    "Outdoor": ["Packs down small for the trip in.", "Backed by a lifetime repair promise.",
                "Tested by guides through a full season.", "Comes with a stuff sack."],
}

OPENINGS = [
    "Built for {use}, this {noun} {pitch}.",
    "A {adj} {noun} made for {use}.",
    "{brand} designed this {noun} for {use}.",
    "Whether it's for {use} or just every day, this {noun} {pitch}.",
    "The {title} is a {adj} pick for {use}.",
]
MATERIAL_SENTENCES = [
    "Made from {materials}.",
    "Crafted in {materials} for a {feel} feel.",
    "The {materials} construction is built to last.",
    "{Materials} throughout, with carefully finished seams.",
]
ATTR_SENTENCES: dict[str, dict[str, list[str]] | list[str]] = {
    "waterproof": {"yes": ["A waterproof membrane keeps the wet out.", "Fully waterproof, so rain is not a worry."],
                   "no": ["Breathable rather than waterproof, so it stays cool on dry days."]},
    "fabric weight": ["A plush {v} weave.", "Fabric weight: {v}."],
    "weight": ["It weighs just {v}.", "At {v}, it is easy to carry all day.", "Weight: {v}."],
    "battery": ["Battery life reaches {v} on a single charge.", "Expect around {v} of battery life.",
                "One charge lasts about {v}."],
    "noise cancelling": {"yes": ["Active noise cancelling hushes trains, planes and open offices."],
                         "no": []},
    "insulated": {"yes": ["Insulation keeps the cold out on freezing days.", "Warm insulation traps heat."],
                  "no": []},
    "fill power": ["Filled with {v} down for warmth without bulk."],
    "temperature rating": ["Rated to {v}."],
    "capacity": ["It holds {v}.", "Capacity: {v}."],
    "water resistance": ["Water resistance rated {v}."],
    "thread count": ["A {v} thread count gives a smooth, cool hand."],
    "power": ["A {v} output gets things done quickly."],
    "lumens": ["Throws up to {v} of light."],
    "sleeps": ["Sleeps {v} with room for gear."],
    "gps": {"yes": ["Built-in GPS tracks runs and rides without a phone."], "no": []},
    "induction compatible": {"yes": ["Works on every hob, induction included."], "no": []},
    "dishwasher safe": {"yes": ["Dishwasher safe for easy clean-up."], "no": ["Hand wash to keep it at its best."]},
    "fit": ["A {v} fit that moves with you."],
    "warmth": ["{V} warmth for the in-between seasons."],
    "cushioning": ["{V} cushioning softens every stride."],
    "wireless": {"yes": ["Wireless, with no cable getting in the way."], "no": ["A wired connection, with no battery to charge."]},
    "resolution": ["Records in crisp {v}."],
    "screen": ["A {v} glare-free screen that reads like paper."],
    "firmness": ["{V} support for back and side sleepers."],
    "burn time": ["Burns for about {v}."],
}
FEELS = ["soft", "sturdy", "premium", "natural", "substantial", "smooth", "solid"]
ADJECTIVES = ["versatile", "dependable", "comfortable", "lightweight", "well-made", "good-looking",
              "hard-wearing", "thoughtfully designed", "great-value", "refined"]


@dataclass(frozen=True)
class ProductType:
    path: tuple[str, ...]
    nouns: tuple[str, ...]
    price: tuple[float, float]
    materials: tuple[tuple[str, ...], ...] = ()
    genders: tuple[str, ...] = ("unisex",)
    sizes: str = "none"
    attrs: dict[str, AttrGen] = field(default_factory=dict)
    # (attribute, value, title word): a feature worth naming in the title
    title_features: tuple[tuple[str, str, str], ...] = ()
    uses: tuple[str, ...] = ("everyday use",)
    pitches: tuple[str, ...] = ("does its job well",)
    noun_materials: dict[str, tuple[str, ...]] = field(default_factory=dict)
    noun_prices: dict[str, tuple[float, float]] = field(default_factory=dict)  # by a word of the noun
    weight: int = 1  # share of the catalog relative to other types

    @property
    def root(self) -> str:
        return self.path[0]


T = ProductType
TYPES: list[ProductType] = [
    # ---------------------------------------------------------------- apparel
    T(("Apparel", "Tops", "T-Shirts"), ("Crew Neck Tee", "Pocket T-Shirt", "V-Neck Tee", "Long Sleeve Tee", "Henley Tee"),
      (14, 45), (("organic cotton",), ("cotton",), ("cotton", "polyester"), ("merino wool",), ("linen", "cotton")),
      ("men", "women", "unisex", "kids"), "apparel",
      {"fit": pick("slim", "regular", "relaxed"), "sleeve": when("Long Sleeve", fixed("long"), fixed("short"))},
      uses=("warm afternoons", "layering", "weekends off", "travel days"),
      pitches=("keeps its shape after many washes", "feels soft from the first wear"), weight=2),
    T(("Apparel", "Tops", "Shirts"), ("Oxford Shirt", "Flannel Shirt", "Chambray Shirt", "Linen Shirt", "Button-Down Shirt"),
      (29, 89), (("cotton",), ("organic cotton",), ("cotton", "elastane")), ("men", "women", "kids"), "apparel",
      {"fit": pick("slim", "regular", "relaxed"), "sleeve": pick("long", "long", "short")},
      uses=("the office", "dinner out", "smart-casual Fridays"), pitches=("looks sharp with or without a tie",),
      noun_materials={"Linen": ("linen",), "Flannel": ("cotton flannel",), "Chambray": ("cotton chambray",)}),
    T(("Apparel", "Knitwear", "Sweaters"), ("Crew Sweater", "Cable-Knit Sweater", "V-Neck Sweater", "Turtleneck Sweater", "Cardigan"),
      (39, 169), (("merino wool",), ("lambswool",), ("cashmere",), ("cotton",), ("wool", "nylon"), ("acrylic",), ("alpaca wool",)),
      ("men", "women", "unisex", "kids"), "apparel",
      {"warmth": pick("light", "medium", "heavy"), "fit": pick("regular", "relaxed")},
      uses=("cold mornings", "winter evenings", "the first chilly days of autumn"),
      pitches=("keeps you warm without the bulk", "layers easily over a shirt"), weight=2),
    T(("Apparel", "Tops", "Hoodies & Sweatshirts"), ("Pullover Hoodie", "Zip Hoodie", "Crewneck Sweatshirt", "Fleece Hoodie"),
      (29, 89), (("cotton", "polyester"), ("organic cotton",), ("recycled polyester fleece",)),
      ("men", "women", "unisex", "kids"), "apparel", {"fit": pick("regular", "relaxed", "oversized")},
      uses=("lazy Sundays", "the gym", "campus days"), pitches=("is brushed soft on the inside",)),
    T(("Apparel", "Bottoms", "Jeans"), ("Slim Jeans", "Straight Jeans", "Relaxed Jeans", "Bootcut Jeans", "Tapered Jeans"),
      (39, 129), (("denim",), ("stretch denim",), ("organic cotton denim",)), ("men", "women"), "waist",
      {"rise": pick("low", "mid", "high"), "inseam": pick("30 in", "32 in", "34 in")},
      uses=("everyday wear", "weekends"), pitches=("breaks in beautifully over time",), weight=2),
    T(("Apparel", "Bottoms", "Trousers"), ("Chino", "Pleated Trouser", "Cargo Pant", "Linen Trouser", "Jogger"),
      (35, 110), (("cotton twill",), ("cotton", "elastane"), ("linen",), ("wool",)), ("men", "women", "kids"), "waist",
      {"fit": pick("slim", "regular", "relaxed")}, uses=("work", "travel", "weekends"),
      pitches=("works with sneakers or loafers",), noun_materials={"Linen": ("linen",), "Jogger": ("cotton", "polyester")}),
    T(("Apparel", "Bottoms", "Shorts"), ("Chino Short", "Running Short", "Cargo Short", "Swim Short", "Hiking Short"),
      (19, 65), (("cotton",), ("recycled polyester",), ("nylon", "elastane")), ("men", "women", "kids"), "apparel",
      {"inseam": pick("5 in", "7 in", "9 in")}, uses=("summer days", "the beach", "long runs"),
      pitches=("dries fast and packs small",)),
    T(("Apparel", "Bottoms", "Leggings"), ("High-Rise Legging", "Yoga Legging", "Thermal Legging", "Pocket Legging"),
      (25, 95), (("nylon", "elastane"), ("recycled polyester", "elastane"), ("merino wool",)), ("women", "kids"), "apparel",
      {"moisture-wicking": yes(0.8), "rise": pick("mid", "high")}, uses=("yoga", "the gym", "winter runs"),
      pitches=("stays put through every stretch",)),
    T(("Apparel", "Dresses & Skirts", "Dresses"), ("Wrap Dress", "Midi Dress", "Shirt Dress", "Slip Dress", "Knit Dress", "Maxi Dress"),
      (39, 159), (("viscose",), ("cotton",), ("linen",), ("silk",), ("merino wool",)), ("women", "kids"), "apparel",
      {"length": pick("mini", "knee", "midi", "maxi"), "sleeve": pick("sleeveless", "short", "long")},
      uses=("summer weddings", "the office", "holidays", "date night"), pitches=("drapes beautifully",), weight=2),
    T(("Apparel", "Dresses & Skirts", "Skirts"), ("A-Line Skirt", "Pleated Skirt", "Denim Skirt", "Midi Skirt"),
      (29, 99), (("cotton",), ("wool",), ("viscose",), ("denim",)), ("women", "kids"), "apparel",
      {"length": pick("mini", "knee", "midi")}, uses=("workdays", "weekend brunch"), pitches=("swishes as you walk",)),
    T(("Apparel", "Outerwear", "Rain Jackets"), ("Rain Jacket", "Packable Rain Shell", "Waterproof Parka", "Hooded Rain Jacket"),
      (69, 259), (("recycled nylon",), ("polyester",), ("nylon", "polyurethane")), ("men", "women", "unisex", "kids"), "apparel",
      {"waterproof": fixed("yes"), "hood": fixed("yes"), "weight": num(180, 520, "g", 10), "packable": yes(0.5)},
      (("waterproof", "yes", "Waterproof"), ("packable", "yes", "Packable")),
      uses=("wet city commutes", "hikes in the rain", "travel"), pitches=("sheds rain all day",), weight=2),
    T(("Apparel", "Outerwear", "Down Jackets"), ("Down Jacket", "Puffer Jacket", "Down Parka", "Down Vest", "Hooded Puffer"),
      (99, 349), (("nylon", "duck down"), ("recycled polyester", "goose down"), ("nylon", "synthetic insulation")),
      ("men", "women", "unisex", "kids"), "apparel",
      {"insulated": fixed("yes"), "fill power": num(550, 850, "", 50), "weight": num(250, 900, "g", 10),
       "water repellent": yes(0.7)},
      (("insulated", "yes", "Insulated"), ("water repellent", "yes", "Water-Repellent")),
      uses=("freezing winter days", "ski trips", "cold commutes"), pitches=("packs serious warmth into a light layer",), weight=2),
    T(("Apparel", "Outerwear", "Fleece Jackets"), ("Fleece Jacket", "Quarter-Zip Fleece", "Sherpa Fleece", "Grid Fleece Hoodie"),
      (39, 129), (("recycled polyester fleece",), ("polyester fleece",)), ("men", "women", "unisex", "kids"), "apparel",
      {"weight": num(220, 480, "g", 10), "warmth": pick("light", "medium", "heavy")},
      uses=("cool evenings", "layering on the trail"), pitches=("traps warmth and breathes well",)),
    T(("Apparel", "Outerwear", "Coats"), ("Wool Overcoat", "Trench Coat", "Peacoat", "Car Coat"),
      (119, 399), (("wool", "cashmere"), ("cotton gabardine",), ("wool",), ("recycled wool",)), ("men", "women"), "apparel",
      {"length": pick("hip", "knee", "mid-thigh"), "lined": yes(0.8)}, uses=("smart winter outfits", "the commute"),
      pitches=("is tailored to sit cleanly over a suit",), noun_materials={"Wool": ("wool",), "Trench": ("cotton gabardine",)}),
    T(("Apparel", "Activewear", "Running Tops"), ("Running Tee", "Training Tank", "Base Layer Top", "Half-Zip Running Top"),
      (22, 79), (("recycled polyester",), ("merino wool",), ("polyester", "elastane")), ("men", "women", "unisex"), "apparel",
      {"moisture-wicking": fixed("yes"), "reflective details": yes(0.5)}, (("reflective details", "yes", "Reflective"),),
      uses=("morning runs", "interval training", "race day"), pitches=("wicks sweat and dries fast",)),
    T(("Apparel", "Accessories", "Socks"), ("Hiking Sock", "Crew Sock 3-Pack", "Ankle Sock 5-Pack", "Wool Sock", "Running Sock"),
      (9, 32), (("merino wool", "nylon"), ("cotton", "elastane"), ("wool", "nylon")), ("men", "women", "unisex", "kids"), "sml",
      {"cushioning": pick("light", "medium", "full")}, uses=("long walks", "everyday wear", "cold feet"),
      pitches=("stays put without slipping",), noun_materials={"Wool": ("merino wool", "nylon")}),
    T(("Apparel", "Accessories", "Hats"), ("Beanie", "Baseball Cap", "Sun Hat", "Bucket Hat", "Fleece-Lined Beanie"),
      (15, 49), (("merino wool",), ("cotton",), ("acrylic",), ("recycled polyester",)), ("unisex", "kids", "women", "men"), "none",
      {}, uses=("sunny hikes", "winter walks"), pitches=("tops off any outfit",)),
    T(("Apparel", "Accessories", "Scarves & Gloves"), ("Knit Scarf", "Touchscreen Gloves", "Wool Mittens", "Blanket Scarf"),
      (15, 79), (("wool",), ("cashmere",), ("acrylic",), ("merino wool",)), ("unisex", "women", "men", "kids"), "sml",
      {"warmth": pick("medium", "heavy")}, uses=("frosty mornings", "winter commutes"), pitches=("keeps the chill out",),
      noun_materials={"Wool": ("wool",)}),
    T(("Apparel", "Sleepwear", "Pajamas"), ("Pajama Set", "Flannel Pajama Set", "Sleep Shirt", "Lounge Set"),
      (29, 89), (("cotton",), ("cotton flannel",), ("modal",), ("silk",)), ("men", "women", "kids"), "apparel",
      {}, uses=("lazy mornings", "cosy nights in"), pitches=("is soft enough to sleep in every night",)),
    # ---------------------------------------------------------------- footwear
    T(("Footwear", "Boots", "Hiking Boots"), ("Hiking Boot", "Mid Hiking Boot", "Trekking Boot", "Backpacking Boot"),
      (89, 239), (("leather", "rubber"), ("suede", "mesh", "rubber"), ("nubuck leather", "rubber"), ("synthetic", "rubber")),
      ("men", "women", "unisex"), "shoe",
      {"waterproof": yes(0.7), "weight": num(420, 780, "g", 10), "ankle support": pick("mid", "high")},
      (("waterproof", "yes", "Waterproof"),),
      uses=("long days on rocky trails", "weekend hikes", "muddy spring walks", "multi-day treks"),
      pitches=("grips wet rock with confidence", "supports your ankles on rough ground"), weight=3),
    T(("Footwear", "Boots", "Winter Boots"), ("Winter Boot", "Snow Boot", "Insulated Boot", "Pac Boot"),
      (79, 219), (("leather", "rubber"), ("nylon", "rubber"), ("suede", "shearling")), ("men", "women", "kids"), "shoe",
      {"insulated": fixed("yes"), "waterproof": yes(0.85), "temperature rating": num(-40, -10, "°C", 5)},
      (("waterproof", "yes", "Waterproof"),), uses=("snowy sidewalks", "deep winter", "icy mornings"),
      pitches=("keeps toes warm well below freezing",), weight=2),
    T(("Footwear", "Boots", "Chelsea Boots"), ("Chelsea Boot", "Lug-Sole Chelsea Boot", "Suede Chelsea Boot"),
      (89, 229), (("leather",), ("suede",), ("waxed leather",)), ("men", "women"), "shoe",
      {"heel height": num(2, 5, "cm")}, uses=("city days", "smart-casual outfits"), pitches=("pulls on in a second",),
      noun_materials={"Suede": ("suede",)}),
    T(("Footwear", "Boots", "Rain Boots"), ("Rain Boot", "Wellington Boot", "Short Rain Boot"),
      (35, 119), (("natural rubber",), ("rubber", "neoprene")), ("women", "men", "kids"), "shoe",
      {"waterproof": fixed("yes"), "shaft height": pick("ankle", "mid-calf", "knee")},
      (("waterproof", "yes", "Waterproof"),), uses=("puddles", "gardening", "festival season"),
      pitches=("keeps feet bone-dry",)),
    T(("Footwear", "Sneakers", "Running Shoes"), ("Running Shoe", "Road Running Shoe", "Daily Trainer", "Racing Flat", "Cushioned Runner"),
      (69, 189), (("engineered mesh", "foam"), ("knit", "foam"), ("recycled mesh", "rubber")), ("men", "women", "unisex", "kids"), "shoe",
      {"weight": num(190, 320, "g", 5), "drop": num(4, 12, "mm", 2), "cushioning": pick("neutral", "max", "firm"),
       "terrain": fixed("road")},
      uses=("daily miles", "your first marathon", "tempo runs"), pitches=("feels light and springy",), weight=3),
    T(("Footwear", "Sneakers", "Trail Running Shoes"), ("Trail Runner", "Trail Running Shoe", "Mountain Running Shoe"),
      (89, 199), (("mesh", "rubber"), ("ripstop", "rubber")), ("men", "women", "unisex"), "shoe",
      {"weight": num(240, 360, "g", 5), "waterproof": yes(0.35), "terrain": fixed("trail"), "lug depth": num(3, 6, "mm")},
      (("waterproof", "yes", "Waterproof"),), uses=("muddy trails", "mountain races", "technical singletrack"),
      pitches=("grips loose ground",), weight=2),
    T(("Footwear", "Sneakers", "Casual Sneakers"), ("Low-Top Sneaker", "Canvas Sneaker", "Leather Sneaker", "Slip-On Sneaker", "High-Top Sneaker"),
      (45, 149), (("canvas", "rubber"), ("leather", "rubber"), ("suede", "rubber"), ("recycled knit", "rubber")),
      ("men", "women", "unisex", "kids"), "shoe", {"closure": when("Slip-On", fixed("slip-on"), fixed("laces"))},
      uses=("everyday wear", "city walks", "weekends"), pitches=("goes with everything",), weight=3,
      noun_materials={"Canvas": ("canvas", "rubber"), "Leather": ("leather", "rubber")}),
    T(("Footwear", "Sandals", "Sandals"), ("Sport Sandal", "Slide Sandal", "Leather Sandal", "Flip-Flop", "Hiking Sandal"),
      (19, 119), (("leather",), ("rubber",), ("webbing", "rubber"), ("cork", "leather")), ("men", "women", "unisex", "kids"), "shoe",
      {"adjustable straps": yes(0.6), "water-friendly": yes(0.5)}, uses=("summer holidays", "river crossings", "the beach"),
      pitches=("keeps feet cool all summer",), noun_materials={"Leather": ("leather",)}),
    T(("Footwear", "Dress Shoes", "Dress Shoes"), ("Oxford Shoe", "Derby Shoe", "Penny Loafer", "Brogue", "Monk Strap Shoe"),
      (89, 279), (("leather",), ("suede",), ("patent leather",)), ("men", "women"), "shoe",
      {"sole": pick("leather", "rubber"), "width": pick("regular", "wide")}, uses=("weddings", "the office", "formal dinners"),
      pitches=("is Goodyear welted for easy resoling",)),
    T(("Footwear", "Slippers", "Slippers"), ("Moccasin Slipper", "Shearling Slipper", "Knit Slipper", "Clog Slipper"),
      (19, 89), (("suede", "shearling"), ("wool felt",), ("knit", "rubber")), ("men", "women", "kids"), "shoe",
      {"indoor/outdoor sole": yes(0.5)}, uses=("cold floors", "slow mornings"), pitches=("feels like a hug for your feet",)),
    T(("Footwear", "Flats & Heels", "Flats & Heels"), ("Ballet Flat", "Pointed Flat", "Block Heel Pump", "Ankle Strap Heel", "Mule"),
      (49, 169), (("leather",), ("suede",), ("vegan leather",)), ("women",), "shoe", {"heel height": num(0, 8, "cm")},
      uses=("the office", "evenings out", "weddings"), pitches=("is cushioned for all-day comfort",)),
    # ---------------------------------------------------------------- electronics
    T(("Electronics", "Audio", "Wireless Earbuds"), ("Wireless Earbuds", "True Wireless Earbuds", "Sport Earbuds", "Noise-Cancelling Earbuds"),
      (29, 249), (("plastic",), ("recycled plastic",)), sizes="none",
      attrs={"battery": num(5, 10, "h"), "battery with case": num(18, 40, "h", 2),
             "noise cancelling": when("Noise-Cancelling", fixed("yes"), yes(0.45)),
             "water resistance": pick("IPX4", "IPX5", "IPX7", "none"), "wireless": fixed("yes"),
             "connectivity": pick("Bluetooth 5.3", "Bluetooth 5.2", "Bluetooth 5.4")},
      title_features=(("noise cancelling", "yes", "ANC"),),
      uses=("the daily commute", "workouts", "long flights"), pitches=("fits snugly and sounds rich",), weight=3),
    T(("Electronics", "Audio", "Headphones"), ("Over-Ear Headphones", "On-Ear Headphones", "Studio Headphones", "Wired Headphones"),
      (39, 379), (("plastic", "memory foam"), ("aluminium", "protein leather")), sizes="none",
      attrs={"wireless": when("Wired", fixed("no"), yes(0.85)),
             "battery": when("Wired", lambda r, n: None, num(20, 60, "h", 5)),
             "noise cancelling": yes(0.5), "weight": num(180, 340, "g", 5)},
      title_features=(("noise cancelling", "yes", "Noise-Cancelling"), ("wireless", "yes", "Wireless")),
      uses=("focused work", "long flights", "late-night listening"), pitches=("delivers deep, balanced sound",), weight=3),
    T(("Electronics", "Audio", "Bluetooth Speakers"), ("Bluetooth Speaker", "Portable Speaker", "Mini Speaker", "Party Speaker"),
      (29, 199), (("fabric", "plastic"), ("silicone", "aluminium")), sizes="none",
      attrs={"battery": num(8, 24, "h"), "waterproof": yes(0.6), "water resistance": lambda r, n: r.choice(["IP67", "IPX7"]),
             "weight": num(180, 1200, "g", 20), "wireless": fixed("yes")},
      title_features=(("waterproof", "yes", "Waterproof"),),
      uses=("beach days", "backyard parties", "showers and kitchens"), pitches=("fills a room with sound",), weight=2),
    T(("Electronics", "Wearables", "Smartwatches"), ("Smartwatch", "GPS Smartwatch", "Fitness Smartwatch", "Hybrid Smartwatch"),
      (99, 449), (("aluminium", "silicone"), ("stainless steel", "leather"), ("titanium", "nylon")), sizes="none",
      attrs={"battery": num(1, 14, "days"), "gps": when("GPS", fixed("yes"), yes(0.6)),
             "water resistance": pick("5 ATM", "10 ATM"), "screen": pick("1.2 in", "1.4 in", "1.9 in")},
      uses=("training", "sleep tracking", "busy days"), pitches=("keeps notifications on your wrist",), weight=2),
    T(("Electronics", "Wearables", "Fitness Trackers"), ("Fitness Tracker", "Activity Band", "Sleep Tracker Band"),
      (29, 149), (("silicone", "plastic"),), sizes="none",
      attrs={"battery": num(5, 14, "days"), "heart rate": fixed("yes"), "water resistance": fixed("5 ATM"),
             "gps": yes(0.3)},
      uses=("step counting", "sleep tracking", "workouts"), pitches=("is light enough to forget you wear it",)),
    T(("Electronics", "Computer Accessories", "Keyboards"), ("Mechanical Keyboard", "Wireless Keyboard", "Compact Keyboard", "Ergonomic Keyboard"),
      (29, 189), (("aluminium", "plastic"), ("plastic",)), sizes="none",
      attrs={"wireless": when("Wireless", fixed("yes"), yes(0.5)), "backlit": yes(0.6), "layout": pick("full-size", "tenkeyless", "75%")},
      title_features=(("backlit", "yes", "Backlit"), ("wireless", "yes", "Wireless")),
      uses=("long coding sessions", "home offices", "gaming"), pitches=("types quietly and precisely",)),
    T(("Electronics", "Computer Accessories", "Mice"), ("Wireless Mouse", "Ergonomic Mouse", "Gaming Mouse", "Travel Mouse"),
      (15, 119), (("plastic",), ("recycled plastic",)), sizes="none",
      attrs={"wireless": when("Wireless", fixed("yes"), yes(0.6)), "dpi": num(1000, 16000, "", 1000), "battery": num(30, 120, "days", 10)},
      title_features=(("wireless", "yes", "Wireless"),),
      uses=("the home office", "gaming", "working on the go"), pitches=("glides smoothly on any desk",)),
    T(("Electronics", "Computer Accessories", "Webcams"), ("HD Webcam", "4K Webcam", "Streaming Webcam"),
      (39, 199), (("plastic",),), sizes="none",
      attrs={"resolution": when("4K", fixed("4K"), pick("1080p", "1440p")), "microphone": fixed("yes"), "privacy shutter": yes(0.7)},
      uses=("video calls", "streaming", "remote work"), pitches=("makes you look good on calls",)),
    T(("Electronics", "Power", "Power Banks"), ("Power Bank", "Slim Power Bank", "Laptop Power Bank", "MagSafe-Style Power Bank"),
      (19, 129), (("aluminium",), ("plastic",)), sizes="none",
      attrs={"capacity": pick("5000 mAh", "10000 mAh", "20000 mAh", "26800 mAh"), "power": num(18, 100, "W", 2),
             "weight": num(120, 520, "g", 10)},
      uses=("travel", "festival weekends", "long workdays"), pitches=("tops up a phone several times",), weight=2),
    T(("Electronics", "Power", "Chargers"), ("USB-C Charger", "GaN Charger", "Wireless Charging Pad", "Car Charger", "Charging Stand"),
      (15, 89), (("plastic",),), sizes="none",
      attrs={"power": num(15, 140, "W", 5), "ports": num(1, 4, "")}, uses=("desks and nightstands", "travel"),
      pitches=("charges fast and stays cool",)),
    T(("Electronics", "Cables & Adapters", "Cables & Hubs"), ("USB-C Cable", "Braided USB-C Cable", "HDMI Cable", "USB-C Hub", "Lightning Cable"),
      (9, 79), (("nylon",), ("plastic",), ("aluminium",)), sizes="none",
      attrs={"length": pick("0.5 m", "1 m", "2 m", "3 m")}, uses=("desk setups", "travel bags"), pitches=("is built to survive thousands of bends",)),
    T(("Electronics", "E-Readers & Tablets", "E-Readers"), ("E-Reader", "Waterproof E-Reader", "Note-Taking E-Reader"),
      (89, 349), (("plastic",), ("aluminium",)), sizes="none",
      attrs={"screen": pick("6 in", "7 in", "8 in", "10.3 in"), "storage": pick("8 GB", "16 GB", "32 GB"),
             "waterproof": when("Waterproof", fixed("yes"), yes(0.4)), "battery": num(3, 10, "weeks")},
      uses=("beach reads", "bedtime reading", "commutes"), pitches=("holds thousands of books",)),
    T(("Electronics", "Cameras", "Action Cameras"), ("Action Camera", "4K Action Camera", "Helmet Camera"),
      (79, 399), (("plastic", "aluminium"),), sizes="none",
      attrs={"resolution": pick("4K", "5.3K", "2.7K"), "waterproof": fixed("yes"), "battery": num(60, 160, "min", 10)},
      uses=("mountain biking", "snorkelling", "ski runs"), pitches=("shoots smooth, stabilised video",)),
    # ---------------------------------------------------------------- home
    T(("Home", "Bedding", "Duvet Covers"), ("Duvet Cover Set", "Percale Duvet Cover", "Linen Duvet Cover", "Sateen Duvet Cover"),
      (59, 229), (("cotton percale",), ("cotton sateen",), ("linen",), ("organic cotton",)), sizes="bed",
      attrs={"thread count": num(200, 600, "", 50)}, uses=("a cool night's sleep", "guest rooms"),
      pitches=("gets softer with every wash",), noun_materials={"Linen": ("linen",), "Percale": ("cotton percale",), "Sateen": ("cotton sateen",)}),
    T(("Home", "Bedding", "Sheet Sets"), ("Sheet Set", "Fitted Sheet", "Flannel Sheet Set", "Bamboo Sheet Set"),
      (39, 189), (("cotton percale",), ("cotton sateen",), ("linen",), ("bamboo lyocell",), ("cotton flannel",)), sizes="bed",
      attrs={"thread count": num(200, 600, "", 50), "deep pocket": yes(0.5)}, uses=("hot sleepers", "winter nights"),
      pitches=("stays smooth all night",), noun_materials={"Flannel": ("cotton flannel",), "Bamboo": ("bamboo lyocell",)}, weight=2),
    T(("Home", "Bedding", "Pillows"), ("Down Pillow", "Memory Foam Pillow", "Side Sleeper Pillow", "Cooling Pillow"),
      (25, 129), (("cotton", "down"), ("memory foam",), ("polyester",), ("latex",)), sizes="pillow",
      attrs={"firmness": pick("soft", "medium", "firm")}, uses=("side sleepers", "back sleepers", "neck support"),
      pitches=("keeps its loft night after night",), noun_materials={"Down": ("cotton", "down"), "Memory Foam": ("memory foam",)}),
    T(("Home", "Bedding", "Throw Blankets"), ("Throw Blanket", "Knit Throw", "Fleece Blanket", "Weighted Blanket", "Wool Throw"),
      (29, 179), (("wool",), ("cotton",), ("polyester fleece",), ("faux fur",), ("merino wool",)), sizes="none",
      attrs={"size": pick("130 x 170 cm", "150 x 200 cm", "180 x 220 cm")}, uses=("movie nights", "reading on the sofa"),
      pitches=("adds warmth and texture to any room",), noun_materials={"Wool": ("wool",), "Fleece": ("polyester fleece",)}),
    T(("Home", "Bath", "Towels"), ("Bath Towel Set", "Hand Towel Set", "Bath Sheet", "Waffle Towel Set", "Beach Towel"),
      (19, 99), (("cotton",), ("Turkish cotton",), ("organic cotton",), ("bamboo viscose",)), sizes="none",
      attrs={"fabric weight": num(450, 800, "gsm", 50), "quick-dry": yes(0.4)}, uses=("the bathroom", "the beach", "guest rooms"),
      pitches=("is thick, soft and absorbent",), weight=2),
    T(("Home", "Kitchen", "Cookware"), ("Nonstick Frying Pan", "Cast Iron Skillet", "Stainless Steel Saucepan", "Dutch Oven", "Cookware Set", "Wok"),
      (25, 299), (("aluminium", "ceramic coating"), ("cast iron",), ("stainless steel",), ("enamelled cast iron",), ("carbon steel",)),
      sizes="none",
      attrs={"induction compatible": yes(0.7), "dishwasher safe": yes(0.5), "diameter": pick("20 cm", "24 cm", "28 cm", "30 cm")},
      title_features=(("induction compatible", "yes", "Induction"),),
      uses=("weeknight dinners", "slow Sunday stews", "searing steaks"), pitches=("heats evenly",), weight=3,
      noun_prices={"Set": (99, 399), "Dutch Oven": (59, 299), "Skillet": (25, 119)},
      noun_materials={"Cast Iron": ("cast iron",), "Stainless": ("stainless steel",), "Dutch Oven": ("enamelled cast iron",),
                      "Nonstick": ("aluminium", "ceramic coating"), "Wok": ("carbon steel",)}),
    T(("Home", "Kitchen", "Knives"), ("Chef's Knife", "Santoku Knife", "Paring Knife", "Knife Block Set", "Bread Knife"),
      (19, 249), (("stainless steel",), ("Damascus steel",), ("high-carbon steel", "walnut")), sizes="none",
      attrs={"blade length": pick("9 cm", "15 cm", "18 cm", "20 cm", "23 cm"), "dishwasher safe": yes(0.2)},
      uses=("home cooks", "prep work"), pitches=("holds a razor edge",),
      noun_prices={"Paring": (12, 49), "Block Set": (89, 349), "Bread": (19, 79)}),
    T(("Home", "Kitchen", "Coffee & Tea"), ("Drip Coffee Maker", "French Press", "Electric Kettle", "Espresso Machine", "Burr Coffee Grinder", "Pour-Over Set"),
      (25, 399), (("stainless steel",), ("glass", "stainless steel"), ("plastic", "stainless steel"), ("ceramic",)), sizes="none",
      attrs={"capacity": pick("0.35 l", "1 l", "1.2 l", "1.7 l"),
             "power": lambda r, n: None if any(w in n for w in ("French Press", "Pour-Over")) else f"{r.randrange(150, 2200, 50)} W"},
      uses=("slow weekend mornings", "busy weekdays", "tea lovers"), pitches=("makes a great cup every time",), weight=2,
      noun_prices={"French Press": (19, 59), "Pour-Over": (19, 69), "Kettle": (25, 119), "Drip": (35, 179),
                   "Grinder": (39, 249), "Espresso": (149, 599)}),
    T(("Home", "Kitchen", "Drinkware"), ("Ceramic Mug Set", "Travel Mug", "Glass Tumbler Set", "Stoneware Mug"),
      (12, 59), (("ceramic",), ("stoneware",), ("glass",), ("stainless steel",)), sizes="none",
      attrs={"capacity": pick("250 ml", "350 ml", "450 ml"), "dishwasher safe": yes(0.8)},
      uses=("morning coffee", "tea breaks"), pitches=("feels good in the hand",), noun_materials={"Glass": ("glass",), "Ceramic": ("ceramic",), "Stoneware": ("stoneware",)}),
    T(("Home", "Lighting", "Lamps"), ("Table Lamp", "Floor Lamp", "Desk Lamp", "LED Reading Lamp", "Bedside Lamp"),
      (29, 249), (("brass",), ("ceramic", "linen"), ("oak", "linen"), ("metal",), ("rattan",)), sizes="none",
      attrs={"dimmable": yes(0.6), "bulb included": yes(0.7), "wattage": num(5, 60, "W", 5)},
      title_features=(("dimmable", "yes", "Dimmable"),), uses=("reading nooks", "home offices", "bedrooms"),
      pitches=("casts a warm, even glow",), weight=2),
    T(("Home", "Decor", "Candles"), ("Scented Candle", "Soy Candle", "Three-Wick Candle", "Candle Gift Set"),
      (12, 69), (("soy wax",), ("coconut wax",), ("beeswax",)), sizes="none",
      attrs={"scent": pick("cedar", "fig", "sea salt", "lavender", "vanilla", "amber", "unscented"), "burn time": num(25, 80, "h", 5)},
      uses=("quiet evenings", "gifts"), pitches=("fills a room with a gentle scent",)),
    T(("Home", "Decor", "Cushions"), ("Throw Pillow Cover", "Velvet Cushion", "Linen Cushion", "Outdoor Cushion"),
      (15, 69), (("velvet",), ("linen",), ("cotton",), ("wool",)), sizes="none",
      attrs={"size": pick("45 x 45 cm", "50 x 50 cm", "30 x 50 cm"), "insert included": yes(0.5)},
      uses=("sofas and reading chairs", "bedrooms"), pitches=("adds instant colour",), noun_materials={"Velvet": ("velvet",), "Linen": ("linen",)}),
    T(("Home", "Decor", "Rugs"), ("Area Rug", "Runner Rug", "Washable Rug", "Jute Rug"),
      (49, 399), (("wool",), ("jute",), ("cotton",), ("polypropylene",)), sizes="rug",
      attrs={"pile": pick("flat", "low", "medium"), "machine washable": when("Washable", fixed("yes"), yes(0.2))},
      uses=("living rooms", "hallways", "bedrooms"), pitches=("is soft underfoot",), noun_materials={"Jute": ("jute",)}),
    T(("Home", "Storage", "Baskets & Bins"), ("Woven Storage Basket", "Fabric Storage Bin", "Laundry Basket", "Storage Crate"),
      (15, 79), (("seagrass",), ("cotton rope",), ("felt",), ("bamboo",), ("rattan",)), sizes="none",
      attrs={"capacity": pick("12 l", "25 l", "40 l", "60 l"), "handles": yes(0.8)}, uses=("closets", "nurseries", "laundry rooms"),
      pitches=("keeps clutter out of sight",)),
    # ---------------------------------------------------------------- outdoor
    T(("Outdoor", "Camping", "Tents"), ("Backpacking Tent", "Dome Tent", "Family Tent", "Ultralight Tent", "Tunnel Tent"),
      (89, 599), (("ripstop nylon", "aluminium"), ("polyester", "fiberglass"), ("silnylon", "carbon")), sizes="none",
      attrs={"sleeps": num(1, 6, "people"), "season": pick("3-season", "3-season", "4-season"), "weight": num(900, 6500, "g", 100),
             "waterproof": fixed("yes")},
      uses=("backpacking trips", "family campouts", "festival weekends"), pitches=("pitches in minutes",), weight=2),
    T(("Outdoor", "Camping", "Sleeping Bags"), ("Sleeping Bag", "Down Sleeping Bag", "Mummy Sleeping Bag", "Kids' Sleeping Bag"),
      (49, 399), (("nylon", "down"), ("polyester", "synthetic insulation")), sizes="none",
      attrs={"temperature rating": num(-15, 10, "°C"), "weight": num(600, 2200, "g", 50)},
      uses=("cold nights in the mountains", "summer camping"), pitches=("packs down small",),
      noun_materials={"Down": ("nylon", "down")}, weight=2),
    T(("Outdoor", "Camping", "Sleeping Pads"), ("Sleeping Pad", "Self-Inflating Mat", "Foam Sleeping Pad", "Insulated Air Pad"),
      (29, 199), (("nylon",), ("closed-cell foam",), ("polyester", "foam")), sizes="none",
      attrs={"r-value": pick("2.0", "3.5", "4.2", "5.4", "7.0"), "weight": num(300, 1400, "g", 20)},
      uses=("backpacking", "car camping"), pitches=("keeps the cold ground at bay",),
      noun_materials={"Foam": ("closed-cell foam",)}),
    T(("Outdoor", "Camping", "Camp Furniture"), ("Camp Chair", "Folding Camp Table", "Camping Hammock", "Backpacking Chair"),
      (25, 179), (("aluminium", "polyester"), ("steel", "polyester"), ("nylon",)), sizes="none",
      attrs={"weight": num(600, 4500, "g", 100), "max load": num(100, 150, "kg", 10)},
      uses=("campsites", "the beach", "backyard evenings"), pitches=("folds flat in seconds",)),
    T(("Outdoor", "Camping", "Camp Kitchen"), ("Camping Stove", "Backpacking Cook Set", "Titanium Pot", "Camp Kettle"),
      (19, 149), (("aluminium",), ("titanium",), ("stainless steel",)), sizes="none",
      attrs={"weight": num(80, 1500, "g", 10), "capacity": pick("0.75 l", "1 l", "1.5 l", "2 l")},
      uses=("backcountry meals", "morning coffee at camp"), pitches=("boils water fast",), noun_materials={"Titanium": ("titanium",)}),
    T(("Outdoor", "Hydration", "Water Bottles"), ("Insulated Water Bottle", "Water Bottle", "Collapsible Bottle", "Filter Bottle"),
      (12, 59), (("stainless steel",), ("Tritan plastic",), ("silicone",)), sizes="none",
      attrs={"insulated": when("Insulated", fixed("yes"), fixed("no")), "capacity": pick("500 ml", "750 ml", "1 l", "1.2 l"),
             "dishwasher safe": yes(0.5)},
      title_features=(("dishwasher safe", "yes", "Dishwasher-Safe"),), uses=("hikes", "the gym", "long drives"),
      pitches=("keeps drinks cold for hours",), noun_materials={"Insulated": ("stainless steel",)}, weight=2),
    T(("Outdoor", "Packs", "Backpacks"), ("Daypack", "Hiking Backpack", "Trekking Pack", "Travel Backpack", "Hydration Pack"),
      (39, 299), (("recycled nylon",), ("ripstop nylon",), ("polyester",), ("waxed canvas",)), sizes="sml",
      attrs={"capacity": lambda r, n: f"{r.choice([18, 22, 28, 32, 40, 48, 55, 65, 70])} l",
             "waterproof": yes(0.3), "rain cover": yes(0.5), "weight": num(400, 2200, "g", 50)},
      title_features=(("waterproof", "yes", "Waterproof"),), uses=("day hikes", "multi-day treks", "travel"),
      pitches=("carries comfortably all day",), weight=3),
    T(("Outdoor", "Hiking Gear", "Trekking Poles"), ("Trekking Poles", "Folding Trekking Poles", "Carbon Trekking Poles"),
      (39, 179), (("aluminium",), ("carbon fiber",)), sizes="none",
      attrs={"weight": num(380, 640, "g", 10), "collapsible": fixed("yes")},
      uses=("steep descents", "long treks"), pitches=("takes the load off your knees",), noun_materials={"Carbon": ("carbon fiber",)}),
    T(("Outdoor", "Hiking Gear", "Headlamps"), ("Headlamp", "Rechargeable Headlamp", "Running Headlamp"),
      (19, 99), (("plastic", "elastic"),), sizes="none",
      attrs={"lumens": num(200, 1200, "lm", 50), "battery": num(4, 60, "h", 2),
             "rechargeable": when("Rechargeable", fixed("yes"), yes(0.5)), "water resistance": pick("IPX4", "IPX6", "IPX8")},
      uses=("night hikes", "camp chores", "early runs"), pitches=("lights up the trail ahead",)),
    T(("Outdoor", "Cycling", "Bike Helmets"), ("Road Bike Helmet", "Mountain Bike Helmet", "Commuter Helmet", "Kids' Bike Helmet"),
      (39, 229), (("polycarbonate", "EPS foam"),), ("unisex", "kids"), "sml",
      attrs={"weight": num(220, 420, "g", 10), "mips": yes(0.5), "vents": num(8, 24, "")},
      uses=("daily commutes", "weekend rides", "trail riding"), pitches=("is certified and light",)),
    T(("Outdoor", "Water Sports", "Dry Bags"), ("Dry Bag", "Roll-Top Dry Bag", "Waterproof Duffel"),
      (15, 129), (("PVC tarpaulin",), ("TPU nylon",)), sizes="none",
      attrs={"capacity": pick("5 l", "10 l", "20 l", "30 l", "40 l"), "waterproof": fixed("yes")},
      title_features=(("waterproof", "yes", "Waterproof"),), uses=("kayak trips", "beach days", "rainy bike rides"),
      pitches=("keeps gear dry when it goes overboard",)),
]


# ---------------------------------------------------------------- generation
def _type_order(seed: int) -> list[ProductType]:
    """A fixed, shuffled round-robin of product types, weighted by ``ProductType.weight``."""
    order = [t for t in TYPES for _ in range(t.weight)]
    random.Random(seed).shuffle(order)
    return order


def _brand(rng: random.Random, root: str) -> str:
    pool = BRANDS[root] + CROSS_BRANDS.get(root, [])
    return rng.choice(pool)


def _materials(rng: random.Random, ptype: ProductType, noun: str) -> list[str]:
    for word, materials in ptype.noun_materials.items():
        if word.lower() in noun.lower():
            return list(materials)
    return list(rng.choice(ptype.materials)) if ptype.materials else []


def _title(rng: random.Random, ptype: ProductType, noun: str, gender: str, materials: list[str],
           attributes: dict[str, str]) -> str:
    line = rng.choice(LINES[ptype.root])
    features = [word for attr, value, word in ptype.title_features
                if attributes.get(attr) == value and word.lower() not in noun.lower()]
    feature = rng.choice(features) if features else ""
    noun_words = set(noun.lower().replace("-", " ").split())
    material = materials[0].title() if materials else ""
    if material and noun_words & set(material.lower().split()):
        material = ""  # no "Fleece Fleece Jacket"
    if ptype.root in ("Electronics", "Home") or material in ("Plastic", "Rubber", "Foam"):
        material = "" if rng.random() < 0.7 else material
    gender_word = GENDER_WORD.get(gender, "")
    candidates = [f"{line} {noun}"]
    if feature:
        candidates += [f"{line} {feature} {noun}", f"{feature} {noun}"]
    if gender_word:
        candidates += [f"{gender_word} {line} {noun}", f"{gender_word} {(feature + ' ') if feature else ''}{noun}"]
    if material:
        candidates += [f"{material} {noun}", f"{line} {material} {noun}"]
    if feature and material:
        candidates.append(f"{feature} {material} {noun}")
    title = rng.choice(candidates)
    if rng.random() < 0.12:
        title += " " + rng.choice(SUFFIXES)
    return " ".join(title.split())


def _attr_sentence(rng: random.Random, attributes: dict[str, str]) -> str | None:
    options: list[str] = []
    for key, value in attributes.items():
        phrases = ATTR_SENTENCES.get(key)
        if isinstance(phrases, dict):
            phrases = phrases.get(value, [])
        for phrase in phrases or []:
            options.append(phrase.format(v=value, V=value[:1].upper() + value[1:]))
    return rng.choice(options) if options else None


def _is_plural(noun: str) -> bool:
    last = noun.split()[-1]
    return last.endswith("s") and not last.endswith("ss")


def _agree(pitch: str, plural: bool) -> str:
    """Make the pitch's first verb agree with a plural noun ("keeps" → "keep")."""
    if not plural:
        return pitch
    verb, _, rest = pitch.partition(" ")
    irregular = {"is": "are", "does": "do", "has": "have", "goes": "go"}
    if verb in irregular:
        verb = irregular[verb]
    elif verb.endswith(("ches", "shes", "sses", "xes")):
        verb = verb[:-2]
    elif verb.endswith("s"):
        verb = verb[:-1]
    return f"{verb} {rest}"


def _lower_noun(noun: str) -> str:
    """Lower-case ordinary words but keep acronyms ("USB-C Hub" → "USB-C hub")."""
    def lower(part: str) -> str:
        return part.lower() if part[:1].isupper() and part[1:].islower() else part

    return " ".join("-".join(lower(p) for p in word.split("-")) for word in noun.split())


def _description(rng: random.Random, ptype: ProductType, title: str, noun: str, brand: str,
                 materials: list[str], attributes: dict[str, str]) -> str:
    adj = rng.choice(ADJECTIVES)
    plural = _is_plural(noun)
    template = rng.choice(OPENINGS)
    if plural:
        template = template.replace("this {noun}", "these {noun}").replace("A {adj} {noun}", "{Adj} {noun}")
        template = template.replace("is a {adj} pick", "are a {adj} pick")
    opening = template.format(
        use=rng.choice(ptype.uses), noun=_lower_noun(noun), pitch=_agree(rng.choice(ptype.pitches), plural),
        adj=adj, Adj=adj.capitalize(),
        brand=brand, title=title,
    )
    extras: list[str] = []
    attr_sentence = _attr_sentence(rng, attributes)
    if attr_sentence:
        extras.append(attr_sentence)
    if materials:
        joined = materials[0] if len(materials) == 1 else ", ".join(materials[:-1]) + " and " + materials[-1]
        extras.append(rng.choice(MATERIAL_SENTENCES).format(
            materials=joined, Materials=joined[:1].upper() + joined[1:], feel=rng.choice(FEELS),
            pitch=_agree(rng.choice(ptype.pitches), False)))
    extras.append(rng.choice(CARE[ptype.root]))
    rng.shuffle(extras)
    sentences = [opening] + extras[: rng.choice((1, 2, 2))]
    return " ".join(s[:1].upper() + s[1:] for s in sentences)


def _price(rng: random.Random, ptype: ProductType, materials: list[str], noun: str) -> float:
    lo, hi = next((r for word, r in ptype.noun_prices.items() if word in noun), ptype.price)
    value = rng.triangular(lo, hi, lo + (hi - lo) * 0.2)
    if any(m in ("cashmere", "silk", "titanium", "goose down", "Damascus steel") for m in materials):
        value = min(hi * 1.3, value * 1.4)
    ending = rng.choice((0.99, 0.99, 0.0, 0.5, 0.95))
    return round(max(1.0, int(value) + ending), 2)


def _sizes(ptype: ProductType, gender: str) -> list[str]:
    kind = ptype.sizes
    if gender == "kids" and kind in ("apparel", "waist"):
        kind = "kids_apparel"
    if gender == "kids" and kind == "shoe":
        kind = "kids_shoe"
    return list(SIZES[kind])


def make_product(index: int, seed: int = SEED, order: list[ProductType] | None = None) -> dict:
    """Product number ``index`` (1-based) as a catalog record."""
    order = order or _type_order(seed)
    ptype = order[(index - 1) % len(order)]
    rng = random.Random(f"aisle-catalog:{seed}:{index}")
    pid = f"P{index:05d}"
    noun = rng.choice(ptype.nouns)
    gender = rng.choice(ptype.genders)
    if "Kids'" in noun:
        gender = "kids"
    attributes: dict[str, str] = {}
    for key, gen in ptype.attrs.items():
        value = gen(rng, noun)
        if value is not None:
            attributes[key] = value
    if attributes.get("wireless") == "no":  # a wired product has no battery
        attributes.pop("battery", None)
    materials = _materials(rng, ptype, noun)
    brand = _brand(rng, ptype.root)
    title = _title(rng, ptype, noun, gender, materials, attributes)
    palette = COLORS[ptype.root]
    colors = rng.sample(palette, k=rng.choice((1, 1, 2, 2, 3, 4)))
    sizes = _sizes(ptype, gender)
    if sizes and rng.random() < 0.3:  # some products come in part of the size run only
        start = rng.randrange(0, max(1, len(sizes) // 3))
        sizes = sizes[start:]
    review_count = 0 if rng.random() < 0.06 else int(rng.paretovariate(1.2) * 8)
    rating = None if review_count == 0 else round(min(5.0, max(1.0, rng.gauss(4.25, 0.45))), 1)
    stock = 0 if rng.random() < 0.08 else rng.randint(1, 250)
    return {
        "id": pid,
        "title": title,
        "description": _description(rng, ptype, title, noun, brand, materials, attributes),
        "brand": brand,
        "category": list(ptype.path),
        "price": _price(rng, ptype, materials, noun),
        "currency": "USD",
        "colors": colors,
        "sizes": sizes,
        "materials": materials,
        "gender": gender,
        "rating": rating,
        "review_count": min(review_count, 25000),
        "stock": stock,
        "image_url": f"/images/{pid}.svg",
        "url": f"/products/{pid}",
        "attributes": attributes,
    }


def generate(count: int = DEFAULT_COUNT, seed: int = SEED):
    """Yield ``count`` product records, ``P00001`` first."""
    order = _type_order(seed)
    for index in range(1, count + 1):
        yield make_product(index, seed, order)


def write_catalog(path: Path, count: int = DEFAULT_COUNT, seed: int = SEED, validate: bool = True) -> int:
    """Write the catalog to ``path`` (atomically) and return the number of products written."""
    product_model = None
    if validate:
        from recommender.catalog import Product  # noqa: PLC0415 - optional, keeps the script stdlib-only otherwise

        product_model = Product
    written = 0
    with atomic_open(path) as handle:
        for record in generate(count, seed):
            if product_model is not None:
                product_model.model_validate(record)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=None,
                        help=f"where to write the JSON Lines file (default {DEFAULT_OUTPUT.relative_to(ROOT)})")
    parser.add_argument("--output", "--out", "-o", dest="output_opt", type=Path, default=None, help="same as OUTPUT")
    parser.add_argument("--scale", type=int, default=DEFAULT_COUNT, metavar="N",
                        help=f"number of products (default {DEFAULT_COUNT}; e.g. 100000 for benchmarks)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default fixed)")
    parser.add_argument("--no-validate", action="store_true", help="skip validation with recommender.catalog.Product")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    output = args.output_opt or args.output or DEFAULT_OUTPUT
    written = write_catalog(output, args.scale, args.seed, validate=not args.no_validate)
    print(f"wrote {written} products to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
