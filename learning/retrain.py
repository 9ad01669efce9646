"""One retraining round (``python -m learning retrain``; ``make retrain``):

1. export the logged chats of the window (or reuse ``--export DIR``): pairs for training, the
   newest conversations held out as judgments (temporal split);
2. fine-tune a candidate encoder on catalog pairs plus the logged pairs (``recommender.finetune``),
   starting from the active model, written under ``var/training/candidates/encoder/``
   (or evaluate an existing ``--candidate-encoder`` folder);
3. evaluate the active and the candidate encoder on the same data: the held-out logged
   judgments and ``data/eval/`` (nDCG@10, recall@100; the shipped hybrid pipeline);
4. gate (:mod:`learning.gate`) and promote the candidate into ``models/encoder/``
   when it passes (the previous folders stay for ``rollback``);
5. Rasa, with its own gate and decision (:mod:`learning.rasa_round`): when
   reviewed examples changed after the current model was trained (or ``--rasa``), train a
   candidate on the project's data plus the reviewed examples minus a held-out share, score both
   models on the held-out examples and ``tests/test_stories.yml``, promote into
   ``models/aisle.tar.gz`` when it passes (the previous model is kept for ``rollback --model rasa``);
6. write the report (Markdown + SVG charts + JSON) to ``reports/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.settings import ROOT, get_settings
from learning.encoder_eval import JudgedSet, evaluate_encoder
from learning.export import export, latest_export
from learning.gate import DEFAULT_MARGIN, DEFAULT_MIN_GAIN, RETRIEVAL_GATES, decide
from learning.promotion import active_encoder, promote_encoder
from learning.rasa_round import HOLDOUT_EVERY, MIN_HELDOUT, RoundOptions, run_round
from learning.report import write_report
from learning.sources import (
    GatewayExport,
    HttpTrackers,
    SqlTrackers,
    Window,
    parse_time,
)

log = logging.getLogger(__name__)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gateway-db", help="gateway store URL (default: AISLE_GATEWAY_DB_URL)")
    parser.add_argument("--tracker-url", help="Rasa HTTP API for trackers (default: AISLE_RASA_URL if "
                                              "--tracker-db is not given; 'none' to skip trackers)")
    parser.add_argument("--tracker-token", default="", help="Rasa API token (default: AISLE_RASA_TOKEN)")
    parser.add_argument("--tracker-db", help="SQL tracker store URL (table events), instead of the HTTP API")
    parser.add_argument("--since", help="window start: ISO time or age (7d, 12h)")
    parser.add_argument("--until", help="window end: ISO time or age")
    parser.add_argument("--holdout", type=float, default=0.2, help="newest share of conversations held out")


def run_export(args: argparse.Namespace) -> Path:
    settings = get_settings()
    trackers: Any = None
    if args.tracker_db:
        trackers = SqlTrackers(args.tracker_db)
    elif (args.tracker_url or "").lower() != "none":
        trackers = HttpTrackers(args.tracker_url or settings.rasa_url, args.tracker_token or settings.rasa_token)
    result = export(GatewayExport(args.gateway_db), trackers,
                    Path(getattr(args, "out", None) or get_settings().training_dir / "exports"),
                    Window(parse_time(args.since), parse_time(args.until)), holdout=args.holdout)
    log.info("export %s: %s", result.folder, result.manifest)
    return result.folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    settings = get_settings()
    parser.add_argument("--export", type=Path, help="use this export folder ('latest' = newest) instead of exporting")
    parser.add_argument("--catalog", type=Path, default=settings.catalog_path)
    parser.add_argument("--candidate-encoder", type=Path, help="gate this model folder instead of training one")
    parser.add_argument("--from-base", action="store_true", help="fine-tune from the base model, not the active one")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--per-product", type=int, default=2, help="catalog queries per product")
    parser.add_argument("--max-pairs", type=int, default=0, help="cap on training pairs (0: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN, help="tolerated loss per gate metric")
    parser.add_argument("--min-gain", type=float, default=DEFAULT_MIN_GAIN, help="gain that counts as better")
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "fusion", "dense", "keyword"))
    parser.add_argument("--eval-queries", type=Path, default=ROOT / "data/eval/queries.tsv")
    parser.add_argument("--eval-qrels", type=Path, default=ROOT / "data/eval/qrels.tsv")
    parser.add_argument("--reports-dir", type=Path, default=ROOT / "reports")
    parser.add_argument("--dry-run", action="store_true", help="gate and report, never promote")
    rasa = parser.add_argument_group("Rasa")
    rasa.add_argument("--rasa", action=argparse.BooleanOptionalAction, default=None,
                      help="retrain Rasa (default: only when reviewed examples are newer than the current model)")
    rasa.add_argument("--rasa-candidate", type=Path, help="gate this Rasa model archive instead of training one")
    rasa.add_argument("--rasa-config", type=Path, default=ROOT / "config.yml")
    rasa.add_argument("--rasa-stories", type=Path, default=ROOT / "tests/test_stories.yml")
    rasa.add_argument("--rasa-nlu-test", type=Path, action="append", default=[],
                      help="a fixed NLU test file (Rasa YAML, not training data) added to the held-out examples")
    rasa.add_argument("--rasa-holdout-every", type=int, default=HOLDOUT_EVERY,
                      help="hold out reviewed examples whose text hash is divisible by this")
    rasa.add_argument("--rasa-min-heldout", type=int, default=MIN_HELDOUT,
                      help="fewer NLU test examples than this: nlu/macro_f1 is not gated")
    rasa.add_argument("--no-rasa-reload", dest="rasa_reload", action="store_false",
                      help="do not ask a running Rasa server (AISLE_RASA_URL) to load a promoted model")


def train_candidate(args: argparse.Namespace, pairs: Path, current: Path) -> Path:
    from recommender import finetune

    ft = argparse.ArgumentParser()
    finetune.add_arguments(ft)
    ft_args = ft.parse_args([])
    ft_args.catalog = args.catalog
    ft_args.logged = [pairs] if pairs.exists() and pairs.stat().st_size else []
    ft_args.output_dir = get_settings().training_dir / "candidates" / "encoder"
    ft_args.base_model = "" if args.from_base else str(current)
    ft_args.epochs, ft_args.per_product, ft_args.max_pairs = args.epochs, args.per_product, args.max_pairs
    ft_args.batch_size, ft_args.lr, ft_args.seed = args.batch_size, args.lr, args.seed
    ft_args.eval_queries, ft_args.eval_qrels = args.eval_queries, args.eval_qrels
    return finetune.run(ft_args)


def retrain(args: argparse.Namespace) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    timings: dict[str, float] = {}
    t = started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round(now - t, 1)
        t = now

    # 1. export
    if args.export:
        folder = latest_export(get_settings().training_dir / "exports") if str(args.export) == "latest" else args.export
        if folder is None or not Path(folder).is_dir():
            raise FileNotFoundError(f"no export folder {args.export}")
    else:
        folder = run_export(args)
    folder = Path(folder)
    lap("export")

    # 2. candidate
    current = active_encoder()
    if args.candidate_encoder:
        candidate = args.candidate_encoder
        if not candidate.is_dir():
            raise FileNotFoundError(f"candidate encoder {candidate} is not a folder")
    else:
        candidate = train_candidate(args, folder / "pairs.train.jsonl", current)
    lap("train")

    # 3. the same held-out data for both
    sets = [JudgedSet("logged", folder / "heldout/queries.tsv", folder / "heldout/qrels.tsv",
                      folder / "heldout/shown.tsv"),
            JudgedSet("eval", args.eval_queries, args.eval_qrels)]
    current_metrics = evaluate_encoder(current, args.catalog, sets, mode=args.mode)
    candidate_metrics = evaluate_encoder(candidate, args.catalog, sets, mode=args.mode)
    lap("evaluate")

    # 4. gate and promote
    decision = decide(current_metrics, candidate_metrics, RETRIEVAL_GATES, args.margin, args.min_gain)
    promoted = None
    if decision.promote and not args.dry_run:
        promoted = promote_encoder(Path(candidate))
    lap("promote")

    # 5. Rasa: its own candidate, held-out data, gate and promotion
    rasa = run_round(RoundOptions(
        flag=args.rasa, config=args.rasa_config, stories=args.rasa_stories, nlu_tests=args.rasa_nlu_test,
        candidate=args.rasa_candidate, every=args.rasa_holdout_every, min_heldout=args.rasa_min_heldout,
        margin=args.margin, min_gain=args.min_gain, dry_run=args.dry_run, reload=args.rasa_reload), stamp)
    timings |= {f"rasa_{name}": seconds for name, seconds in rasa.timings.items()}
    timings["total"] = round(time.perf_counter() - started, 1)

    # 6. report
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    context = {
        "export": str(folder),
        "window": manifest.get("window"),
        "logged conversations": manifest.get("conversations"),
        "training pairs from logs": manifest.get("pairs_train"),
        "held-out conversations (newest)": manifest.get("heldout_conversations"),
        "held-out logged queries": manifest.get("heldout_queries"),
        "current encoder": str(current),
        "candidate encoder": str(candidate),
        "promoted to": str(promoted) if promoted else ("(dry run)" if decision.promote else "—"),
        "evaluation mode": args.mode,
        "seconds": timings,
        "cpus": os.cpu_count(),
        "rasa": rasa.summary(),
    }
    report = write_report(Path(args.reports_dir), stamp, decision, current_metrics, candidate_metrics, context,
                          rasa=rasa, dry_run=args.dry_run)
    return {"decision": decision.to_dict(), "promoted": str(promoted) if promoted else None,
            "report": str(report), "export": str(folder), "candidate": str(candidate),
            "current": str(current), "timings": timings, "rasa": rasa.to_dict(),
            "metrics": {"current": current_metrics, "candidate": candidate_metrics}}
