"""``python -m learning …`` — the retraining pipeline's command line.

    export   [--since 7d] [--until …] [--tracker-url URL | --tracker-db URL] [--out DIR]
    review   list [--export DIR] | apply --id ID --intent NAME [--entities JSON] [--reviewer NAME] | build
    retrain  [--export DIR|latest] [--candidate-encoder DIR] [--rasa|--no-rasa] [--dry-run] …  (make retrain)
    rollback [--model encoder|rasa|both]                   (make rollback: the encoder)
    status   the active encoder, the published pair, the promoted folders, the Rasa model and
             its kept predecessors, the newest export
    rasa-data  `rasa train --data` paths: data/ with the reviewed examples minus the held-out ones

Promotion (in ``retrain``) and ``rollback`` publish the model that becomes active into a new store
and switch the pointer a running action server follows (``recommender/active.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from common.settings import settings_or_exit


def _export(args: argparse.Namespace) -> int:
    from learning.retrain import run_export

    folder = run_export(args)
    print(json.dumps({"export": str(folder), **json.loads((folder / "manifest.json").read_text())}))
    return 0


def _review(args: argparse.Namespace) -> int:
    from learning.review import ReviewError, ReviewQueue

    queue = ReviewQueue.from_settings(export=args.export)
    try:
        if args.review_command == "list":
            for item in queue.pending():
                print(json.dumps(item, ensure_ascii=False))
        elif args.review_command == "apply":
            entities = json.loads(args.entities) if args.entities else None
            record = queue.review(args.id, args.intent, entities, reviewer=args.reviewer,
                                  decision="skip" if args.skip else None)
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(json.dumps({"written": str(queue.build_yaml())}))
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _retrain(args: argparse.Namespace) -> int:
    from learning.retrain import retrain

    result = retrain(args)
    print(json.dumps(result))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from learning.promotion import rasa_model_path, rollback_encoder, rollback_rasa_model

    if args.model in ("encoder", "both"):
        retired, active = rollback_encoder()
        print(json.dumps({"retired": str(retired) if retired else None, "active": str(active)}))
        if retired is None:
            print("nothing to roll back: no promoted encoder (the base model is active)", file=sys.stderr)
    if args.model in ("rasa", "both"):
        from learning.rasa_round import reload_server

        retired, restored = rollback_rasa_model()
        active = rasa_model_path()
        reload = reload_server(active) if restored and args.reload else None
        print(json.dumps({"rasa_retired": str(retired) if retired else None,
                          "rasa_restored": restored.name if restored else None,
                          "rasa_active": str(active), "rasa_reload": reload}))
        if restored is None:
            print(f"nothing to roll back: no previous Rasa model next to {active}", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    from common.settings import get_settings
    from learning.export import latest_export
    from learning.promotion import (
        active_encoder,
        encoder_folders,
        rasa_history,
        rasa_model_path,
    )
    from learning.rasa_round import model_trained_at
    from recommender.active import PointerError, read_pointer

    settings = get_settings()
    rasa = rasa_model_path()
    trained = model_trained_at(rasa) if rasa.exists() else None
    try:
        pointer = read_pointer(settings)
        published = pointer.to_dict(settings) if pointer else None
    except PointerError as exc:
        published = {"error": str(exc)}
    print(json.dumps({"active_encoder": str(active_encoder()), "published": published,
                      "promoted": [p.name for p in encoder_folders()],
                      "rasa_model": str(rasa), "rasa_trained_at": trained.isoformat() if trained else None,
                      "rasa_history": [p.name for p in rasa_history()],
                      "latest_export": str(latest_export(get_settings().training_dir / "exports"))}))
    return 0


def _rasa_data(args: argparse.Namespace) -> int:
    from common.settings import get_settings
    from learning.rasa_round import stage_training_data

    settings = get_settings()
    paths = stage_training_data(settings.reviewed_dir, args.out or settings.training_dir / "rasa-data")
    print(" ".join(map(str, paths)))
    return 0


def main(argv: list[str] | None = None) -> int:
    from learning import retrain as rt

    parser = argparse.ArgumentParser(prog="python -m learning", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="export a window of logged chats (redacted)")
    rt.add_source_arguments(p)
    p.add_argument("--out", type=Path, help="parent folder (default var/training/exports)")
    p.set_defaults(func=_export)

    p = sub.add_parser("review", help="review flagged NLU candidates")
    p.add_argument("--export", type=Path, help="export folder (default: the newest)")
    rsub = p.add_subparsers(dest="review_command", required=True)
    rsub.add_parser("list", help="pending flagged messages, one JSON per line")
    a = rsub.add_parser("apply", help="confirm or correct one message")
    a.add_argument("--id", required=True)
    a.add_argument("--intent", help="the right intent (omit to confirm the model's guess)")
    a.add_argument("--entities", help='JSON list [{"entity","start","end","value","role"?}]')
    a.add_argument("--reviewer", default="cli")
    a.add_argument("--skip", action="store_true", help="not a usable example")
    rsub.add_parser("build", help="rewrite data/nlu/reviewed/reviewed.yml from the records")
    p.set_defaults(func=_review)

    p = sub.add_parser("retrain", help="one round: export, train, evaluate, gate, promote, report")
    rt.add_arguments(p)
    p.set_defaults(func=_retrain)
    p = sub.add_parser("rollback", help="back to the previous encoder and/or Rasa model")
    p.add_argument("--model", choices=("encoder", "rasa", "both"), default="encoder",
                   help="encoder: retire the newest promoted encoder (default); "
                        "rasa: put the previous models/aisle.tar.gz back")
    p.add_argument("--no-reload", dest="reload", action="store_false",
                   help="do not ask a running Rasa server (AISLE_RASA_URL) to load the restored model")
    p.set_defaults(func=_rollback)
    sub.add_parser("status", help="active encoder, Rasa model and exports").set_defaults(func=_status)
    p = sub.add_parser("rasa-data", help="print `rasa train --data` paths without the held-out reviewed examples")
    p.add_argument("--out", type=Path, help="folder for the reviewed training split (default var/training/rasa-data)")
    p.set_defaults(func=_rasa_data)
    args = parser.parse_args(argv)
    settings_or_exit()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
