"""Measure one learning-loop round: retrieval quality before and after retraining on logged
clicks, judged by the simulated shoppers' hidden preferences, and how long the round takes.

    .venv/bin/python -m tools.measure_learning --sessions 2000 --concurrency 4 [--ablation] [--workdir DIR]

1. Start the real stack (Rasa, action server, gateway; ``tools/stack.py``) with private state in
   a work folder and play ``--sessions`` seeded shoppers through it (``simulate_shoppers.py``).
2. The round, timed on its own: export the stack's logs (gateway DB + Rasa trackers over HTTP),
   stop the stack, then ``retrain --export <folder> --dry-run --no-rasa``: a candidate fine-tuned
   from the active encoder on catalog + logged pairs, evaluated and gated; nothing is promoted.
3. Simulator-truth judgments: every shopping session newer than the newest conversation that
   gave training pairs (the export's temporal split) is held out; each search text its shopper
   typed is a query, and every catalog product is graded by the hidden preference
   (``Preference.grade``: 2 the target, 1 same type and colour within the price cap). Unlike
   the logged judgments, products the active model never showed count too.
4. Evaluate the active encoder and the candidate (with ``--ablation`` also a candidate trained on
   catalog pairs only) on those judgments, on the subsets whose text no training pair has and
   whose product type is named in shopper words (``SHOPPER_WORDS``), and on ``data/eval``; the
   gate's logged metrics are carried over; print a Markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from learning.encoder_eval import JudgedSet, evaluate_encoder
from recommender.catalog import Product, load_catalog
from recommender.pairs import normalize_query
from tools import simulate_shoppers as sim

ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger("measure_learning")




# ---------------------------------------------------------------- simulator-truth judgments
def search_texts(searches: list[str]) -> list[str]:
    """The conversation's search text after each search turn: a refinement joins the request,
    as the export's ``search_text`` joins it."""
    texts = [" ".join(" ".join(searches[: i + 1]).split()) for i in range(len(searches))]
    return list(dict.fromkeys(t for t in texts if t))


def heldout_sessions(sessions: list[dict[str, Any]], order: list[str], train_ids: set[str]) -> list[dict[str, Any]]:
    """Shopping sessions created after the newest conversation that gave training pairs.

    ``order``: conversation ids oldest first (the export's order, by creation time)."""
    position = {cid: i for i, cid in enumerate(order)}
    cutoff = max((position[c] for c in train_ids if c in position), default=-1)
    held = [s for s in sessions if s.get("kind") == "shopping" and s.get("preference")
            and position.get(s.get("conversation_id"), -1) > cutoff]
    return sorted(held, key=lambda s: position[s["conversation_id"]])


