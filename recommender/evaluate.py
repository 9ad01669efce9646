"""Offline evaluation: nDCG@k (graded gains), recall@100, MRR and latency on TREC-like files.

The judgment files are read here and only here (``load_queries``, ``load_qrels``, ``load_shown``),
and the metrics are computed here and only here (``ndcg``, ``recall``, ``reciprocal_rank``): the
fine-tuning run, the learning loop's gate and the tools use these.

Besides the means over all queries, ``ndcg@k_half_a`` / ``ndcg@k_half_b`` split the queries by
their order in the file (1st, 3rd, 5th … vs 2nd, 4th …): ranking changes are tuned looking at
half a only, and half b is the held-out check that they generalise.

Modes: ``keyword`` (sparse BM25 only), ``dense`` (encoder only), ``fusion`` (dense+sparse RRF,
no query understanding), ``hybrid`` (the shipped pipeline: query → constraints and filter from
the catalog vocabulary, fused retrieval under the filter, rerank, relaxation when empty).
"""

from __future__ import annotations

import csv
import math
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.percentiles import percentile

MODES = ("hybrid", "fusion", "dense", "keyword")


def _tsv_rows(path: str | Path, width: int) -> Iterator[list[str]]:
    """Stripped cells of each row of a judgment file with at least ``width`` columns; a header row
    (``query_id``), comments (``#``) and rows without a query id are skipped. Cells are split on
    tabs only: a quote is a character of the query (the writers never quote)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= width and row[0].strip() and not row[0].startswith("#") and row[0] != "query_id":
                yield [cell.strip() for cell in row]


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def load_queries(path: str | Path) -> dict[str, str]:
    """``queries.tsv``: ``query_id, query`` → {query id: query}, in the file's order."""
    return {row[0]: row[1] for row in _tsv_rows(path, 2)}


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """``qrels.tsv``: ``query_id, product_id, grade`` → {query id: {product id: grade}}."""
    out: dict[str, dict[str, int]] = {}
    for qid, pid, grade, *_ in _tsv_rows(path, 3):
        if (value := _int(grade)) is not None:
            out.setdefault(qid, {})[pid] = value
    return out


def load_shown(path: str | Path) -> dict[str, list[str]]:
    """``shown.tsv`` of a logged export: ``query_id, product_id, position`` → ids in shown order."""
    rows: dict[str, list[tuple[int, str]]] = {}
    for qid, pid, position, *_ in _tsv_rows(path, 3):
        if (value := _int(position)) is not None:
            rows.setdefault(qid, []).append((value, pid))
    return {qid: [pid for _, pid in sorted(items)] for qid, items in rows.items()}


