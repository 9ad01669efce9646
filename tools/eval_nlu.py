#!/usr/bin/env python3
"""Measure the trained Rasa NLU model on public data it never saw (docs/architecture.md §6).

    .venv-rasa/bin/python -m tools.eval_nlu --model models/ [--bitext PATH] [--oos PATH] [--json]

1. Load the newest model in ``--model`` (a folder or a ``.tar.gz``) with Rasa's ``Agent``.
2. Parse the Bitext customer-support utterances (columns ``instruction``, ``intent``) and
   report intent accuracy, macro-F1 over the Bitext intents that domain.yml also has (all 27)
   and the top confusions.
3. Parse the CLINC150 out-of-scope utterances and report the share caught as
   ``out_of_scope`` or ``nlu_fallback``.
With ``--json`` the last line of output is one JSON object with every figure.

The metric functions are plain Python (no Rasa import at module level) and are unit
tested in tests/tools/ from the 3.11 venv.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from common import domain  # stdlib + PyYAML only: fine in Rasa's Python 3.10

ROOT = Path(__file__).resolve().parents[1]

SHARED = ROOT.parent / "shared" / "data"
DEFAULT_BITEXT = SHARED / "bitext-customer-support" / "bitext_customer_support_4514.csv"
DEFAULT_OOS = SHARED / "clinc150-oos" / "oos_val.tsv"
FALLBACK_INTENT = "nlu_fallback"
CAUGHT_INTENTS = frozenset({"out_of_scope", FALLBACK_INTENT})
# The intent names of the public Bitext customer-support data set, kept as Bitext spells them:
# this list is the data set's taxonomy, not ours (domain.yml is ours, read by common.domain).
BITEXT_TAXONOMY = (
    "cancel_order", "change_order", "place_order", "track_order", "check_refund_policy",
    "get_refund", "track_refund", "delivery_options", "delivery_period",
    "change_shipping_address", "set_up_shipping_address", "check_payment_methods",
    "payment_issue", "check_invoice", "get_invoice", "check_cancellation_fee",
    "contact_customer_service", "contact_human_agent", "complaint", "review",
    "newsletter_subscription", "create_account", "delete_account", "edit_account",
    "recover_password", "registration_problems", "switch_account",
)
# Scored: the Bitext intents the domain also has (all 27 today). An intent dropped from
# domain.yml cannot be predicted, so it leaves the macro-F1 instead of counting as 0.
BITEXT_INTENTS = tuple(sorted(set(BITEXT_TAXONOMY) & set(domain.intents()), key=BITEXT_TAXONOMY.index))
NOT_IN_DOMAIN = tuple(i for i in BITEXT_TAXONOMY if i not in BITEXT_INTENTS)


# ---------------------------------------------------------------- data
def read_bitext(path: Path) -> list[tuple[str, str]]:
    """(utterance, intent) pairs from the Bitext CSV."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"instruction", "intent"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {sorted(missing)}")
        return [(row["instruction"].strip(), row["intent"].strip()) for row in reader
                if row["instruction"].strip()]


