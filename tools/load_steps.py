"""The step plan of `make loadtest` and its per-step summary (no locust import: gevent patches the
process it is imported into, so tools/load_shoppers.py keeps that import to itself)."""

from __future__ import annotations

from dataclasses import dataclass, field

from common.percentiles import percentile

P95_LIMIT_MS = 1000.0
WARM_S = 10.0  # the first seconds of a step are left out: its new shoppers are still arriving


@dataclass
class StepLoad:
    """Shoppers in steps (``users[i]`` for ``step_s`` seconds each); every turn recorded."""

    users: list[int]
    step_s: float
    turns: list[tuple[float, int, float, bool]] = field(default_factory=list)  # t, step, ms, ok

    def step_at(self, elapsed: float) -> int | None:
        index = int(elapsed // self.step_s)
        return index if index < len(self.users) else None

    def record(self, started_s: float, ms: float, ok: bool) -> None:
        step = self.step_at(started_s)
        if step is not None:
            self.turns.append((started_s, step, ms, ok))

    def summary(self) -> list[dict]:
        """Per finished step: shoppers, turns per second, p50 and p95 of the answered turns,
        failed turns (after the step's first WARM_S seconds), and every turn of the step."""
        rows = []
        for index, users in enumerate(self.users):
            window = [(ms, ok) for t, step, ms, ok in self.turns
                      if step == index and t >= index * self.step_s + WARM_S]
            if not window:
                break
            answered = [ms for ms, ok in window if ok]
            rows.append({"users": users, "turns_per_s": round(len(window) / (self.step_s - WARM_S), 2),
                         "p50_ms": round(percentile(answered, 0.5), 1),
                         "p95_ms": round(percentile(answered, 0.95), 1),
                         "failed": sum(1 for _, ok in window if not ok), "turns": len(window),
                         "all_turns": sum(1 for _, step, _, _ in self.turns if step == index)})
        return rows

    def users_at(self, elapsed: float) -> int | None:
        """Shoppers wanted now; None to stop: after the last step, or after a step whose p95
        went over the limit (or that had failed turns)."""
        step = self.step_at(elapsed)
        if step is None:
            return None
        done = self.summary()
        if step > 0 and len(done) >= step:
            last = done[step - 1]
            if last["p95_ms"] > P95_LIMIT_MS or last["failed"]:
                return None
        return self.users[step]
