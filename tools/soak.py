"""Soak: simulated shoppers chat with the supervised stack of ``make run`` while a random process
is killed (SIGKILL) every few minutes; reports turns sent, answered in budget, answered late,
failed, and lost (acknowledged to the shopper but missing from the conversation's history:
must be 0).

    .venv/bin/python -m tools.soak --minutes 30 --shoppers 4 [--kill-every 120 240] [--json]

A benchmark, not a test: it runs real processes for as long as it is told.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from tools.stack import SupervisedStack, start_supervised_stack

BUDGET_S = 3.0
PROGRAMS = ["rasa", "actions", "gateway"]
SCRIPT = [
    "show me running shoes", "under 80", "in blue", "show more", "tell me about the second one",
    "where is my order ORD-10427", "maya.tan@example.com", "what payment methods do you take",
    "show me rain jackets", "cheaper", "start over",
]


def _post(url: str, body: dict[str, Any], token: str | None = None, timeout: float = 10.0) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _history(stack: SupervisedStack, conv: str, token: str) -> list[str]:
    request = urllib.request.Request(f"{stack.url}/api/conversations/{conv}/history",
                                     headers={"Authorization": f"Bearer {token}"})
    for _ in range(30):  # the gateway may be restarting after a kill
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                messages = json.loads(response.read())["messages"]
            return [m.get("text", "") for m in messages if m["sender"] == "shopper"]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise RuntimeError(f"history of {conv} unreadable")


class Soak:
    def __init__(self, stack: SupervisedStack, seconds: float, kill_every: tuple[float, float],
                 seed: int) -> None:
        self.stack, self.until = stack, time.monotonic() + seconds
        self.kill_every, self.rng = kill_every, random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.acknowledged: dict[tuple[str, str], list[str]] = {}
        self.kills: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def shopper(self, index: int) -> None:
        rng = random.Random(index)
        while time.monotonic() < self.until:
            try:
                created = _post(f"{self.stack.url}/api/conversations", {})
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
                continue
            key = (created["conversation_id"], created["token"])
            with self.lock:
                self.acknowledged[key] = []
            for turn, text in enumerate(SCRIPT):
                if time.monotonic() >= self.until:
                    break
                self.send(key, f"{text} #{index}.{turn}" if turn == 0 else text)
                time.sleep(rng.uniform(0.5, 2.0))

    def send(self, key: tuple[str, str], text: str) -> None:
        conv, token = key
        started = time.monotonic()
        while True:  # retry a refused connection for up to 10 s, as the widget does
            try:
                reply = _post(f"{self.stack.url}/api/conversations/{conv}/messages", {"text": text}, token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                if isinstance(exc, urllib.error.HTTPError) or time.monotonic() - started > 10:
                    with self.lock:
                        self.counts["sent"] += 1
                        self.counts["failed"] += 1
                    return
                time.sleep(0.2)
        seconds = time.monotonic() - started
        with self.lock:
            self.counts["sent"] += 1
            self.latencies.append(seconds)
            self.counts["answered" if reply.get("messages") else "empty"] += 1
            self.counts["late"] += seconds > BUDGET_S
            self.acknowledged[key].append(text)

    def killer(self) -> None:
        programs: list[str] = []
        while True:
            wait = self.rng.uniform(*self.kill_every)
            if time.monotonic() + wait >= self.until:
                return
            time.sleep(wait)
            if not programs:  # every program in turn, in a shuffled order: each one is killed
                programs = self.rng.sample(PROGRAMS, len(PROGRAMS))
            program = programs.pop()
            pid = self.stack.pid(program)
            if pid:
                os.kill(pid, signal.SIGKILL)
            self.kills.append({"program": program if pid else f"{program} (not running)",
                               "at_s": round(time.monotonic(), 1)})

    def lost(self) -> int:
        missing = 0
        for (conv, token), texts in self.acknowledged.items():
            stored = _history(self.stack, conv, token)
            missing += sum(1 for text in texts if text not in stored)
        return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--shoppers", type=int, default=4)
    parser.add_argument("--kill-every", type=float, nargs=2, default=(120.0, 240.0), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ready-timeout", type=float, default=600.0,
                        help="seconds the stack may take to start (Rasa loads its model first)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="aisle-soak-"))
    # the shoppers all come from one address: the per-client limit would throttle the soak itself
    stack = start_supervised_stack(workdir, timeout=args.ready_timeout, AISLE_RATE_CLIENT="100000",
                                   AISLE_RATE_CONVERSATION="100000")
    try:
        soak = Soak(stack, args.minutes * 60, tuple(args.kill_every), args.seed)
        threads = [threading.Thread(target=soak.shopper, args=(i,)) for i in range(args.shoppers)]
        threads.append(threading.Thread(target=soak.killer, daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads[:-1]:
            thread.join()
        time.sleep(5)
        lat = sorted(soak.latencies) or [0.0]
        result = {**{k: soak.counts[k] for k in ("sent", "answered", "empty", "late", "failed")},
                  "lost": soak.lost(), "kills": len(soak.kills),
                  "killed": dict(Counter(k["program"] for k in soak.kills)),
                  "p50_s": round(lat[len(lat) // 2], 3), "p95_s": round(lat[int(len(lat) * 0.95)], 3),
                  "minutes": args.minutes, "shoppers": args.shoppers, "cores": os.cpu_count()}
    finally:
        stack.stop()
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0 if result["lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
