"""``python -m recommender bench``: encoding, retrieval, ingestion and memory figures.

Scale-up: the base catalog (demo shop, or --catalog) is encoded once; larger collections
are made of perturbed copies (vector + small Gaussian noise, re-normalised; price ±20%;
new ids), so 100,000 products need no 100,000 encodings. Retrieval is timed for Qdrant Edge,
a numpy brute-force scan and qdrant-client's local mode on the same vectors and filters.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common.percentiles import p50_p95

QUERIES = [
    "waterproof hiking boots", "red summer dress", "noise cancelling headphones",
    "running shoes for women", "warm winter jacket", "cotton t-shirt", "leather wallet",
    "camping tent for two", "coffee maker", "wireless earbuds for running", "wool sweater",
    "kids sneakers", "yoga mat", "rain jacket with hood", "bluetooth speaker waterproof",
    "stainless steel water bottle", "linen bedding", "denim jeans slim fit", "backpack 30l",
    "desk lamp", "silk scarf", "sunglasses polarized", "trail running shoes", "down vest",
]


def _index_candidates() -> list:
    from recommender.store.base import IndexOptions

    return [IndexOptions(16, 64), IndexOptions(8, 100), IndexOptions(16, 100, "int8")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", type=Path, default=None, help="base catalog (default: settings)")
    p.add_argument("--scales", default="10000,100000", help="collection sizes, comma-separated")
    p.add_argument("--queries", type=int, default=200, help="timed queries per measurement")
    p.add_argument("--local-queries", type=int, default=10,
                   help="timed queries for qdrant-client local mode (slow at scale)")
    p.add_argument("--skip-local", action="store_true", help="skip qdrant-client local mode")
    p.add_argument("--skip-onnx", action="store_true", help="skip the ONNX int8 encoder")
    p.add_argument("--base-limit", type=int, default=2000, help="max base products to encode")
    p.add_argument("--ingest-scale", type=int, default=100_000,
                   help="products of a generated catalog to ingest end to end, encoding included "
                        "(0: skip; the budget is for 100,000, and smaller runs extrapolate "
                        "optimistically: a 20,000 run predicted 397 s where 100,000 took 489 s)")
    p.add_argument("--workers", type=int, default=None,
                   help="encoder processes for the ingest figures (default: as ingest; 0: in-process)")
    p.add_argument("--threads", type=int, default=None, help="intra-op threads per encoder process")
    p.add_argument("--index-options", action="store_true",
                   help="also store and index the ingest's vectors with other HNSW and quantization "
                        "options (_index_candidates), each with its time and recall@10")
    p.add_argument("--update-feed", type=int, default=10_000,
                   help="price and stock updates applied to the ingested store while it is served (0: skip)")
    p.add_argument("--json", action="store_true", help="also print one JSON object at the end")


def _timed(fn, n: int, warmup: int = 0) -> tuple[float, float]:
    """p50/p95 of ``n`` calls, after ``warmup`` untimed calls with the same arguments (a
    serving process is warm after its first requests; the cold first query is reported
    separately)."""
    for i in range(warmup):
        fn(i)
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return p50_p95(times)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _line(label: str, p50: float, p95: float, note: str = "") -> str:
    return f"  {label:<44} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms {note}"


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the encoder workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_ingest(scale: int, encoder, workers: int | None = None, threads: int | None = None,
                 recall_queries: list[str] | None = None, index_options: bool = False,
                 update_feed: int = 0) -> dict:
    """``python -m recommender ingest`` end to end on a generated catalog of ``scale`` distinct
    products (load, encode, keyword vectors, store, index), against its two parts measured on
    the same catalog in the same run: encoding alone (the same worker processes) and storing and
    indexing the vectors that gave (Qdrant Edge upsert, then the index build); with
    ``index_options``, the same for each of _index_candidates(). With ``update_feed``, a feed of that
    many price and stock updates is then applied while the ingested store is served. The ratio of the
    pipeline to the sum of the parts is what the overlap of encoding and storing buys (≤ 1.15 is
    the target of issue #19; below 1 the storing hid behind the encoding). Also: recall@10 of
    the indexed store against exact search (numpy) on those vectors, unfiltered and filtered."""
    import subprocess

    from recommender.bm25 import document_vector
    from recommender.catalog import embedding_text, keyword_text, load_catalog
    from recommender.encoder import EncodePool
    from recommender.ingest import BATCH_SIZE, WORKER_THREADS, WORKERS, ingest, product_payload
    from recommender.store.edge import EdgeStore

    workers = WORKERS if workers is None else workers
    threads = threads or WORKER_THREADS
    root = Path(__file__).resolve().parent.parent
    out: dict = {"products": scale, "backend": encoder.backend, "workers": workers, "threads": threads,
                 "batch": BATCH_SIZE}
    with tempfile.TemporaryDirectory(prefix="aisle-ingest-") as tmp:
        catalog = Path(tmp) / "catalog.jsonl"
        subprocess.run([sys.executable, str(root / "tools/generate_catalog.py"), "--scale",
                        str(scale), "--out", str(catalog), "--no-validate"], check=True,
                       capture_output=True)
        print(f"\ningest of a generated {scale:,}-product catalog ({encoder.backend}, {workers} encoder "
              f"process(es) × {threads} thread(s), batches of {BATCH_SIZE}; CPU-seconds include the "
              f"workers)")
        # the parts -----------------------------------------------------------------------
        t, c = time.perf_counter(), _cpu_seconds()
        products = load_catalog(catalog).products
        keywords = [keyword_text(p) for p in products]
        sparse = [document_vector(k) for k in keywords]
        payloads = [product_payload(p, encoder.model_id) for p in products]
        texts = [embedding_text(p) for p in products]
        out["prepare_s"] = round(time.perf_counter() - t, 1)
        print(f"  load, keyword vectors, payloads: {out['prepare_s']:.1f} s")

        t, c = time.perf_counter(), _cpu_seconds()
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # as ingest does
        vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        if workers > 0:
            with EncodePool(encoder, workers=workers, threads=threads) as pool:
                chunks = [order[i : i + BATCH_SIZE] for i in range(0, len(order), BATCH_SIZE)]
                for chunk, vecs in zip(chunks, pool.map([texts[i] for i in ch] for ch in chunks), strict=True):
                    vectors[chunk] = vecs
        else:
            vectors[order] = encoder.encode_documents([texts[i] for i in order])
        out["encode_s"], out["encode_cpu_s"] = round(time.perf_counter() - t, 1), round(_cpu_seconds() - c, 1)
        print(f"  encoding alone: {out['encode_s']:.1f} s = {scale / out['encode_s']:,.0f} products/s "
              f"({out['encode_cpu_s']:.0f} CPU-s)")

        t, c = time.perf_counter(), _cpu_seconds()
        index = EdgeStore(Path(tmp) / "index-only")
        _store_vectors(index, products, vectors, sparse, payloads)
        upserted = time.perf_counter()
        index.flush()
        out["upsert_s"] = round(upserted - t, 1)
        out["index_build_s"] = round(time.perf_counter() - upserted, 1)
        out["index_s"], out["index_cpu_s"] = round(time.perf_counter() - t, 1), round(_cpu_seconds() - c, 1)
        print(f"  storing and indexing those vectors alone: {out['index_s']:.1f} s ({out['upsert_s']:.1f} s "
              f"upsert + {out['index_build_s']:.1f} s index build; {out['index_cpu_s']:.0f} CPU-s)")
        if recall_queries:
            out.update(_recall(index, vectors, products, encoder, recall_queries))
            print(f"  recall@10 against exact search: {out['recall@10']:.3f} unfiltered, "
                  f"{out['recall@10_filtered']:.3f} filtered (colour + price + stock; "
                  f"{out['recall_queries']} queries)")
        index.close()
        if index_options:
            out["index_options"] = [
                _index_option(Path(tmp) / f"option-{n}", option, products, vectors, sparse, payloads,
                              encoder, recall_queries or QUERIES)
                for n, option in enumerate(_index_candidates())]
        del vectors, sparse, payloads

        # the pipeline ----------------------------------------------------------------------
        t, c = time.perf_counter(), _cpu_seconds()
        store = EdgeStore(Path(tmp) / "store")
        try:
            report = ingest(catalog, store, encoder, workers=workers, threads=threads)
        finally:
            store.close()
        seconds, cpu = time.perf_counter() - t, _cpu_seconds() - c
        floor = out["encode_s"] + out["index_s"]
        out.update({"seconds": round(seconds, 1), "cpu_s": round(cpu, 1), "per_s": round(report.added / seconds, 1),
                    "ingest_index_build_s": round(report.index_seconds, 1), "floor_s": round(floor, 1),
                    "ratio": round(seconds / floor, 3), "added": report.added})
        rate = report.added / seconds
        at_100k = 100_000 / rate
        verdict = "within" if at_100k <= 300 else "over"
        measured = "measured" if report.added >= 100_000 else "extrapolated at this rate"
        print(f"  ingest end to end: {seconds:.0f} s = {rate:,.0f} products/s ({cpu:.0f} CPU-s; index build "
              f"{report.index_seconds:.0f} s of it); {seconds / floor:.2f}× encoding alone + storing and "
              f"indexing alone ({floor:.0f} s)")
        print(f"  100,000: {at_100k:.0f} s {measured}, {verdict} the 5-minute budget")
        if update_feed > 0:
            from recommender.bench_update import bench_update

            out["update"] = bench_update(Path(tmp) / "store", Path(tmp) / "var", products,
                                         recall_queries or QUERIES, update_feed)
    return out


def _store_vectors(store, products, vectors, sparse, payloads) -> None:
    """Upsert given vectors in ingest's batches (no encoding): the storing part of an ingest."""
    from recommender.ingest import BATCH_SIZE
    from recommender.store.base import StorePoint

    for start in range(0, len(products), BATCH_SIZE):
        store.upsert([StorePoint(products[i].id, vectors[i], sparse[i], payloads[i])
                      for i in range(start, min(len(products), start + BATCH_SIZE))])


def _index_option(path: Path, option, products, vectors, sparse, payloads, encoder, queries) -> dict:
    """Storing and indexing the same vectors with other dense-index options, and their recall."""
    import shutil

    from recommender.store.edge import EdgeStore

    t = time.perf_counter()
    store = EdgeStore(path, index=option)
    _store_vectors(store, products, vectors, sparse, payloads)
    store.flush()
    out = {"m": option.hnsw_m, "ef_construct": option.hnsw_ef_construct, "quantization": option.quantization,
           "index_s": round(time.perf_counter() - t, 1)}
    out.update(_recall(store, vectors, products, encoder, queries))
    qvecs = encoder.encode_documents(QUERIES)
    out["search_p50_ms"] = round(_timed(lambda i: store.search(qvecs[i % len(qvecs)], None, None, 10), 200, 20)[0], 2)
    store.close()
    shutil.rmtree(path, ignore_errors=True)
    print(f"  m {option.hnsw_m}, ef_construct {option.hnsw_ef_construct}, quantization {option.quantization}: "
          f"storing and indexing {out['index_s']:.1f} s, recall@10 {out['recall@10']:.3f} unfiltered, "
          f"{out['recall@10_filtered']:.3f} filtered, search p50 {out['search_p50_ms']:.2f} ms")
    return out


def _recall(store, vectors, products, encoder, queries) -> dict:
    """recall@10 of the store's (HNSW) search against exact search over ``vectors``."""
    from recommender.store.base import IN_STOCK_FLAG, AnyOf, Equals, FilterSpec, Range

    ids = np.array([p.id for p in products])
    colors = sorted({c for p in products for c in p.colors}) or ["black"]
    prices = np.array([p.price if p.price is not None else np.inf for p in products])
    cap = float(np.median(prices[np.isfinite(prices)])) if np.isfinite(prices).any() else 50.0
    stock = np.array([p.in_stock for p in products])
    by_color = {c: np.zeros(len(products), dtype=bool) for c in colors}
    for n, p in enumerate(products):
        for c in p.colors:
            by_color[c][n] = True
    qvecs = encoder.encode_documents(queries)
    unfiltered, filtered = [], []
    for i, q in enumerate(qvecs):
        scores = vectors @ q
        exact = set(ids[np.argsort(-scores)[:10]])
        unfiltered.append(len(exact & {h.product_id for h in store.search(q, None, None, 10)}) / 10)
        color = colors[i % len(colors)]
        mask = by_color[color] & (prices <= cap) & stock
        if mask.any():
            masked = np.where(mask, scores, -np.inf)
            top = [j for j in np.argsort(-masked)[:10] if np.isfinite(masked[j])]
            spec = FilterSpec(must=[AnyOf("colors", (color,)), Range("price", lte=cap),
                                    Equals(IN_STOCK_FLAG, 1)])
            found = {h.product_id for h in store.search(q, None, spec, 10)}
            filtered.append(len(set(ids[top]) & found) / len(top))
    return {"recall@10": round(float(np.mean(unfiltered)), 4),
            "recall@10_filtered": round(float(np.mean(filtered)), 4), "recall_queries": len(qvecs)}


def run(args: argparse.Namespace) -> int:
    from common.settings import get_settings
    from recommender.bm25 import document_vector, query_vector
    from recommender.catalog import embedding_text, keyword_text, load_catalog
    from recommender.encoder import Encoder
    from recommender.ingest import product_payload
    from recommender.store.base import IN_STOCK_FLAG, AnyOf, Equals, FilterSpec, Range, StorePoint
    from recommender.store.edge import EdgeStore

    results: dict = {"cores": os.cpu_count()}
    print(f"cores: {os.cpu_count()}  python {sys.version.split()[0]}")
    catalog = args.catalog or get_settings().catalog_path
    if not Path(catalog).exists():
        fixture = Path(__file__).resolve().parent.parent / "tests/recommender/fixtures/catalog.jsonl"
        print(f"{catalog} not found; using {fixture}")
        catalog = fixture
    products = load_catalog(catalog).products[: args.base_limit]
    texts = [embedding_text(p) for p in products]
    print(f"base catalog: {len(products)} products from {catalog}")

    # 1. encoding -----------------------------------------------------------------------------
    print("\nquery encoding (one query at a time, cache bypassed)")
    encoders = {"torch fp32": Encoder(backend="torch", cache_size=0)}
    if not args.skip_onnx:
        encoders["onnx int8"] = Encoder(backend="onnx", cache_size=0)
    n_enc = min(args.queries, 200)
    for name, enc in encoders.items():
        enc.encode_documents(QUERIES[:4])
        p50, p95 = _timed(lambda i, enc=enc: enc.encode_documents([f"{QUERIES[i % len(QUERIES)]} {i}"]), n_enc)
        results[f"encode_{name}"] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
        print(_line(name, p50, p95))
    doc_encoder = encoders.get("onnx int8", encoders["torch fp32"])
    t = time.perf_counter()
    base_vectors = doc_encoder.encode_documents(texts)
    enc_seconds = time.perf_counter() - t
    docs_per_s = len(texts) / enc_seconds
    results["document_encoding_per_s"] = round(docs_per_s, 1)
    print(f"  document encoding ({doc_encoder.backend}, batch 32): {docs_per_s:,.0f} products/s")
    query_encoder = doc_encoder
    qvecs = [query_encoder.encode_query(q) for q in QUERIES]

    keyword_texts = [keyword_text(p) for p in products]
    base_sparse = [document_vector(tx) for tx in keyword_texts]
    base_payloads = [product_payload(p) for p in products]
    qsparse = [query_vector(q) for q in QUERIES]
    colors = sorted({c for p in products for c in p.colors}) or ["black"]
    prices = [p.price for p in products if p.price is not None] or [50.0]
    median_price = statistics.median(prices)

    def filter_for(i: int) -> tuple[FilterSpec, str, float]:
        color = colors[i % len(colors)]
        cap = median_price
        return FilterSpec(must=[AnyOf("colors", (color,)), Range("price", lte=cap),
                                Equals(IN_STOCK_FLAG, 1)]), color, cap

    # 2. retrieval at scale ---------------------------------------------------------------------
    rng = np.random.default_rng(7)
    pyrng = random.Random(7)
    def bench_scale(scale: int) -> None:
        print(f"\n{scale:,} products (perturbed copies of the base catalog, noise σ=0.02)")
        reps = int(np.ceil(scale / len(products)))
        idx = np.tile(np.arange(len(products)), reps)[:scale]
        vectors = base_vectors[idx] + rng.normal(0, 0.02, size=(scale, base_vectors.shape[1])).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        payloads = []
        for n, j in enumerate(idx):
            p = dict(base_payloads[j])
            p["id"] = f"{p['id']}-{n}"
            if p.get("price") is not None:
                p["price"] = round(p["price"] * pyrng.uniform(0.8, 1.2), 2)
            payloads.append(p)
        price_arr = np.array([p.get("price") if p.get("price") is not None else np.inf for p in payloads])
        stock_arr = np.array([bool(p.get("in_stock", True)) for p in payloads])
        color_sets = [set(p.get("colors") or []) for p in payloads]
        color_masks = {c: np.array([c in s for s in color_sets]) for c in colors}

        with tempfile.TemporaryDirectory(prefix="aisle-bench-") as tmp:
            store = EdgeStore(tmp)
            t = time.perf_counter()
            for start in range(0, scale, 1000):
                store.upsert([StorePoint(payloads[n]["id"], vectors[n], base_sparse[idx[n]], payloads[n])
                              for n in range(start, min(scale, start + 1000))])
            t_upsert = time.perf_counter() - t
            store.flush()  # optimise: builds HNSW and payload indexes
            t_total = time.perf_counter() - t
            rate = scale / t_total
            print(f"  Qdrant Edge ingest (vectors given): {t_total:.1f} s ({t_upsert:.1f} s upsert + "
                  f"{t_total - t_upsert:.1f} s index) = {rate:,.0f} products/s; with encoding at "
                  f"{docs_per_s:,.0f}/s, {scale:,} products ≈ {scale / docs_per_s + t_total:.0f} s")
            res = {"ingest_s_vectors_given": round(t_total, 1),
                   "ingest_with_encoding_est_s": round(scale / docs_per_s + t_total, 1)}
            nq, warm = args.queries, len(colors)  # warm-up: one filtered query per colour
            t = time.perf_counter()
            store.search(qvecs[0], None, filter_for(0)[0], 10)
            res["edge_first_query_ms"] = round((time.perf_counter() - t) * 1000, 2)
            print(f"  first filtered query after ingest (cold): {res['edge_first_query_ms']:.2f} ms")
            p50, p95 = _timed(lambda i: store.search(qvecs[i % len(qvecs)], None, None, 10), nq, warm)
            res["edge_unfiltered"] = (round(p50, 3), round(p95, 3))
            print(_line("Qdrant Edge dense, unfiltered", p50, p95))
            p50, p95 = _timed(lambda i: store.search(qvecs[i % len(qvecs)], None, filter_for(i)[0], 10), nq, warm)
            res["edge_filtered"] = (round(p50, 3), round(p95, 3))
            print(_line("Qdrant Edge dense, filtered (colour+price+stock)", p50, p95))
            p50, p95 = _timed(lambda i: store.search(qvecs[i % len(qvecs)], qsparse[i % len(qsparse)],
                                                    filter_for(i)[0], 10), nq, warm)
            res["edge_hybrid_filtered"] = (round(p50, 3), round(p95, 3))
            print(_line("Qdrant Edge hybrid RRF, filtered", p50, p95))
            store.close()

        def brute(i: int, filtered: bool) -> None:
            scores = vectors @ qvecs[i % len(qvecs)]
            if filtered:
                _, color, cap = filter_for(i)
                mask = color_masks[color] & (price_arr <= cap) & stock_arr
                scores = np.where(mask, scores, -np.inf)
            top = np.argpartition(-scores, 10)[:10]
            top[np.argsort(-scores[top])]

        p50, p95 = _timed(lambda i: brute(i, False), nq)
        res["numpy_unfiltered"] = (round(p50, 3), round(p95, 3))
        print(_line("numpy brute force, unfiltered", p50, p95))
        p50, p95 = _timed(lambda i: brute(i, True), nq)
        res["numpy_filtered"] = (round(p50, 3), round(p95, 3))
        print(_line("numpy brute force, filtered", p50, p95))

        if not args.skip_local:
            from recommender.store.server import ServerStore

            local = ServerStore.memory(collection=f"bench{scale}")
            t = time.perf_counter()
            for start in range(0, scale, 2000):
                local.upsert([StorePoint(payloads[n]["id"], vectors[n], base_sparse[idx[n]], payloads[n])
                              for n in range(start, min(scale, start + 2000))])
            print(f"  qdrant-client local mode load: {time.perf_counter() - t:.1f} s")
            nl = args.local_queries
            p50, p95 = _timed(lambda i: local.search(qvecs[i % len(qvecs)], None, None, 10), nl)
            res["local_unfiltered"] = (round(p50, 3), round(p95, 3))
            print(_line(f"qdrant-client local, unfiltered ({nl} q)", p50, p95))
            p50, p95 = _timed(lambda i: local.search(qvecs[i % len(qvecs)], None, filter_for(i)[0], 10), nl)
            res["local_filtered"] = (round(p50, 3), round(p95, 3))
            print(_line(f"qdrant-client local, filtered ({nl} q)", p50, p95))
            local.close()
            del local
        results[str(scale)] = res
        print(f"  peak RSS so far: {_peak_rss_mb():,.0f} MB")

    for scale in [int(s) for s in args.scales.split(",") if s.strip()]:
        bench_scale(scale)
    if args.ingest_scale > 0:
        titles = [p.title for p in random.Random(3).sample(products, min(176, len(products)))]
        results["ingest"] = bench_ingest(args.ingest_scale, doc_encoder, args.workers, args.threads,
                                         QUERIES + titles, args.index_options, args.update_feed)
    results["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    print(f"\npeak RSS: {results['peak_rss_mb']:,.0f} MB")
    if args.json:
        import json

        print(json.dumps(results))
    return 0
