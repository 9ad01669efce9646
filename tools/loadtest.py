"""`make loadtest`: shoppers with think time against `make run`'s stack and `make cluster`'s, in
growing steps until p95 exceeds 1 s (tools/load_shoppers.py, run by locust headless); prints
turns per second, p50 and p95 per step for each, and the machine's CPU.

    python -m tools.loadtest [--target single|cluster|both] [--steps 10,20,40] [--step-seconds 45]

Both targets run on this machine with private state (tools/stack.py, tools/cluster.py); the
cluster needs PostgreSQL and Redis (--postgres, --redis: this machine's by default). Locust runs
on the same cores as what it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tools.cluster import (
    POSTGRES_URL,
    plan,
    prepare_databases,
    supervisord,
    wait_ready,
    write_configs,
)
from tools.stack import ROOT, base_env, start_supervised_stack

NO_LIMITS = {"AISLE_RATE_CLIENT": "100000000", "AISLE_RATE_CONVERSATION": "100000"}


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


SERVERS = {"postgresql": ("postgres",), "redis": ("redis-server",)}  # shared, measured by name


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) each program has used so far, its child processes included
    (HAProxy's worker is its master's child), and the PostgreSQL and Redis servers' processes."""
    import psutil

    def used(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
            return times.user + times.system
        except psutil.Error:  # gone meanwhile
            return 0.0

    found = {}
    for name, pid in pids.items():
        process = psutil.Process(pid)
        found[name] = used(process) + sum(map(used, process.children(recursive=True)))
    for name, names in SERVERS.items():
        found[name] = sum(used(p) for p in psutil.process_iter(["name"]) if p.info["name"] in names)
    return found


def run_locust(url: str, steps: str, step_s: float, workdir: Path,
               pids: dict[str, int]) -> dict:
    """The steps' table, and the CPU each program spent per turn over the whole run."""
    summary = workdir / f"summary-{int(time.time())}.json"
    before = cpu_seconds(pids)
    env = base_env(LOAD_STEPS=steps, LOAD_STEP_S=str(step_s), LOAD_SUMMARY=str(summary))
    done = subprocess.run([str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "tools/load_shoppers.py"),
                           "--headless", "--host", url, "--only-summary", "--loglevel", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if not summary.exists():
        raise RuntimeError(f"locust wrote no summary (exit {done.returncode}):\n{done.stderr[-3000:]}")
    rows = json.loads(summary.read_text())
    after = cpu_seconds(pids)
    turns = max(1, sum(row["all_turns"] for row in rows))
    per_turn = {name: round((after[name] - before[name]) * 1000 / turns, 1) for name in after}
    return {"steps": rows, "cpu_ms_per_turn": per_turn}


def measure_single(args: argparse.Namespace, workdir: Path) -> dict:
    stack = start_supervised_stack(workdir / "single", **NO_LIMITS)
    try:
        pids = {name: stack.pid(name) for name in ("gateway", "rasa", "actions")}
        return run_locust(stack.url, args.steps, args.step_seconds, workdir, pids)
    finally:
        stack.stop()


def measure_cluster(args: argparse.Namespace, workdir: Path) -> dict:
    cluster = plan(workdir / "cluster", postgres_url=args.postgres, redis_url=args.redis,
                   suffix="_load", **NO_LIMITS)
    prepare_databases(cluster, fresh=True)
    write_configs(cluster)
    process = supervisord(cluster)
    try:
        wait_ready(cluster)
        names = ["balancer"] + [f"{kind}-{i}" for kind in ("gateway", "rasa", "actions")
                                for i in (1, 2)]
        return run_locust(cluster.url, args.steps, args.step_seconds, workdir,
                          {name: cluster.pid(name) for name in names})
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def print_table(name: str, result: dict) -> None:
    rows = result["steps"]
    print(f"\n{name}: shoppers with 3–8 s think time, {os.cpu_count()} cores, {cpu_model()}")
    print(f"{'shoppers':>9} {'turns/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'failed':>7} {'turns':>6}")
    for row in rows:
        print(f"{row['users']:>9} {row['turns_per_s']:>8.2f} {row['p50_ms']:>8.1f} "
              f"{row['p95_ms']:>8.1f} {row['failed']:>7} {row['turns']:>6}")
    within = [r for r in rows if r["p95_ms"] <= 1000 and not r["failed"]]
    if within:
        best = max(within, key=lambda r: r["turns_per_s"])
        print(f"sustained within p95 ≤ 1 s: {best['turns_per_s']:.2f} turns/s at {best['users']} shoppers")
    print("CPU per turn (ms), over the whole run: " + ", ".join(
        f"{name} {ms}" for name, ms in result["cpu_ms_per_turn"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("single", "cluster", "both"), default="both")
    parser.add_argument("--steps", default="10,20,40,60,80,100,130,160")
    parser.add_argument("--step-seconds", type=float, default=45.0)
    parser.add_argument("--postgres", default=POSTGRES_URL)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--json", type=Path, help="also write every table to this file")
    args = parser.parse_args(argv)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="aisle-load-") as tmp:
        if args.target in ("single", "both"):
            results["make run (one of each)"] = measure_single(args, Path(tmp))
        if args.target in ("cluster", "both"):
            results["make cluster (2 gateways, 2 Rasa, 2 action servers)"] = measure_cluster(args, Path(tmp))
    for name, rows in results.items():
        print_table(name, rows)
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_model(), "cores": os.cpu_count(), **results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
