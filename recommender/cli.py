"""``python -m recommender {ingest,update,search,eval,check-onnx,bench,finetune}`` (docs/architecture.md §3.3)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.money import format_money
from common.settings import settings_or_exit

FILTER_KEYS = {
    "color": "colors", "colors": "colors", "colour": "colors", "brand": "brands", "brands": "brands",
    "material": "materials", "materials": "materials", "size": "sizes", "sizes": "sizes",
    "not_color": "exclude_colors", "exclude_colors": "exclude_colors",
    "not_brand": "exclude_brands", "exclude_brands": "exclude_brands",
    "not_material": "exclude_materials", "exclude_materials": "exclude_materials",
    "product_type": "product_type", "type": "product_type", "category": "category",
    "gender": "gender", "price_min": "price_min", "min_price": "price_min",
    "price_max": "price_max", "max_price": "price_max", "min_rating": "min_rating",
    "rating": "min_rating", "in_stock": "in_stock_only", "in_stock_only": "in_stock_only",
}


def _cmd_ingest(args: argparse.Namespace) -> int:
    from common.settings import get_settings
    from recommender.active import pointer_in_use, publish
    from recommender.encoder import get_encoder, resolve_model_path
    from recommender.image import get_image_encoder
    from recommender.ingest import Progress, ingest
    from recommender.store import open_store
    from recommender.store.base import StoreInUse

    settings = get_settings()
    options = {"progress": Progress(sys.stderr, every=args.progress_every),
               "workers": args.workers, "threads": args.threads, "batch_size": args.batch_size}
    if pointer_in_use(settings):
        # blue/green (recommender/active.py): never write a store that is being served; publish
        # the newest model with this catalog into a new store and switch the pointer
        try:
            published, report = publish(resolve_model_path(settings), settings, args.catalog, **options)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"published {published.model.name} into {published.store}", file=sys.stderr)
    else:
        try:
            store = open_store()
        except StoreInUse as exc:
            print(f"error: {exc}; stop it first, or publish (docs/architecture.md §2.5)", file=sys.stderr)
            return 2
        try:
            report = ingest(args.catalog, store, get_encoder(),
                            image_encoder=get_image_encoder(settings),
                            image_dir=settings.image_dir or None, **options)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            store.close()
    for error in report.errors:
        print(f"skipped {error}", file=sys.stderr)
    print(json.dumps(report.to_dict()) if args.json else report.summary())
    return 0


def _cmd_update(args: argparse.Namespace) -> int:
    from recommender.active import PointerError, update_served

    try:
        report, published = update_served(args.feed)
    except (FileNotFoundError, ValueError, PointerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if published is not None:
        print(f"published {published.model.name} into {published.store}", file=sys.stderr)
    for error in report.skipped:
        print(f"skipped {error}", file=sys.stderr)
    print(json.dumps(report.to_dict()) if args.json else report.summary())
    return 0


def parse_filters(pairs: list[str], vocab) -> dict:
    """KEY=VALUE pairs → Constraints fields; values are matched to the catalog's spelling."""
    out: dict = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--filter takes KEY=VALUE, got {pair!r}")
        key, value = (s.strip() for s in pair.split("=", 1))
        field = FILTER_KEYS.get(key.lower())
        if field is None:
            raise ValueError(f"unknown filter key {key!r}; known: {', '.join(sorted(FILTER_KEYS))}")
        if field in ("price_min", "price_max", "min_rating"):
            out[field] = float(value)
        elif field == "in_stock_only":
            out[field] = value.lower() in ("1", "true", "yes")
        elif field in ("product_type", "category", "gender"):
            kind = {"gender": "gender"}.get(field, "product_type")
            out[field] = vocab.canonical(kind, value) or value
        else:
            kind = {"colors": "color", "exclude_colors": "color", "brands": "brand",
                    "exclude_brands": "brand", "materials": "material",
                    "exclude_materials": "material", "sizes": "size"}[field]
            values = [vocab.canonical(kind, v) or v for v in value.split(",") if v.strip()]
            out.setdefault(field, []).extend(values)
    return out


