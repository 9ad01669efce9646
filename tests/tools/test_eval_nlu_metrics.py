"""Metric code of tools/eval_nlu.py (pure functions; the script imports Rasa lazily)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import eval_nlu

ROOT = Path(__file__).resolve().parents[2]


def test_accuracy() -> None:
    assert eval_nlu.accuracy(["a", "b", "c", "a"], ["a", "b", "a", "nlu_fallback"]) == 0.5
    assert eval_nlu.accuracy([], []) == 0.0
    with pytest.raises(ValueError):
        eval_nlu.accuracy(["a"], [])


def test_per_label_scores_by_hand() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "nlu_fallback", "a"]
    scores = eval_nlu.per_label_scores(gold, pred, ["a", "b", "c"])
    # a: tp=2, predicted 3, support 3 → p=2/3, r=2/3
    assert scores["a"].precision == pytest.approx(2 / 3)
    assert scores["a"].recall == pytest.approx(2 / 3)
    assert scores["a"].f1 == pytest.approx(2 / 3)
    # b: tp=1, predicted 2, support 2 → p=r=f1=0.5
    assert scores["b"].f1 == pytest.approx(0.5)
    # c: never predicted → 0
    assert scores["c"].f1 == 0.0 and scores["c"].support == 1
    assert eval_nlu.macro_f1(gold, pred, ["a", "b", "c"]) == pytest.approx((2 / 3 + 0.5 + 0) / 3)


def test_macro_f1_is_one_when_perfect_and_ignores_unlisted_labels() -> None:
    gold = ["x", "y", "z"]
    assert eval_nlu.macro_f1(gold, gold, ["x", "y"]) == 1.0


def test_top_confusions_sorted_by_count_then_name() -> None:
    gold = ["a", "a", "a", "b", "b", "c", "c"]
    pred = ["b", "b", "a", "a", "c", "a", "b"]
    assert eval_nlu.top_confusions(gold, pred, n=3) == [("a", "b", 2), ("b", "a", 1), ("b", "c", 1)]


def test_caught_share() -> None:
    assert eval_nlu.caught_share(["out_of_scope", "nlu_fallback", "greet", "track_order"]) == 0.5
    assert eval_nlu.caught_share([]) == 0.0


@pytest.mark.parametrize(("ranking", "threshold", "ambiguity", "expected"), [
    ([("track_order", 0.9), ("cancel_order", 0.05)], 0.5, 0.1, "track_order"),
    ([("track_order", 0.4), ("cancel_order", 0.3)], 0.5, 0.0, "nlu_fallback"),
    ([("track_order", 0.55), ("cancel_order", 0.5)], 0.5, 0.1, "nlu_fallback"),  # ambiguous
    ([("nlu_fallback", 0.5), ("greet", 0.7)], 0.6, 0.0, "greet"),  # fallback entry ignored
    ([], 0.3, 0.0, "nlu_fallback"),
])
def test_apply_fallback(ranking, threshold, ambiguity, expected) -> None:
    assert eval_nlu.apply_fallback(ranking, threshold, ambiguity) == expected


def test_readers(tmp_path: Path) -> None:
    csv_path = tmp_path / "b.csv"
    csv_path.write_text('instruction,intent,response\n"where is my order",track_order,"multi\nline"\n'
                        ',cancel_order,x\n')
    assert eval_nlu.read_bitext(csv_path) == [("where is my order", "track_order")]
    tsv = tmp_path / "o.tsv"
    tsv.write_text("text\nwhat's the weather\n\ntell me a joke\n")
    assert eval_nlu.read_oos(tsv) == ["what's the weather", "tell me a joke"]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,y\n")
    with pytest.raises(ValueError, match="instruction"):
        eval_nlu.read_bitext(bad)


def test_evaluate_report_shape() -> None:
    gold = ["track_order", "cancel_order"]
    report = eval_nlu.evaluate(["track_order", "nlu_fallback"], gold, ["out_of_scope", "greet"])
    assert report["bitext"]["accuracy"] == 0.5
    assert report["bitext"]["fallback_or_oos_share"] == 0.5
    assert report["oos"]["caught_share"] == 0.5
    assert set(report["bitext"]["per_intent_f1"]) == set(eval_nlu.BITEXT_INTENTS)
    assert report["bitext"]["top_confusions"] == [{"gold": "cancel_order", "pred": "nlu_fallback", "count": 1}]
