"""Evaluate encoders on the same judged query sets: one fresh temporary store per encoder,
every set run through the shipped pipeline (``recommender.evaluate.run_queries``)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommender.evaluate import load_qrels, load_queries, load_shown, rerank_shown, run_queries


@dataclass(frozen=True)
class JudgedSet:
    name: str
    queries: Path
    qrels: Path
    shown: Path | None = None  # logged impressions: also judge reordering them (``<name>_shown/…``)

    def load(self) -> tuple[dict[str, str], dict[str, dict[str, int]]] | None:
        """Queries and qrels, or None when the set is missing or has no judgment."""
        if not (self.queries.exists() and self.qrels.exists()):
            return None
        qrels = load_qrels(self.qrels)
        return (load_queries(self.queries), qrels) if qrels else None


def evaluate_encoder(model_path: Path | str, catalog: Path, sets: list[JudgedSet], mode: str = "hybrid",
                     k: int = 10) -> dict[str, Any]:
    """``{"<set>/ndcg@10": …, "<set>/recall@100": …, "<set>/mrr": …, "<set>/queries": n, "seconds": …}``,
    plus ``<set>_shown/ndcg@10|mrr|queries`` for a set with logged impressions."""
    from recommender.encoder import Encoder
    from recommender.ingest import ingest
    from recommender.service import Recommender
    from recommender.store.edge import EdgeStore

    started = time.perf_counter()
    encoder = Encoder(model_path=model_path, backend="torch", cache_size=0)
    metrics: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aisle-gate-") as tmp:
        store = EdgeStore(tmp)
        try:
            ingest(catalog, store, encoder)
            recommender = Recommender(store, encoder)
            for judged in sets:
                loaded = judged.load()
                if loaded is None:
                    continue
                queries, qrels = loaded
                result = run_queries(recommender, queries, qrels, k=k, mode=mode)
                for key in (f"ndcg@{k}", "recall@100", "mrr", "queries"):
                    metrics[f"{judged.name}/{key}"] = result.metrics[key]
                if judged.shown is not None and judged.shown.exists():
                    shown = rerank_shown(encoder, store, queries, qrels, load_shown(judged.shown), k)
                    for key, value in shown.items():
                        metrics[f"{judged.name}_shown/{key}"] = value
        finally:
            store.close()
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    return metrics