def ndcg(ranked: list[str], grades: dict[str, int], k: int) -> float:
    """nDCG@k with the grades as gains (docs/architecture.md §3.2: 0 irrelevant, 1 partial, 2 exact), a
    log2(rank + 1) discount, normalised by the ideal order of the judged products."""
    dcg = sum(grades.get(pid, 0) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = 100) -> float:
    relevant = {p for p, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: list[str], grades: dict[str, int]) -> float:
    for i, pid in enumerate(ranked):
        if grades.get(pid, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


@dataclass
class EvalResult:
    metrics: dict[str, Any]
    per_query: dict[str, list[str]]


def run_queries(recommender: Any, queries: dict[str, str], qrels: dict[str, dict[str, int]],
                k: int = 10, mode: str = "hybrid", depth: int = 100) -> EvalResult:
    from recommender.bm25 import query_vector
    from recommender.query import ConversationState, apply_turn

    store, encoder = recommender.store, recommender.encoder
    for text in list(queries.values())[:3]:  # warm-up (thread pools, caches of the store)
        encoder.encode_query(text + " warmup")
    ndcgs, recalls, rrs, latencies = [], [], [], []
    per_query: dict[str, list[str]] = {}
    for qid, text in queries.items():
        if qid not in qrels:
            continue
        start = time.perf_counter()
        if mode == "hybrid":
            state = ConversationState(user_turns=[text])
            state.constraints = apply_turn(state.constraints, text, [], recommender.vocabulary)
            state.constraints.in_stock_only = False  # judgments are about relevance, not stock
            rec = recommender.rank(state, k=k, relax=True, pool=depth)  # MMR as shipped
            ranked = [s.id for s in rec.suggestions]
            # fill to depth for recall@100 with the unfiltered fused list
            if len(ranked) < depth:
                dense = encoder.encode_query(text)
                more = store.search(dense, query_vector(text), None, depth)
                ranked += [h.product_id for h in more if h.product_id not in set(ranked)]
            hits_ids = ranked[:depth]
        else:
            dense = encoder.encode_query(text) if mode in ("dense", "fusion") else None
            sparse = query_vector(text) if mode in ("keyword", "fusion") else None
            hits_ids = [h.product_id for h in store.search(dense, sparse, None, depth)]
        latencies.append((time.perf_counter() - start) * 1000)
        grades = qrels[qid]
        per_query[qid] = hits_ids
        ndcgs.append(ndcg(hits_ids, grades, k))
        recalls.append(recall(hits_ids, grades, 100))
        rrs.append(reciprocal_rank(hits_ids, grades))
    n = len(ndcgs)
    metrics = {
        f"ndcg@{k}": round(statistics.fmean(ndcgs), 4) if n else 0.0,
        "recall@100": round(statistics.fmean(recalls), 4) if n else 0.0,
        "mrr": round(statistics.fmean(rrs), 4) if n else 0.0,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "queries": n,
        "mode": mode,
        "encoder": getattr(encoder, "name", "?"),
    }
    halves: tuple[list[float], list[float]] = ([], [])
    for i, q in enumerate(qid for qid in queries if qid in per_query):
        halves[i % 2].append(ndcg(per_query[q], qrels[q], k))
    for name, values in zip(("a", "b"), halves, strict=True):
        metrics[f"ndcg@{k}_half_{name}"] = round(statistics.fmean(values), 4) if values else 0.0
    if k != 10:  # the contract always carries ndcg@10
        metrics["ndcg@10"] = round(statistics.fmean(ndcg(per_query[q], qrels[q], 10) for q in per_query), 4) if n else 0.0
    return EvalResult(metrics, per_query)


def rerank_shown(encoder: Any, store: Any, queries: dict[str, str], qrels: dict[str, dict[str, int]],
                 shown: dict[str, list[str]], k: int = 10) -> dict[str, Any]:
    """Judge an encoder on logged impressions: reorder the products each query actually showed by
    the encoder's cosine similarity to the query, then score with the logged grades.

    Logged clicks can only land on products the serving model showed, so retrieving from the
    whole catalog favours that model; reordering the same shown set treats every encoder alike.
    Product vectors come from ``store`` (embedded by this encoder); products no longer in it are
    left out. Queries whose shown set has no graded product (or a single product) say nothing
    and are skipped."""
    ndcgs, rrs = [], []
    for qid, text in queries.items():
        hits = [h for h in store.get(shown.get(qid, []), with_vectors=True) if h.text_vector is not None]
        grades = {h.product_id: g for h in hits if (g := qrels.get(qid, {}).get(h.product_id, 0))}
        if len(hits) < 2 or not grades:  # the ideal counts shown products only
            continue
        query = encoder.encode_query(text)
        ranked = [h.product_id for h in sorted(hits, key=lambda h: -float(h.text_vector @ query))]
        ndcgs.append(ndcg(ranked, grades, k))
        rrs.append(reciprocal_rank(ranked, grades))
    n = len(ndcgs)
    return {f"ndcg@{k}": round(statistics.fmean(ndcgs), 4) if n else None,
            "mrr": round(statistics.fmean(rrs), 4) if n else None, "queries": n}


def evaluate(catalog: str | Path, queries_path: str | Path, qrels_path: str | Path, k: int = 10,
             mode: str = "hybrid", encoder: Any = None, store_kind: str = "edge") -> EvalResult:
    """Build a fresh temporary store from the catalog and run every judged query."""
    return evaluate_modes(catalog, queries_path, qrels_path, (mode,), k, encoder, store_kind)[mode]


def evaluate_modes(catalog: str | Path, queries_path: str | Path, qrels_path: str | Path,
                   modes: tuple[str, ...] = MODES, k: int = 10, encoder: Any = None,
                   store_kind: str = "edge", ablate: bool = False) -> dict[str, EvalResult]:
    """Every mode of ``modes`` on one fresh temporary store built from the catalog; with
    ``ablate``, also the shipped pipeline with each rerank term off in turn (keyed
    ``hybrid, no title`` …, see ``ranking.Weights``)."""
    from recommender.encoder import Encoder
    from recommender.ingest import ingest
    from recommender.ranking import SHIPPED
    from recommender.service import Recommender
    from recommender.store.edge import EdgeStore
    from recommender.store.server import ServerStore

    if unknown := set(modes) - set(MODES):
        raise ValueError(f"modes must be among {MODES}, not {sorted(unknown)}")
    encoder = encoder or Encoder()
    queries, qrels = load_queries(queries_path), load_qrels(qrels_path)
    with tempfile.TemporaryDirectory(prefix="aisle-eval-") as tmp:
        store = EdgeStore(tmp) if store_kind == "edge" else ServerStore.memory()
        try:
            report = ingest(catalog, store, encoder)
            recommender = Recommender(store, encoder)
            results = {mode: run_queries(recommender, queries, qrels, k, mode) for mode in modes}
            for name, weights in (SHIPPED.ablations() if ablate else {}).items():
                recommender.weights = weights
                results[f"hybrid, {name}"] = run_queries(recommender, queries, qrels, k, "hybrid")
                results[f"hybrid, {name}"].metrics["variant"] = name
            recommender.weights = SHIPPED
            for result in results.values():
                result.metrics["products"] = report.added
            return results
        finally:
            store.close()


def check_onnx(catalog: str | Path, queries_path: str | Path, qrels_path: str | Path,
               model_path: str | Path | None = None, settings: Any = None, mode: str = "hybrid",
               store_kind: str = "edge") -> dict[str, Any]:
    """Measure nDCG@10 of ``mode`` with the fp32 (torch) and int8 (ONNX) encoders of one model
    on a judged set, and record the result next to the ONNX export (``quality.json``), where
    the ``auto`` backend reads it. Returns the record."""
    import datetime
    import hashlib

    from common.settings import get_settings
    from recommender.encoder import (
        Encoder,
        choose_backend,
        onnx_location,
        resolve_model_path,
        write_quality_record,
    )

    settings = settings or get_settings()
    model = Path(model_path) if model_path else resolve_model_path(settings)
    results = {}
    for backend in ("torch", "onnx"):
        encoder = Encoder(model_path=model, backend=backend, settings=settings)
        results[backend] = evaluate(catalog, queries_path, qrels_path, k=10, mode=mode,
                                    encoder=encoder, store_kind=store_kind).metrics
    folder, file_name, fingerprint = onnx_location(model, settings)
    fp32, int8 = results["torch"]["ndcg@10"], results["onnx"]["ndcg@10"]
    judged = b"".join(Path(p).read_bytes() for p in (queries_path, qrels_path))
    record = {
        "model_path": str(model),
        "model_fingerprint": fingerprint,
        "onnx_file": file_name,
        "mode": mode,
        "queries": results["torch"]["queries"],
        "eval_sha256": hashlib.sha256(judged).hexdigest()[:16],
        "catalog": str(catalog),
        "ndcg@10_fp32": fp32,
        "ndcg@10_int8": int8,
        "delta": round(int8 - fp32, 4),
        "p50_ms_fp32": results["torch"]["p50_ms"],
        "p50_ms_int8": results["onnx"]["p50_ms"],
        "max_delta": settings.onnx_max_ndcg_delta,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    choice = choose_backend("auto", record, fingerprint, file_name,
                            settings.onnx_max_ndcg_delta, settings.onnx_min_queries)
    record["auto_backend"], record["reason"] = choice.backend, choice.reason
    record["path"] = str(write_quality_record(folder, record))
    return record
