"""The rule of issue 14 on every judged catalog, with the base encoder: the shipped pipeline is at
least as good as fusion and dense, and fusion no worse than the better single mode − 0.01."""

from __future__ import annotations

import pytest

from recommender.evaluate import MODES, evaluate_modes
from tools.eval_table import SETS, misses


@pytest.mark.parametrize("evalset", SETS, ids=[s.name for s in SETS])
def test_the_shipped_ranking_beats_its_own_parts(evalset, encoder):
    results = evaluate_modes(evalset.catalog, evalset.queries, evalset.qrels, MODES, encoder=encoder)
    ndcg = {mode: results[mode].metrics["ndcg@10"] for mode in MODES}
    assert results["hybrid"].metrics["queries"] >= 60
    assert misses(ndcg) == [], ndcg


def test_a_miss_is_reported_in_words():
    assert misses({"keyword": 0.80, "dense": 0.70, "fusion": 0.78, "hybrid": 0.79}) == [
        "fusion 0.780 < max(keyword, dense) − 0.01 = 0.790"]
    assert misses({"keyword": 0.6, "dense": 0.7, "fusion": 0.75, "hybrid": 0.72}) == [
        "shipped 0.720 < fusion 0.750"]