def sim_truth_judgments(sessions: list[dict[str, Any]], products: list[Product]
                        ) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Queries (the sessions' search texts) and qrels graded by each session's hidden preference."""
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for session in sessions:
        preference = sim.Preference(**session["preference"])
        grades = {p.id: g for p in products if (g := preference.grade(p))}
        if not grades:
            continue
        for text in search_texts(session.get("searches") or []):
            qid = f"S{len(queries) + 1:05d}"
            queries[qid], qrels[qid] = text, grades
    return queries, qrels


def colloquial(text: str) -> bool:
    """Whether a search text names its product type in the simulator's shopper words."""
    return any(re.search(rf"\b{re.escape(words)}\b", text) for phrases in sim.SHOPPER_WORDS.values()
               for words in phrases)


def write_judgments(folder: Path, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> None:
    """``queries.tsv`` / ``qrels.tsv`` in the format of ``data/eval`` (docs/architecture.md §3.2)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "queries.tsv").open("w", encoding="utf-8") as q, \
            (folder / "qrels.tsv").open("w", encoding="utf-8") as r:
        for qid, text in queries.items():
            q.write(f"{qid}\t{text}\n")
            for pid, grade in sorted(qrels[qid].items()):
                r.write(f"{qid}\t{pid}\t{grade}\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------- the measurement
def simulate_on_stack(args: argparse.Namespace, work: Path, seconds: dict[str, float]
                      ) -> tuple[list[dict[str, Any]], dict[str, Any], Path, list[str]]:
    """Steps 1 and the round's export: sessions, their summary, the export folder, conversation order."""
    from learning.retrain import add_arguments, run_export
    from learning.sources import GatewayExport
    from tools.stack import start_gateway, start_rasa_stack

    t = time.perf_counter()
    stack = start_rasa_stack(work / "stack", timeout=900)  # the Rasa model loads slowly on a busy machine
    try:
        gateway = start_gateway(stack, AISLE_RATE_CLIENT="100000000", AISLE_RATE_CONVERSATION="100000",
                                AISLE_RASA_TIMEOUT="60")
        try:
            seconds["stack_start"] = round(time.perf_counter() - t, 1)
            t = time.perf_counter()
            logs = sim.simulate(gateway.url, args.sessions, args.seed, args.catalog, concurrency=args.concurrency)
            seconds["simulate"] = round(time.perf_counter() - t, 1)
            summary = sim.summarize(logs, seconds["simulate"])
            sim.write_sessions(work / "sessions.jsonl", logs)
            log.info("simulated: %s", summary)
        finally:
            gateway.stop()
        db_url = stack.env["AISLE_GATEWAY_DB_URL"]
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        export_args = parser.parse_args(["--gateway-db", db_url, "--tracker-url", stack.rasa_url,
                                         "--tracker-token", stack.token, "--holdout", str(args.holdout)])
        t = time.perf_counter()
        folder = run_export(export_args)
        seconds["export"] = round(time.perf_counter() - t, 1)
    finally:
        stack.stop()
    conversations = sorted(GatewayExport(db_url).transcripts(), key=lambda c: c.get("created_at") or "")
    sessions = read_jsonl(work / "sessions.jsonl")
    return sessions, summary, folder, [c["conversation_id"] for c in conversations]


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from learning.retrain import add_arguments, retrain, train_candidate

    seconds: dict[str, float] = {}
    sessions, summary, folder, order = simulate_on_stack(args, work, seconds)

    # 2. the round's training, evaluation and gate (the export was timed above)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    rt_args = parser.parse_args(["--export", str(folder), "--dry-run", "--no-rasa", "--catalog", str(args.catalog),
                                 "--mode", args.mode, "--epochs", str(args.epochs), "--seed", str(args.seed),
                                 "--reports-dir", str(work / "reports")])
    result = retrain(rt_args)
    seconds |= {name: result["timings"].get(name, 0.0) for name in ("train", "evaluate")}
    seconds["gate"] = result["timings"].get("promote", 0.0)  # gate only: a dry run promotes nothing
    seconds["round"] = round(seconds["export"] + result["timings"]["total"], 1)
    manifest = json.loads((folder / "manifest.json").read_text())

    # 3. simulator-truth judgments on the held-out sessions
    train_pairs = read_jsonl(folder / "pairs.train.jsonl")
    held = heldout_sessions(sessions, order, {p["conversation_id"] for p in train_pairs})
    products = [p for p in load_catalog(args.catalog).products if p.product_type]
    queries, qrels = sim_truth_judgments(held, products)
    trained_on = {normalize_query(p["query"]) for p in train_pairs}
    subsets = {"sim": queries,
               "sim_unseen": {q: t for q, t in queries.items() if normalize_query(t) not in trained_on},
               "sim_colloquial": {q: t for q, t in queries.items() if colloquial(t)}}
    sets = []
    for name, chosen in subsets.items():
        write_judgments(work / name, chosen, {q: qrels[q] for q in chosen})
        sets.append(JudgedSet(name, work / name / "queries.tsv", work / name / "qrels.tsv"))
    sets.append(JudgedSet("eval", rt_args.eval_queries, rt_args.eval_qrels))

    # 4. both encoders (and the catalog-only ablation) on the same judgments
    t = time.perf_counter()
    models = {"before": result["current"], "after": result["candidate"]}
    scores = {name: evaluate_encoder(path, args.catalog, sets, mode=args.mode) for name, path in models.items()}
    seconds["measure_evaluate"] = round(time.perf_counter() - t, 1)
    if args.ablation:
        t = time.perf_counter()
        models["catalog_only"] = str(train_candidate(rt_args, work / "no-logged-pairs.jsonl", Path(result["current"])))
        seconds["ablation_train"] = round(time.perf_counter() - t, 1)
        scores["catalog_only"] = evaluate_encoder(models["catalog_only"], args.catalog, sets, mode=args.mode)

    metrics: dict[str, dict[str, float | None]] = {}
    for name in ("sim/ndcg@10", "sim/recall@100", "sim_unseen/ndcg@10", "sim_unseen/recall@100",
                 "sim_colloquial/ndcg@10", "sim_colloquial/recall@100", "eval/ndcg@10", "eval/recall@100"):
        metrics[name] = {model: scores[model].get(name) for model in scores}
    gate_metrics = result["metrics"]
    for name in ("logged_shown/ndcg@10", "logged/ndcg@10", "logged/recall@100"):
        metrics[name] = {"before": gate_metrics["current"].get(name), "after": gate_metrics["candidate"].get(name)}
    return {
        "sessions": summary["sessions"], "failed_sessions": summary["failed"], "kinds": summary["kinds"],
        "added_to_cart": summary["added_to_cart"], "concurrency": args.concurrency, "seed": args.seed,
        "logged_conversations": manifest.get("conversations"),
        "training_pairs_from_logs": manifest.get("pairs_train"),
        "logged_heldout_conversations": manifest.get("heldout_conversations"),
        "logged_heldout_queries": manifest.get("heldout_queries"),
        "heldout_sessions": len(held), "heldout_queries": len(queries),
        "heldout_queries_unseen": len(subsets["sim_unseen"]), "heldout_queries_colloquial": len(subsets["sim_colloquial"]),
        "metrics": metrics,
        "gate": {"promote": result["decision"]["promote"], "reason": result["decision"]["reason"]},
        "seconds": seconds, "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "models": models, "report": result["report"], "mode": args.mode,
    }


