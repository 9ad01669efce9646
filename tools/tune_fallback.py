#!/usr/bin/env python3
"""Choose the FallbackClassifier thresholds on held-out data (issue 4, item 1).

    .venv-rasa/bin/rasa data split nlu -u data/nlu --training-fraction 0.8 --random-seed 42 --out var/nlu-split
    .venv-rasa/bin/rasa train nlu --nlu var/nlu-split/training_data.yml --out var/nlu-split/models
    .venv-rasa/bin/python -m tools.tune_fallback --model var/nlu-split/models \
        --heldout var/nlu-split/test_data.yml [--oos PATH] [--json]

1. Parse the held-out part of the project's own examples (never seen in training) and the
   CLINC150 out-of-scope utterances with a model trained on the remaining 80 %.
2. Re-apply the fallback rule to each intent ranking for a grid of ``threshold`` and
   ``ambiguity_threshold`` values (the ranking does not depend on them).
3. Print, per setting, the in-scope accuracy, the share of in-scope messages lost to
   fallback and the share of out-of-scope messages caught; suggest the setting that
   catches the most out-of-scope messages while losing at most ``--max-lost`` in scope.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools import eval_nlu  # metrics, readers, model loading

THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(14)]  # 0.30 … 0.95
AMBIGUITIES = [0.0, 0.02, 0.05, 0.1]


def read_heldout(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from Rasa NLU training-data YAML (lazy Rasa import)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(ex.get("text"), ex.get("intent")) for ex in data.intent_examples]


def sweep(inscope: list[tuple[eval_nlu.Parsed, str]], oos: list[eval_nlu.Parsed]) -> list[dict]:
    rows = []
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            pred_in = [eval_nlu.apply_fallback(p.ranking, threshold, ambiguity) for p, _ in inscope]
            gold_in = [g for _, g in inscope]
            pred_oos = [eval_nlu.apply_fallback(p.ranking, threshold, ambiguity) for p in oos]
            rows.append({
                "threshold": threshold, "ambiguity_threshold": ambiguity,
                "inscope_accuracy": round(eval_nlu.accuracy(gold_in, pred_in), 4),
                "inscope_lost": round(sum(p == eval_nlu.FALLBACK_INTENT for p in pred_in) / len(pred_in), 4),
                "oos_caught": round(eval_nlu.caught_share(pred_oos), 4),
            })
    return rows


def choose(rows: list[dict], max_lost: float) -> dict:
    allowed = [r for r in rows if r["inscope_lost"] <= max_lost] or rows
    return max(allowed, key=lambda r: (r["oos_caught"], r["inscope_accuracy"], -r["threshold"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sweep FallbackClassifier thresholds.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--heldout", type=Path, required=True, help="held-out NLU YAML of the project's data")
    parser.add_argument("--oos", type=Path, default=eval_nlu.DEFAULT_OOS)
    parser.add_argument("--max-lost", type=float, default=0.05,
                        help="largest share of in-scope held-out messages allowed to fall back")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    heldout = read_heldout(args.heldout)
    inscope = [(t, g) for t, g in heldout if g != "out_of_scope"]
    own_oos = [t for t, g in heldout if g == "out_of_scope"]
    clinc = eval_nlu.read_oos(args.oos)
    agent = eval_nlu.load_agent(args.model)
    parsed_in = eval_nlu.parse_all(agent, [t for t, _ in inscope])
    parsed_oos = eval_nlu.parse_all(agent, clinc)
    parsed_own_oos = eval_nlu.parse_all(agent, own_oos)

    # the project's held-out out_of_scope examples count as caught when predicted as such
    own_caught = eval_nlu.caught_share([p.ranking[0][0] if p.ranking else "" for p in parsed_own_oos])
    rows = sweep(list(zip(parsed_in, [g for _, g in inscope], strict=True)), parsed_oos)
    best = choose(rows, args.max_lost)
    print(f"held-out in-scope: {len(inscope)}, CLINC150 oos: {len(clinc)}, "
          f"own held-out out_of_scope predicted as such: {own_caught:.3f} of {len(own_oos)}")
    print(f"{'threshold':>9} {'ambig':>6} {'in-acc':>7} {'in-lost':>8} {'oos-caught':>10}")
    for r in rows:
        mark = "  <= chosen" if r is best else ""
        print(f"{r['threshold']:9.2f} {r['ambiguity_threshold']:6.2f} {r['inscope_accuracy']:7.3f} "
              f"{r['inscope_lost']:8.3f} {r['oos_caught']:10.3f}{mark}")
    if args.json:
        print(json.dumps({"chosen": best, "rows": rows}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
