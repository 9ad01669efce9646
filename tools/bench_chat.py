"""Benchmark: a recommendation turn through the gateway (docs/architecture.md §5), one and 20 shoppers.

Starts real processes (action server, Rasa, gateway) on free ports, then measures the time from a
shopper's message posted to the gateway to the reply. Run with `make bench`.

Three loads: one shopper sending turn after turn; 20 shoppers chatting at once, each typing
every message (the first one too) for a seeded 2–6 s (how people chat); and 20 shoppers sending
back-to-back with no pause (a stress figure: on 2 cores it measures queueing, not a chat; given
as turns per second too). Failed turns are counted and printed, never dropped silently.

Machines of one kind differ by up to 2× (docs/architecture.md §5), so the same run also measures
the floor of this architecture, a bare Rasa REST turn of the same model with no custom action
("hello" → utter_greet, straight to Rasa), alternating with the one shopper's turns, and reports
the chat turn as a ratio to it; and how a turn's cost grows with the conversation: turns 1–10,
40 and 80 of 80-turn conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from common.percentiles import percentile
from tools.stack import start_gateway, start_rasa_stack

TURNS = [
    "show me running shoes",
    "under 120",
    "in blue",
    "waterproof hiking boots",
    "a warm wool sweater",
    "wireless headphones with long battery",
    "cheaper",
    "something for the kitchen",
]


async def shopper(session: aiohttp.ClientSession, url: str, turns: int, times: list[float],
                  failures: list[int], think: tuple[float, float] | None = None, seed: int = 0,
                  before_turn: Callable[[], Awaitable[None]] | None = None) -> None:
    rng = random.Random(seed)
    async with session.post(f"{url}/api/conversations") as response:
        conv = await response.json()
    headers = {"Authorization": f"Bearer {conv['token']}"}
    for i in range(turns):
        if think:  # every message is typed first, the opening one too (no 20-message burst at t=0)
            await asyncio.sleep(rng.uniform(*think))
        if before_turn:
            await before_turn()
        text = TURNS[(i + seed) % len(TURNS)]
        start = time.perf_counter()
        async with session.post(
            f"{url}/api/conversations/{conv['conversation_id']}/messages",
            json={"text": text},
            headers=headers,
        ) as response:
            body = await response.json()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status == 200 and body.get("messages"):
            times.append(elapsed)
        else:
            failures.append(response.status)


async def measure(url: str, shoppers: int, turns: int,
                  think: tuple[float, float] | None = None) -> tuple[list[float], list[int]]:
    times: list[float] = []
    failures: list[int] = []
    async with aiohttp.ClientSession() as session:
        await shopper(session, url, 2, [], [])  # warm-up: models loaded, caches filled
        await asyncio.gather(*(shopper(session, url, turns, times, failures, think, seed)
                               for seed in range(shoppers)))
    return times, failures


async def floor_and_shopper(gateway_url: str, rasa_url: str, turns: int
                            ) -> tuple[list[float], tuple[list[float], list[int]]]:
    """One shopper's turns through the gateway, each after a turn of the floor: a bare Rasa REST
    turn with no custom action ("hello" → utter_greet, straight to Rasa, its own conversation).
    Paired turns see the same machine: two runs of the floor alone, minutes apart, gave 20.9 and
    27.5 ms on 2026-12-04."""
    floor: list[float] = []
    times: list[float] = []
    failures: list[int] = []

    async def floor_turn() -> None:
        start = time.perf_counter()
        async with session.post(f"{rasa_url}/webhooks/rest/webhook",
                                json={"sender": "bench-floor", "message": "hello"}) as response:
            await response.json()
        floor.append((time.perf_counter() - start) * 1000)

    async with aiohttp.ClientSession() as session:
        await shopper(session, gateway_url, 2, [], [])  # warm-up: models loaded, caches filled
        for _ in range(2):
            await floor_turn()
        floor.clear()
        await shopper(session, gateway_url, turns, times, failures, before_turn=floor_turn)
    return floor, (times, failures)


LONG_RUNS = 3  # 80-turn conversations, one after the other: five positions of one are too few


def by_position(runs: list[list[float]]) -> dict[str, float]:
    """Median turn time at positions 1–10, around 40 and around 80 of the conversations."""
    def med(lo: int, hi: int) -> float:
        return statistics.median(t for times in runs for t in times[lo - 1:hi])
    return {"turns 1-10": med(1, 10), "turn ~5": med(3, 7), "turns 36-44": med(36, 44),
            "turns 76-80": med(76, 80)}


def report(label: str, result: tuple[list[float], list[int]], seconds: float | None = None) -> float:
    times, failures = result
    rate = f"  {len(times) / seconds:5.1f} turns/s" if seconds else ""
    print(
        f"{label:<40} n={len(times):>4}  p50={statistics.median(times):7.1f} ms"
        f"  p95={percentile(times, 0.95):7.1f} ms  failed={len(failures)}{rate}"
    )
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=40, help="turns per shopper")
    args = parser.parse_args()
    print(f"chat-turn benchmark on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_rasa_stack(Path(tmp))
        gateway = None
        try:
            gateway = start_gateway(
                stack, AISLE_RATE_CONVERSATION="100000", AISLE_RATE_CLIENT="100000", AISLE_RASA_TIMEOUT="30"
            )
            floor_times, one_shopper = asyncio.run(floor_and_shopper(gateway.url, stack.rasa_url, args.turns))
            floor = report("Rasa floor (REST turn, no custom action)", (floor_times, []))
            one = report("1 shopper (each turn after a floor turn)", one_shopper)
            print(f"{'':<40} ratio to the Rasa floor: {one / floor:.2f}× (goal ≤ 1.5×)")
            runs = [asyncio.run(measure(gateway.url, 1, 80)) for _ in range(LONG_RUNS)]
            long_failed = [f for _, failed in runs for f in failed]
            if not long_failed:
                positions = by_position([times for times, _ in runs])
                print(f"1 shopper, 80 turns ({LONG_RUNS} conversations): " + ", ".join(f"{k} {v:.1f} ms" for k, v in positions.items())
                      + f"; turn ~80 / turn ~5 = {positions['turns 76-80'] / positions['turn ~5']:.2f}"
                      " (goal ≤ 1.2)")
            else:
                print(f"1 shopper, 80 turns: {len(long_failed)} failed turns, positions not reported")
            report("20 shoppers chatting (2-6 s to type)",
                   asyncio.run(measure(gateway.url, 20, max(5, args.turns // 4), think=(2.0, 6.0))))
            started = time.perf_counter()
            stress = asyncio.run(measure(gateway.url, 20, max(5, args.turns // 4)))
            report("20 shoppers back-to-back (stress)", stress, time.perf_counter() - started)
        finally:
            if gateway:
                gateway.stop()
            stack.stop()


if __name__ == "__main__":
    main()
