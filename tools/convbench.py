"""Run the outside conversation benchmark (``../shared/convbench``) against a fresh assistant.

Starts ``make run``'s supervised stack on private state (a copy of the store, a freshly seeded
demo shop, empty gateway and tracker databases), runs convbench's own runner on its dev set and
prints the runner's summary, then a table by tag.

    .venv/bin/python -m tools.convbench [--set ../shared/convbench/dev.json] [--save run.json]
                                        [--only-tags cheaper,colour]

A benchmark, not a test: convbench is an instrument written outside the project, so this only
starts the assistant and hands it to that runner.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.stack import ROOT, start_supervised_stack

CONVBENCH = ROOT.parent / "shared" / "convbench"
CATALOG = ROOT / "data" / "catalog" / "products.jsonl"
# One client sends every conversation: the per-client limit is meant for shoppers, not for this.
LIMITS = {"AISLE_RATE_CLIENT": "100000", "AISLE_RATE_CONVERSATION": "1000"}


def summary_table(summary: dict) -> str:
    """The runner's summary as a short Markdown table, worst tag first."""
    def rate(d: dict) -> float:
        return d["turns_fully_passed"] / max(1, d["turns_total"])

    tags = sorted(summary.get("by_tag", {}).items(), key=lambda kv: rate(kv[1]))
    return "\n".join(["| tag | turns fully passed | conversations fully passed |",
                      "| --- | --- | --- |", _row("**all**", summary),
                      *(_row(tag, d) for tag, d in tags)])


def _row(tag: str, d: dict) -> str:
    turns, convs = d["turns_fully_passed"], d["conversations_fully_passed"]
    return (f"| {tag} | {turns}/{d['turns_total']} ({turns / max(1, d['turns_total']):.0%}) "
            f"| {convs}/{d['conversations_total']} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=CONVBENCH / "dev.json")
    parser.add_argument("--runner", type=Path, default=CONVBENCH / "run.py")
    parser.add_argument("--save", type=Path, help="the runner's per-turn results, as JSON")
    parser.add_argument("--only-tags", help="comma-separated tags, passed to the runner")
    args = parser.parse_args(argv)
    if not args.runner.exists():
        print(f"convbench runner not found at {args.runner}: put the shared folder next to the "
              "repository or pass --runner", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="aisle-convbench-") as tmp:
        stack = start_supervised_stack(Path(tmp), **LIMITS)
        try:
            cmd = [sys.executable, str(args.runner), stack.url, str(CATALOG), str(args.set)]
            if args.save:
                cmd += ["--save", str(args.save.resolve())]
            if args.only_tags:
                cmd += ["--only-tags", args.only_tags]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        finally:
            stack.stop()
    sys.stderr.write(done.stderr[-4000:])
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        print(done.stdout[-4000:])
        return done.returncode or 1
    try:
        summary = json.loads(lines[-1])
    except ValueError:
        print(done.stdout[-4000:])
        return 1
    print("\n".join(lines))
    print(summary_table(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