def markdown(r: dict[str, Any]) -> str:
    def f(value: float | None) -> str:
        return "—" if value is None else f"{value:.4f}"

    names = {"sim": "simulator truth, held-out sessions", "sim_unseen": "… queries no training pair has",
             "sim_colloquial": "… queries in shopper words", "eval": "data/eval",
             "logged_shown": "logged held-out clicks, shown products reordered (gated)",
             "logged": "logged held-out clicks, whole catalog"}
    ablation = any("catalog_only" in m for m in r["metrics"].values())
    lines = ["| judged set | metric | before | after | Δ |" + (" catalog pairs only |" if ablation else ""),
             "| --- | --- | ---: | ---: | ---: |" + (" ---: |" if ablation else "")]
    for key, m in r["metrics"].items():
        before, after = m.get("before"), m.get("after")
        delta = f"{after - before:+.4f}" if before is not None and after is not None else "—"
        set_name, metric = key.split("/")
        lines.append(f"| {names.get(set_name, set_name)} | {metric} | {f(before)} | {f(after)} | {delta} |"
                     + (f" {f(m.get('catalog_only'))} |" if ablation else ""))
    s = r["seconds"]
    lines += ["", "| | |", "| --- | ---: |",
              f"| sessions simulated (failed) | {r['sessions']} ({r['failed_sessions']}) |",
              f"| training pairs from logs | {r['training_pairs_from_logs']} |",
              f"| held-out sessions / queries (unseen texts, in shopper words) | {r['heldout_sessions']} / "
              f"{r['heldout_queries']} ({r['heldout_queries_unseen']}, {r['heldout_queries_colloquial']}) |",
              f"| logged held-out conversations / queries | {r['logged_heldout_conversations']} / "
              f"{r['logged_heldout_queries']} |",
              f"| gate (dry run) | {'PASS' if r['gate']['promote'] else 'REFUSED'}: {r['gate']['reason']} |",
              f"| seconds: simulation (concurrency {r['concurrency']}) | {s['simulate']} |",
              f"| seconds: export / train / evaluate + gate | {s['export']} / {s['train']} / "
              f"{round(s['evaluate'] + s['gate'], 1)} |",
              f"| **seconds: round total** | **{s['round']}** |",
              f"| seconds: measurement evaluation (not in the round) | {s['measure_evaluate']} |",
              f"| CPUs | {r['cpus']} |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4, help="shoppers chatting at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.2, help="newest share held out (the export's rule)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "fusion", "dense", "keyword"))
    parser.add_argument("--catalog", type=Path, default=ROOT / "data/catalog/products.jsonl")
    parser.add_argument("--ablation", action="store_true", help="also train a candidate on catalog pairs only")
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aisle-measure-"))
    work.mkdir(parents=True, exist_ok=True)
    # candidates, exports, reports and caches stay in the work folder; models/ is only read
    os.environ.update(AISLE_TRAINING_DIR=str(work / "training"), AISLE_VAR_DIR=str(work / "var"),
                      HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    try:
        result = measure(args, work)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    if args.workdir:
        result["workdir"] = str(work)
    else:  # removed with the work folder
        result.pop("report")
        result["models"] = {"before": result["models"]["before"]}
    print(markdown(result))
    print(json.dumps(result))
    return 1 if result["failed_sessions"] else 0


if __name__ == "__main__":
    sys.exit(main())
