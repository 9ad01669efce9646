"""``python -m shop init|reset|show|events`` — set up and inspect the shop database.

- ``init``: create the tables and seed the demo shop when empty (what the Makefile calls).
- ``reset``: drop every shop table, create and seed again (dates are re-anchored to today).
- ``show ORDER_ID EMAIL``: the order as the assistant sees it (JSON).
- ``events ORDER_ID``: the order's audit log (JSON).
"""

from __future__ import annotations

import argparse
import json
import sys

from common.settings import get_settings, settings_or_exit

from .sql.service import ShopData


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shop", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", help="database URL (default: AISLE_SHOP_DB_URL)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init")
    sub.add_parser("reset")
    show = sub.add_parser("show")
    show.add_argument("order_id")
    show.add_argument("email")
    events = sub.add_parser("events")
    events.add_argument("order_id")
    args = parser.parse_args(argv)
    settings_or_exit()

    settings = get_settings()
    shop = ShopData(args.url or settings.shop_db_url)
    if args.command in ("init", "reset"):
        if args.command == "reset":
            shop.drop_schema()
        shop.create_schema()
        counts = shop.seed(settings.shop_seed_dir)
        print(
            json.dumps(
                {"url": shop.engine.url.render_as_string(hide_password=True), "seeded": counts}
            )
        )
    elif args.command == "show":
        outcome = shop.order_status(args.order_id, args.email)
        print(json.dumps({"ok": outcome.ok, "code": outcome.code, "data": outcome.data}, indent=2))
        return 0 if outcome.ok else 1
    else:
        print(json.dumps(shop.events(order_id=args.order_id), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
