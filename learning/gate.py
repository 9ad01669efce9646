"""The promotion gate: a candidate ships only if it is no worse on any gate metric (beyond a
margin) and better on at least one.

Metrics are flat ``{"name": value}`` dicts, e.g. ``{"logged_shown/ndcg@10": 0.41, "eval/recall@100": 0.9,
"nlu/macro_f1": 0.88, "stories/accuracy": 1.0}``. A gate metric missing from either side is
reported and skipped (the report says so); if no gate metric can be compared, nothing is promoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_MARGIN = 0.01  # tolerated loss per metric (absolute)
DEFAULT_MIN_GAIN = 0.002  # what counts as "better"
# logged_shown/ndcg@10: the logged judgments scored on reordering what the serving model showed.
# logged/ndcg@10 (retrieving from the whole catalog) is reported but not gated: clicks exist only
# for products the current model showed, so that score favours the current model by construction.
RETRIEVAL_GATES = ("logged_shown/ndcg@10", "logged/recall@100", "eval/ndcg@10", "eval/recall@100")
RASA_GATES = ("nlu/macro_f1", "stories/accuracy")


@dataclass(frozen=True)
class Comparison:
    metric: str
    current: float | None
    candidate: float | None
    delta: float | None
    verdict: str  # better | same | worse | missing


@dataclass
class Decision:
    promote: bool
    reason: str
    rows: list[Comparison] = field(default_factory=list)
    margin: float = DEFAULT_MARGIN
    min_gain: float = DEFAULT_MIN_GAIN

    def to_dict(self) -> dict[str, Any]:
        return {"promote": self.promote, "reason": self.reason, "margin": self.margin,
                "min_gain": self.min_gain, "rows": [r.__dict__ for r in self.rows]}


def decide(current: dict[str, float], candidate: dict[str, float], gates: tuple[str, ...] | list[str],
           margin: float = DEFAULT_MARGIN, min_gain: float = DEFAULT_MIN_GAIN) -> Decision:
    rows = []
    for metric in gates:
        cur, cand = current.get(metric), candidate.get(metric)
        if cur is None or cand is None:
            rows.append(Comparison(metric, cur, cand, None, "missing"))
            continue
        delta = round(cand - cur, 6)
        verdict = "worse" if delta < -margin else "better" if delta > min_gain else "same"
        rows.append(Comparison(metric, cur, cand, delta, verdict))
    compared = [r for r in rows if r.verdict != "missing"]
    worse = [r.metric for r in rows if r.verdict == "worse"]
    better = [r.metric for r in rows if r.verdict == "better"]
    if not compared:
        return Decision(False, "no gate metric could be compared", rows, margin, min_gain)
    if worse:
        return Decision(False, f"worse than the current model on {', '.join(worse)} "
                               f"(more than {margin:g} lower)", rows, margin, min_gain)
    if not better:
        return Decision(False, f"not better on any gate metric (by more than {min_gain:g})", rows,
                        margin, min_gain)
    return Decision(True, f"better on {', '.join(better)}, no worse elsewhere", rows, margin, min_gain)
