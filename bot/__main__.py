"""Command line of the gateway.

    python -m bot serve [--host H] [--port P]
    python -m bot init-db [--db-url URL]     # create the store's tables (before replicas start)
    python -m bot create-agent NAME [--password PW] [--display-name "Alice"] [--replace]
    python -m bot export-feedback [--out FILE] [--db-url URL]    # JSON Lines for retraining
    python -m bot export-transcripts [--out FILE] [--db-url URL]   # JSON Lines, one conversation per line
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from typing import Any, TextIO

from common.settings import get_settings, settings_or_exit


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app

    settings = get_settings()
    settings = settings.model_copy(update={"gateway_host": args.host or settings.gateway_host,
                                       "gateway_port": args.port or settings.gateway_port})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(create_app(settings), host=settings.gateway_host, port=settings.gateway_port,
                access_log=None, print=lambda line: print(line, flush=True))
    return 0


def _store(url: str | None = None) -> Any:
    from bot.store import GatewayStore

    store = GatewayStore(url or get_settings().gateway_db_url)
    store.create_schema()
    return store


def _create_agent(args: argparse.Namespace) -> int:
    from bot.store import AgentExists

    password = args.password
    if password is None:
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Repeat: "):
            print("error: passwords differ", file=sys.stderr)
            return 2
    if len(password) < 8:
        print("error: use a password of at least 8 characters", file=sys.stderr)
        return 2
    try:
        _store().create_agent(args.name, password, replace=args.replace,
                              display_name=(args.display_name or "").strip()[:40] or None)
    except AgentExists as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"agent {args.name!r} {'updated' if args.replace else 'created'}")
    return 0


def _export(rows: Any, out: str | None) -> int:
    handle: TextIO = open(out, "w", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
    try:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if out:
            handle.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Aisle gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    agent = sub.add_parser("create-agent", help="create an agent account for the desk")
    agent.add_argument("name")
    agent.add_argument("--password", help="password (prompted when omitted)")
    agent.add_argument("--replace", action="store_true", help="set a new password if NAME exists")
    agent.add_argument("--display-name", help="the name shoppers see (never the login); "
                                              "agents can change it on the desk")
    init = sub.add_parser("init-db", help="create the gateway store's tables")
    init.add_argument("--db-url", help="gateway store URL (default: AISLE_GATEWAY_DB_URL)")
    for name in ("export-feedback", "export-transcripts"):
        export = sub.add_parser(name, help="write JSON Lines for retraining")
        export.add_argument("--out")
        export.add_argument("--db-url", help="gateway store URL (default: AISLE_GATEWAY_DB_URL)")
    args = parser.parse_args(argv)
    settings_or_exit()
    if args.command == "serve":
        return _serve(args)
    if args.command == "create-agent":
        if not args.name.strip() or len(args.name) > 64:
            parser.error("NAME must be 1-64 characters")
        return _create_agent(args)
    if args.command == "init-db":
        _store(args.db_url).dispose()
        return 0
    if args.command == "export-feedback":
        return _export(_store(args.db_url).iter_feedback(), args.out)
    return _export(_store(args.db_url).iter_transcripts(), args.out)


if __name__ == "__main__":
    sys.exit(main())
