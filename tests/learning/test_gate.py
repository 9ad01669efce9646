"""The promotion gate's rule, on hand-written metric tables."""

from __future__ import annotations

import pytest

from learning.gate import RETRIEVAL_GATES, decide

CURRENT = {"logged_shown/ndcg@10": 0.40, "logged/recall@100": 0.80, "eval/ndcg@10": 0.60, "eval/recall@100": 0.90}


def test_better_on_one_and_not_worse_elsewhere_is_promoted():
    candidate = CURRENT | {"logged_shown/ndcg@10": 0.45, "eval/ndcg@10": 0.595}  # -0.005 is inside the margin
    decision = decide(CURRENT, candidate, RETRIEVAL_GATES, margin=0.01)
    assert decision.promote, decision.reason
    verdicts = {r.metric: r.verdict for r in decision.rows}
    assert verdicts == {"logged_shown/ndcg@10": "better", "logged/recall@100": "same",
                        "eval/ndcg@10": "same", "eval/recall@100": "same"}


@pytest.mark.parametrize("metric", RETRIEVAL_GATES)
def test_worse_on_any_metric_is_refused_even_when_better_elsewhere(metric):
    others = [m for m in RETRIEVAL_GATES if m != metric]
    candidate = {m: v + 0.1 for m, v in CURRENT.items()} | {metric: CURRENT[metric] - 0.02}
    decision = decide(CURRENT, candidate, RETRIEVAL_GATES, margin=0.01)
    assert not decision.promote and metric in decision.reason
    assert all(r.verdict == "better" for r in decision.rows if r.metric in others)


def test_equal_is_not_enough_and_missing_metrics_are_reported():
    assert not decide(CURRENT, dict(CURRENT), RETRIEVAL_GATES).promote
    partial = decide(CURRENT, {"eval/ndcg@10": 0.7}, RETRIEVAL_GATES)
    assert partial.promote and [r.verdict for r in partial.rows].count("missing") == 3
    assert not decide({}, {}, RETRIEVAL_GATES).promote