def read_oos(path: Path) -> list[str]:
    """Utterances from a one-column TSV with a ``text`` header (CLINC150 oos files)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        rows = [row[0].strip() for row in reader if row and row[0].strip()]
    return rows[1:] if rows and rows[0].lower() == "text" else rows


# ---------------------------------------------------------------- metrics
def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    if len(gold) != len(pred):
        raise ValueError("gold and pred differ in length")
    if not gold:
        return 0.0
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)


@dataclass(frozen=True)
class LabelScore:
    precision: float
    recall: float
    f1: float
    support: int


def per_label_scores(gold: Sequence[str], pred: Sequence[str],
                     labels: Iterable[str]) -> dict[str, LabelScore]:
    """Precision, recall and F1 per label; a prediction outside ``labels`` is a miss."""
    if len(gold) != len(pred):
        raise ValueError("gold and pred differ in length")
    pairs = list(zip(gold, pred, strict=True))
    scores = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in pairs)
        predicted = sum(p == label for _, p in pairs)
        support = sum(g == label for g, _ in pairs)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = LabelScore(precision, recall, f1, support)
    return scores


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Iterable[str]) -> float:
    """Unweighted mean of per-label F1 over ``labels``."""
    scores = per_label_scores(gold, pred, labels)
    return sum(s.f1 for s in scores.values()) / len(scores) if scores else 0.0


def top_confusions(gold: Sequence[str], pred: Sequence[str], n: int = 15) -> list[tuple[str, str, int]]:
    """The ``n`` most frequent (gold, predicted) pairs where the two differ."""
    counts = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    return [(g, p, c) for (g, p), c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def caught_share(pred: Sequence[str], caught: Iterable[str] = CAUGHT_INTENTS) -> float:
    """Share of predictions that are out of scope or fallback."""
    caught = set(caught)
    return sum(p in caught for p in pred) / len(pred) if pred else 0.0


def apply_fallback(ranking: Sequence[tuple[str, float]], threshold: float,
                   ambiguity_threshold: float = 0.0) -> str:
    """The intent Rasa's FallbackClassifier would return for a ranking (best first) that
    excludes ``nlu_fallback``: fallback when the top confidence is below ``threshold``
    or the top two are closer than ``ambiguity_threshold``."""
    ranked = [(name, conf) for name, conf in ranking if name != FALLBACK_INTENT]
    if not ranked:
        return FALLBACK_INTENT
    top_name, top_conf = ranked[0]
    if top_conf < threshold:
        return FALLBACK_INTENT
    if len(ranked) > 1 and top_conf - ranked[1][1] < ambiguity_threshold:
        return FALLBACK_INTENT
    return top_name


# ---------------------------------------------------------------- model
@dataclass(frozen=True)
class Parsed:
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]  # without nlu_fallback, best first


def newest_model(path: Path) -> Path:
    if path.is_file():
        return path
    models = sorted(path.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"no trained model (*.tar.gz) in {path}; run `rasa train` first")
    return models[-1]


def load_agent(model: Path):  # -> rasa.core.agent.Agent, imported lazily (Rasa venv only)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)  # no per-message debug lines on stdout
    configure_structlog(logging.WARNING)

    return Agent.load(str(newest_model(model)))


def parse_all(agent, texts: Sequence[str]) -> list[Parsed]:
    async def run() -> list[Parsed]:
        out = []
        for text in texts:
            result = await agent.parse_message(text)
            ranking = tuple((r["name"], float(r["confidence"])) for r in result.get("intent_ranking", [])
                            if r["name"] != FALLBACK_INTENT)
            intent = result.get("intent") or {}
            out.append(Parsed(intent.get("name") or FALLBACK_INTENT, float(intent.get("confidence") or 0.0),
                              ranking))
        return out

    return asyncio.run(run())


# ---------------------------------------------------------------- report
def evaluate(bitext_pred: Sequence[str], bitext_gold: Sequence[str], oos_pred: Sequence[str],
             n_confusions: int = 15) -> dict:
    scores = per_label_scores(bitext_gold, bitext_pred, BITEXT_INTENTS)
    return {
        "bitext": {
            "n": len(bitext_gold),
            "accuracy": round(accuracy(bitext_gold, bitext_pred), 4),
            "macro_f1": round(sum(s.f1 for s in scores.values()) / len(scores), 4),
            "fallback_or_oos_share": round(caught_share(bitext_pred), 4),
            "per_intent_f1": {k: round(v.f1, 4) for k, v in scores.items()},
            "top_confusions": [{"gold": g, "pred": p, "count": c}
                               for g, p, c in top_confusions(bitext_gold, bitext_pred, n_confusions)],
        },
        "oos": {
            "n": len(oos_pred),
            "caught_share": round(caught_share(oos_pred), 4),
            "predicted": dict(Counter(oos_pred).most_common(10)),
        },
    }


def print_report(report: dict) -> None:
    b, o = report["bitext"], report["oos"]
    print(f"Bitext customer support ({b['n']} utterances, {len(b['per_intent_f1'])} intents)")
    print(f"  intent accuracy      {b['accuracy']:.4f}")
    print(f"  macro-F1             {b['macro_f1']:.4f}   (target >= 0.92)")
    print(f"  fallback/oos share   {b['fallback_or_oos_share']:.4f}")
    if NOT_IN_DOMAIN:
        print(f"  not scored (not in domain.yml): {', '.join(NOT_IN_DOMAIN)}")
    print("  per-intent F1 (lowest first):")
    for name, f1 in sorted(b["per_intent_f1"].items(), key=lambda kv: kv[1]):
        print(f"    {name:28s} {f1:.3f}")
    print("  top confusions (gold -> predicted: count):")
    for row in b["top_confusions"]:
        print(f"    {row['gold']:28s} -> {row['pred']:28s} {row['count']}")
    print(f"CLINC150 out-of-scope ({o['n']} utterances)")
    print(f"  caught as out_of_scope/nlu_fallback  {o['caught_share']:.4f}   (target >= 0.80)")
    print(f"  predicted: {o['predicted']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the Rasa NLU model on Bitext and CLINC150 OOS.")
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--bitext", type=Path, default=DEFAULT_BITEXT)
    parser.add_argument("--oos", type=Path, default=DEFAULT_OOS)
    parser.add_argument("--confusions", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    for path in (args.bitext, args.oos):
        if not path.exists():
            print(f"error: not found: {path}", file=sys.stderr)
            return 2
    bitext = read_bitext(args.bitext)
    oos = read_oos(args.oos)
    try:
        agent = load_agent(args.model)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    bitext_parsed = parse_all(agent, [t for t, _ in bitext])
    oos_parsed = parse_all(agent, oos)
    elapsed = time.perf_counter() - start
    report = evaluate([p.intent for p in bitext_parsed], [g for _, g in bitext],
                      [p.intent for p in oos_parsed], args.confusions)
    report["model"] = str(newest_model(args.model))
    report["parse_ms_mean"] = round(1000 * elapsed / max(1, len(bitext) + len(oos)), 2)
    print_report(report)
    if args.json:
        print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