def _cmd_search(args: argparse.Namespace) -> int:
    from recommender.query import Constraints, ConversationState, apply_turn
    from recommender.service import Recommender

    rec = Recommender.from_settings()
    try:
        if rec.store.count() == 0:
            print("error: the store is empty; run `python -m recommender ingest CATALOG` first",
                  file=sys.stderr)
            return 2
        constraints = apply_turn(Constraints(), args.text, [], rec.vocabulary)
        try:
            explicit = parse_filters(args.filter or [], rec.vocabulary)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        data = constraints.to_dict()
        data.update(explicit)
        state = ConversationState(constraints=Constraints.from_dict(data), user_turns=[args.text])
        try:
            result = rec.recommend(state, k=args.k, image=args.image)
        except ValueError as exc:  # no image model, or an unreadable image
            print(f"error: {exc}", file=sys.stderr)
            return 2
    finally:
        rec.store.close()
    if args.json:
        payload = result.to_payload()
        payload["timings_ms"] = result.timings
        payload["constraints"] = {k: v for k, v in state.constraints.to_dict().items() if v not in (None, [])}
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    if result.relaxed:
        print("relaxed: " + "; ".join(result.relaxed))
    for i, s in enumerate(result.suggestions, 1):
        price = format_money(s.price, s.currency) if s.price is not None else "-"
        print(f"{i}. [{s.id}] {s.title} — {price}\n   {s.explanation}")
    if not result.suggestions:
        print("no products found")
    print("timings ms: " + ", ".join(f"{k}={v:.1f}" for k, v in result.timings.items()))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from recommender.encoder import Encoder
    from recommender.evaluate import MODES, evaluate_modes

    encoder = Encoder(model_path=args.encoder, backend=args.backend) if (args.encoder or args.backend) else None
    modes = MODES if args.mode == "all" else (args.mode,)
    results = evaluate_modes(args.catalog, args.queries, args.qrels, modes, k=args.k,
                             encoder=encoder, store_kind=args.store, ablate=args.ablate)
    for mode in results:
        m = results[mode].metrics
        if not args.json:
            print(f"mode={m['mode']} encoder={m['encoder']} queries={m['queries']} products={m.get('products')}")
        print(f"{mode:8} nDCG@{args.k}={m[f'ndcg@{args.k}']:.4f} recall@100={m['recall@100']:.4f} "
              f"MRR={m['mrr']:.4f} p50={m['p50_ms']:.1f}ms p95={m['p95_ms']:.1f}ms",
              file=sys.stderr if args.json else sys.stdout)
    if args.json:  # one mode: its metrics; all: {"modes": {mode: metrics}}
        single = results[modes[0]].metrics
        print(json.dumps(single if len(results) == 1 else {"modes": {m: r.metrics for m, r in results.items()}}))
    return 0


def _cmd_check_onnx(args: argparse.Namespace) -> int:
    from recommender.evaluate import check_onnx

    record = check_onnx(args.catalog, args.queries, args.qrels, model_path=args.encoder,
                        mode=args.mode, store_kind=args.store)
    if not args.json:
        print(f"nDCG@10 fp32={record['ndcg@10_fp32']:.4f} int8={record['ndcg@10_int8']:.4f} "
              f"delta={record['delta']:+.4f} on {record['queries']} queries → auto uses "
              f"{record['auto_backend']} ({record['reason']}); recorded in {record['path']}")
    else:
        print(json.dumps(record))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from recommender import bench

    return bench.run(args)


def _cmd_finetune(args: argparse.Namespace) -> int:
    from recommender import finetune

    result = finetune.run(args)
    if result is not None:
        print(f"model written to {result}")
    return 0


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recommender", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="load a catalog into the configured store (incremental), "
                                      "or publish it with the newest model once a pointer exists")
    p.add_argument("catalog", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument("--workers", type=int, default=None,
                   help="encoder processes (default: one per core, at most 4; 0: this process)")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads per encoder process")
    p.add_argument("--batch-size", type=int, default=256, help="products per stored batch")
    p.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                   help="seconds between progress lines when stderr is not a terminal")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("update", help="apply a price or stock feed (JSON Lines: id plus the "
                                      "changed fields) as payload updates, without re-embedding")
    p.add_argument("feed", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_update)

    p = sub.add_parser("search", help="what the bot would show for a message")
    p.add_argument("text")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE",
                   help="extra constraint, e.g. color=red, price_max=50, not_brand=Nike")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--image", type=Path, help="a PNG/JPEG to search by (needs AISLE_IMAGE_MODEL)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("eval", help="nDCG/recall/MRR/latency on a judged query set")
    p.add_argument("--catalog", required=True, type=Path)
    p.add_argument("--queries", required=True, type=Path)
    p.add_argument("--qrels", required=True, type=Path)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--mode", choices=("hybrid", "fusion", "dense", "keyword", "all"), default="hybrid",
                   help="hybrid is the shipped pipeline; all: every mode on one store, side by side")
    p.add_argument("--encoder", help="model folder (default: as configured)")
    p.add_argument("--backend", choices=("torch", "onnx", "auto"), help="encoder backend")
    p.add_argument("--store", choices=("edge", "memory"), default="edge")
    p.add_argument("--ablate", action="store_true",
                   help="also the shipped pipeline with each rerank term (ranking.Weights) off in turn")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("check-onnx", help="nDCG@10 of fp32 vs ONNX int8 on a judged set; records "
                                          "it for AISLE_ENCODER_BACKEND=auto")
    p.add_argument("--catalog", type=Path, default=Path("data/catalog/products.jsonl"))
    p.add_argument("--queries", type=Path, default=Path("data/eval/queries.tsv"))
    p.add_argument("--qrels", type=Path, default=Path("data/eval/qrels.tsv"))
    p.add_argument("--mode", choices=("hybrid", "fusion", "dense"), default="hybrid")
    p.add_argument("--encoder", help="model folder (default: as configured)")
    p.add_argument("--store", choices=("edge", "memory"), default="edge")
    p.add_argument("--json", action="store_true", help="print the record as one JSON line")
    p.set_defaults(func=_cmd_check_onnx)

    p = sub.add_parser("bench", help="latency, throughput and memory benchmark")
    from recommender.bench import add_arguments as bench_arguments

    bench_arguments(p)
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("finetune", help="fine-tune the encoder (see recommender/finetune.py)")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["finetune"]:  # H1's module (and torch training imports) only when asked
        from recommender import finetune

        finetune.add_arguments(p)
    p.set_defaults(func=_cmd_finetune)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    settings_or_exit()
    return int(args.func(args) or 0)
