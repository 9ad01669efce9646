"""Smoke test of a running Aisle: health, then a short chat through the gateway.

    python -m tools.smoke [--url http://127.0.0.1:8080]

Exits 0 when GET /health answers 200 with every part up and both chat turns get a real (not
fallback) reply; otherwise prints what failed and exits 1. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any


class SmokeFailure(Exception):
    pass


def call(url: str, body: dict[str, Any] | None = None, token: str | None = None,
         timeout: float = 30) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"null")
        except ValueError:
            return exc.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        raise SmokeFailure(f"cannot reach {url}: {exc}") from exc


def describe(messages: list[dict[str, Any]]) -> str:
    parts = []
    for m in messages:
        if m.get("type") == "text":
            parts.append(repr(m.get("text", ""))[:80])
        elif m.get("type") == "products":
            parts.append(f"[{len(m.get('items', []))} products]")
        else:
            parts.append(f"[{m.get('type')}]")
    return ", ".join(parts)


def wait_until_ready(base: str, wait: float) -> dict[str, Any]:
    """Poll /health until every part is up and the start-up warm-up is done (or ``wait`` ends)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            status, health = call(f"{base}/health", timeout=10)
        except SmokeFailure:
            status, health = 0, None
        down = [n for n in ("rasa", "actions", "store") if not (health or {}).get(n, {}).get("ok")]
        ready = status == 200 and not down and (health or {}).get("warmed_up") is not False
        if ready or time.monotonic() > deadline:
            break
        time.sleep(1)
    if status != 200:
        raise SmokeFailure(f"GET /health answered {status}: {health}")
    if down:
        raise SmokeFailure(f"GET /health: not ready: {', '.join(down)} ({health})")
    return health


def run(base: str, wait: float = 0.0) -> None:
    health = wait_until_ready(base, wait)
    print(f"ok   /health: {health.get('status')}, catalog {health.get('catalog', {}).get('products')} products")

    status, conv = call(f"{base}/api/conversations", {})
    if status != 201:
        raise SmokeFailure(f"POST /api/conversations answered {status}: {conv}")
    url = f"{base}/api/conversations/{conv['conversation_id']}/messages"
    for text in ("hi", "show me running shoes"):
        status, reply = call(url, {"text": text}, token=conv["token"])
        messages = (reply or {}).get("messages") if status == 200 else None
        if not messages:
            raise SmokeFailure(f"{text!r}: no reply (HTTP {status}: {reply})")
        if any(m.get("fallback") for m in messages):
            raise SmokeFailure(f"{text!r}: the gateway answered with its fallback (Rasa slow or down)")
        if text != "hi" and not any(m.get("type") == "products" and m.get("items") for m in messages):
            raise SmokeFailure(f"{text!r}: no product cards in the reply: {describe(messages)}")
        print(f"ok   {text!r} -> {describe(messages)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="gateway base URL")
    parser.add_argument("--wait", type=float, default=120.0,
                        help="seconds to wait for the assistant to be up and warmed up")
    args = parser.parse_args()
    try:
        run(args.url.rstrip("/"), args.wait)
    except SmokeFailure as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
