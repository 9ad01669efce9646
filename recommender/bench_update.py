"""A price and stock feed applied while the store is served (issue #19, part of ``make bench``).

A process serves the ingested store through :class:`~recommender.service.Recommender` (as the
action server does) and answers searches without a pause, while ``python -m recommender update
FEED`` runs as its own process with a feed of partial records (half price changes, half stock
changes). Measured: the update's wall time and the report's, the searches answered during it
(latency p50/p95/max against the same searches before, errors), and how long after the command
ends the serving process answers with the new prices.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def write_feed(products: list, path: Path, n: int, seed: int = 19) -> dict[str, float]:
    """``n`` partial records for distinct products; returns the new prices by product id."""
    rng = random.Random(seed)
    chosen = rng.sample(products, min(n, len(products)))
    prices: dict[str, float] = {}
    with path.open("w") as out:
        for i, product in enumerate(chosen):
            if i % 2 == 0 and product.price:
                prices[product.id] = round(product.price * rng.choice((0.85, 0.9, 1.1, 1.2)) + 0.01, 2)
                record: dict[str, Any] = {"id": product.id, "price": prices[product.id]}
            else:
                record = {"id": product.id, "stock": 0 if (product.stock or 0) > 0 else 7}
            out.write(json.dumps(record) + "\n")
    return prices


def bench_update(store_path: Path, var_dir: Path, products: list, queries: list[str],
                 n: int = 10_000) -> dict[str, Any]:
    from common.percentiles import p50_p95
    from common.settings import get_settings
    from recommender.query import ConversationState
    from recommender.service import Recommender

    feed = var_dir.parent / "feed.jsonl"
    var_dir.mkdir(parents=True, exist_ok=True)
    prices = write_feed(products, feed, n)
    probe, new_price = next(iter(prices.items()))
    settings = get_settings().model_copy(update={"var_dir": var_dir, "store_path": store_path,
                                                 "store_backend": "edge"})
    rec = Recommender.from_settings(settings, interval=0.2)
    print(f"\nprice and stock feed of {n:,} updates applied while the store is served "
          f"(`python -m recommender update`, a separate process)")

    def search(i: int) -> float:
        t = time.perf_counter()
        rec.recommend(ConversationState(user_turns=[queries[i % len(queries)]]), k=5)
        return (time.perf_counter() - t) * 1000

    for i in range(len(queries)):  # warm: every query's encoding cached, as during the update
        search(i)
    before = [search(i) for i in range(100)]
    during: list[float] = []
    errors: list[str] = []
    stop = threading.Event()

    def shopper() -> None:
        i = 0
        while not stop.is_set():
            try:
                during.append(search(i))
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(repr(exc))
            i += 1

    thread = threading.Thread(target=shopper, daemon=True)
    thread.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AISLE_VAR_DIR": str(var_dir),
           "AISLE_STORE": "edge", "AISLE_STORE_PATH": str(store_path)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "recommender", "update", str(feed), "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    ended = time.perf_counter()
    wall = ended - started
    answered = len(during)
    switched_after = None
    while time.perf_counter() - ended < 60:
        product = rec.product(probe)
        if product is not None and product.price == new_price:
            switched_after = time.perf_counter() - ended
            break
        time.sleep(0.05)
    stop.set()
    thread.join()
    rec.store.close()
    if done.returncode != 0:
        raise RuntimeError(f"update failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    during_updates = during[:answered]
    b50, b95 = p50_p95(before)
    d50, d95 = p50_p95(during_updates) if during_updates else (float("nan"), float("nan"))
    out = {"updates": n, "updated": report.get("updated"), "update_wall_s": round(wall, 1),
           "apply_s": round(float(report.get("seconds", 0.0)), 1), "searches_during": answered,
           "search_before_ms": [round(b50, 1), round(b95, 1)], "search_during_ms": [round(d50, 1), round(d95, 1)],
           "search_during_max_ms": round(max(during_updates, default=0.0), 1), "errors": len(errors),
           "switched_after_s": None if switched_after is None else round(switched_after, 2)}
    print(f"  updated {out['updated']:,} of {n:,} in {wall:.1f} s wall ({out['apply_s']:.1f} s applying the "
          f"feed; the rest: start-up and the copy of the served store)")
    print(f"  searches answered during it: {answered:,}, {d50:.1f} / {d95:.1f} ms p50/p95 (max "
          f"{out['search_during_max_ms']:.0f} ms) against {b50:.1f} / {b95:.1f} ms before; {len(errors)} errors")
    print("  serving the new prices " + (f"{switched_after:.2f} s after the command ended" if switched_after
                                          is not None else "NOT within 60 s"))
    return out
