"""Play simulated shoppers against a running Aisle through the gateway's HTTP API (docs/architecture.md §3.4).

    python -m tools.simulate_shoppers --url http://127.0.0.1:8080 --sessions 50 --seed 1 [--concurrency 4] [--out sessions.jsonl]

Each session draws a hidden preference from the catalog with a seeded RNG: a target product
type, a colour and a price cap (from a real product, so a right answer exists). The shopper
asks for it in one of several phrasings (sometimes vaguely, leaving the colour or the budget
unsaid; where the type has everyday names the catalog never uses, ``SHOPPER_WORDS`` such as
"snowboots", "kindles" or "jim-jams", half of the shoppers use them), then reacts to the products
shown the way its preference dictates: clicks products of the right type, adds the first one
that meets type, colour and budget to the cart, dislikes products of another type, asks for more
or refines when nothing fits, and says thanks or bye.
A share of sessions is customer service (order tracking with an order id and email), a share
asks for a human, and a share writes something the assistant cannot understand — so the logs
hold every kind of material the retraining pipeline reads. Feedback goes to
``POST /api/conversations/{id}/events``. Standard library plus the project's catalog loader.

Sessions are seeded one by one (session ``n`` uses ``Random(f"{seed}:{n}")``), so ``--concurrency``
(parallel shoppers) changes the order in which they reach the assistant, not what they want.
:meth:`Preference.grade` turns a hidden preference into relevance judgments (docs/architecture.md §3.2 grades),
the same "fits" rule the shopper acts on (``tools/measure_learning.py`` judges held-out sessions
with it).

Prints one JSON summary line; ``--out`` writes one JSON line per session (its hidden preference,
the search texts it typed and what it did), for tests and measurements.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recommender.catalog import Product, load_catalog

ROOT = Path(__file__).resolve().parent.parent

SEARCH_TEMPLATES = [
    "show me {color} {type} under {cap}",
    "i'm looking for {type} in {color}",
    "{color} {type} please",
    "do you have {type} below {cap} dollars",
    "need some {type}, {color} if possible, max ${cap}",
    "{type}",
    "any {color} {type}?",
    "i want {type} for less than {cap}",
]
# What shoppers call some product types, in words neither the demo catalog nor the shop's NLU
# synonyms (data/nlu/synonyms.yml) use (a test asserts it):
# a share of shoppers asks in these, so their clicks teach the encoder vocabulary that catalog
# pairs cannot. The measured learning round (README) rests on this gap.
SHOPPER_WORDS: dict[str, tuple[str, ...]] = {
    "Sweaters": ("woolies",), "Leggings": ("tights",), "Rain Jackets": ("anoraks",),
    "Down Jackets": ("puffies", "puffy jackets"), "Coats": ("topcoats",), "Hats": ("toques",),
    "Pajamas": ("jim-jams", "nightwear"), "Hiking Boots": ("trampers",),
    "Winter Boots": ("snowboots",), "Rain Boots": ("galoshes",), "Casual Sneakers": ("tennis shoes",),
    "Sandals": ("thongs", "sliders"), "Wireless Earbuds": ("in-ears",), "Headphones": ("cans", "headsets"),
    "Bluetooth Speakers": ("boomboxes",), "Fitness Trackers": ("pedometers", "step counters"),
    "Cables & Hubs": ("cords", "dongles"), "E-Readers": ("ebook readers", "kindles"),
    "Action Cameras": ("gopros",), "Sheet Sets": ("bedsheets",), "Throw Blankets": ("blankies",),
    "Rugs": ("carpets",), "Baskets & Bins": ("hampers",), "Water Bottles": ("flasks", "canteens"),
    "Backpacks": ("knapsacks",), "Trekking Poles": ("walking sticks",),
    "Headlamps": ("head torches",), "Sleeping Pads": ("bedrolls",),
}
COLLOQUIAL_SHARE = 0.5  # of shoppers whose product type has such words

VAGUE_TEMPLATES = ["something like {type}", "got any {type}", "{type} ideas?"]
REFINE_TEMPLATES = ["in {color}", "under {cap} dollars", "only {color} ones", "cheaper, under {cap}"]
NOISE = ["asdf qwerty", "do you sell spaceships", "what's the meaning of life", "purple monkey dishwasher"]
ENDINGS = ["thanks", "thank you!", "bye", "great, thanks"]


@dataclass
class Preference:
    target_id: str
    product_type: str
    color: str | None
    price_cap: int | None
    words: str = ""  # what the shopper calls the product type ("" = the catalog's name for it)

    def likes(self, product: Product | None) -> bool:
        return product is not None and product.product_type == self.product_type

    def buys(self, product: Product | None) -> bool:
        if not self.likes(product):
            return False
        color_ok = self.color is None or self.color in [c.lower() for c in product.colors]
        price_ok = self.price_cap is None or (product.price or 0) <= self.price_cap
        return color_ok and price_ok

    def grade(self, product: Product | None) -> int:
        """Relevance of ``product`` to this shopper: 2 the target product, 1 another product it would
        buy (right type, colour, within the price cap), 0 anything else."""
        if product is None:
            return 0
        if product.id == self.target_id:
            return 2
        return 1 if self.buys(product) else 0


@dataclass
class SessionLog:
    conversation_id: str
    kind: str
    preference: dict[str, Any] | None
    turns: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)  # the request and refinements (not "show me more")
    events: list[dict[str, Any]] = field(default_factory=list)
    shown: int = 0
    added: str | None = None
    errors: list[str] = field(default_factory=list)


class Gateway:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.requests = 0

    def call(self, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for _attempt in range(20):
            request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body or {}).encode(),
                                             headers=headers, method="POST")
            self.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                payload = json.loads(exc.read() or b"{}")
                if exc.code == 429:  # rate limited: wait as told, then retry
                    time.sleep(min(10.0, float(payload.get("retry_after") or 1.0)))
                    continue
                raise RuntimeError(f"POST {path} -> {exc.code}: {payload}") from exc
        raise RuntimeError(f"POST {path}: still rate limited after 20 attempts")


def type_words(pref: Preference) -> str:
    return pref.words or pref.product_type.lower()


def draw_preference(products: list[Product], rng: random.Random) -> Preference:
    target = rng.choice(products)
    color = rng.choice(target.colors).lower() if target.colors and rng.random() < 0.8 else None
    cap = None
    if target.price and rng.random() < 0.7:
        step = 10 if target.price < 100 else 50
        cap = int((target.price // step + 1 + rng.choice((0, 0, 1))) * step)
    product_type = target.product_type or ""
    slang = SHOPPER_WORDS.get(product_type)
    words = rng.choice(slang) if slang and rng.random() < COLLOQUIAL_SHARE else ""
    return Preference(target.id, product_type, color, cap, words)


def phrase(templates: list[str], pref: Preference, rng: random.Random) -> str:
    usable = [t for t in templates if ("{color}" not in t or pref.color) and ("{cap}" not in t or pref.price_cap)]
    return rng.choice(usable).format(type=type_words(pref), color=pref.color, cap=pref.price_cap)


class Shopper:
    def __init__(self, gateway: Gateway, catalog: dict[str, Product], rng: random.Random) -> None:
        self.gateway = gateway
        self.catalog = catalog
        self.rng = rng

    def start(self, kind: str, pref: Preference | None) -> tuple[SessionLog, str]:
        created = self.gateway.call("/api/conversations")
        log = SessionLog(created["conversation_id"], kind, asdict(pref) if pref else None)
        return log, created["token"]

    def say(self, log: SessionLog, token: str, text: str) -> list[dict[str, Any]]:
        log.turns.append(text)
        reply = self.gateway.call(f"/api/conversations/{log.conversation_id}/messages", {"text": text}, token)
        return list(reply.get("messages") or [])

    def event(self, log: SessionLog, token: str, kind: str, product_id: str) -> None:
        self.gateway.call(f"/api/conversations/{log.conversation_id}/events",
                          {"type": kind, "product_id": product_id}, token)
        log.events.append({"type": kind, "product_id": product_id})

    def shopping(self, pref: Preference) -> SessionLog:
        log, token = self.start("shopping", pref)
        rng = self.rng
        if rng.random() < 0.3:
            self.say(log, token, rng.choice(["hi", "hello", "hey there"]))
        text = phrase(VAGUE_TEMPLATES if rng.random() < 0.15 else SEARCH_TEMPLATES, pref, rng)
        for turn in range(3):
            if text != "show me more":
                log.searches.append(text)
            messages = self.say(log, token, text)
            items = [i for m in messages if m.get("type") == "products" for i in m.get("items", [])]
            log.shown += len(items)
            for item in items:  # the shopper scans the list top-down
                product = self.catalog.get(item["id"])
                if pref.buys(product) and log.added is None:
                    self.event(log, token, "click", item["id"])
                    self.event(log, token, "add_to_cart", item["id"])
                    log.added = item["id"]
                elif pref.likes(product) and rng.random() < 0.5:
                    self.event(log, token, "click", item["id"])
                elif not pref.likes(product) and rng.random() < 0.3:
                    self.event(log, token, "dislike", item["id"])
            if log.added:
                break
            text = (phrase(REFINE_TEMPLATES, pref, rng) if turn == 0 and (pref.color or pref.price_cap)
                    else "show me more")
        self.say(log, token, rng.choice(ENDINGS))
        return log

    def service(self) -> SessionLog:
        log, token = self.start("service", None)
        order = f"ORD-{self.rng.randint(10401, 10460)}"
        self.say(log, token, self.rng.choice([f"where is my order {order}", f"track {order} please",
                                               f"i want to cancel {order}"]))
        self.say(log, token, f"my email is shopper{self.rng.randint(1, 999)}@example.net")
        self.say(log, token, self.rng.choice(ENDINGS))
        return log

    def handoff(self) -> SessionLog:
        log, token = self.start("handoff", None)
        self.say(log, token, self.rng.choice(["my parcel arrived broken and nobody answers",
                                              "this is ridiculous, I was charged twice"]))
        self.say(log, token, self.rng.choice(["can I talk to a human", "let me speak to an agent"]))
        return log

    def noise(self) -> SessionLog:
        log, token = self.start("noise", None)
        self.say(log, token, self.rng.choice(NOISE))
        self.say(log, token, "bye")
        return log


def simulate(url: str, sessions: int, seed: int, catalog_path: Path,
             mix: tuple[float, float, float] = (0.1, 0.05, 0.05), concurrency: int = 1) -> list[SessionLog]:
    """Run ``sessions`` shoppers, ``concurrency`` at a time; ``mix`` = shares of service, handoff
    and noise sessions. The logs come back in session order."""
    products = [p for p in load_catalog(catalog_path).products if p.product_type]
    if not products:
        raise SystemExit(f"no products in {catalog_path}")
    catalog = {p.id: p for p in products}
    gateway = Gateway(url)

    def session(n: int) -> SessionLog:
        rng = random.Random(f"{seed}:{n}")
        shopper = Shopper(gateway, catalog, rng)
        draw = rng.random()
        try:
            if draw < mix[0]:
                return shopper.service()
            if draw < mix[0] + mix[1]:
                return shopper.handoff()
            if draw < sum(mix):
                return shopper.noise()
            return shopper.shopping(draw_preference(products, rng))
        except (RuntimeError, urllib.error.URLError, TimeoutError) as exc:
            return SessionLog("", "failed", None, errors=[str(exc)])

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(session, range(sessions)))


def write_sessions(path: Path, logs: list[SessionLog]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for log in logs:
            handle.write(json.dumps(asdict(log)) + "\n")


def summarize(logs: list[SessionLog], seconds: float) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for log in logs:
        kinds[log.kind] = kinds.get(log.kind, 0) + 1
    return {
        "sessions": len(logs), "kinds": kinds,
        "turns": sum(len(log.turns) for log in logs),
        "events": sum(len(log.events) for log in logs),
        "added_to_cart": sum(1 for log in logs if log.added),
        "failed": sum(1 for log in logs if log.kind == "failed"),
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--catalog", type=Path, default=ROOT / "data/catalog/products.jsonl")
    parser.add_argument("--service-share", type=float, default=0.1)
    parser.add_argument("--handoff-share", type=float, default=0.05)
    parser.add_argument("--noise-share", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=1, help="shoppers chatting at once")
    parser.add_argument("--out", type=Path, help="write one JSON line per session")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    logs = simulate(args.url, args.sessions, args.seed, args.catalog,
                    (args.service_share, args.handoff_share, args.noise_share), args.concurrency)
    if args.out:
        write_sessions(args.out, logs)
    summary = summarize(logs, time.perf_counter() - started)
    print(json.dumps(summary))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
