"""``python -m actions [--host H] [--port P]``: the rasa-sdk action server in a single process.

``python -m rasa_sdk`` runs Sanic as a manager process with a worker process; when a supervisor
restarts a crashed manager, the orphaned worker keeps the port and the restart fails. Served in
one process, the process the supervisor watches is the server, so a restart is clean. Same app,
same endpoints (``/webhook``, ``/health``, ``/actions``) as rasa-sdk's own command.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, response

from common.metrics import ACTION_SECONDS, exposition


def add_metrics(app: Any) -> None:
    """``GET /metrics`` and the time of every ``/webhook`` call, by action."""

    async def started(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    async def observed(request: Request, _response: Any) -> None:
        if request.path == "/webhook" and hasattr(request.ctx, "started"):
            action = str((request.json or {}).get("next_action") or "unknown")
            ACTION_SECONDS.labels(action).observe(time.perf_counter() - request.ctx.started)

    async def metrics(_request: Request) -> Any:
        body, content_type = exposition()
        return response.raw(body, headers={"Content-Type": content_type})

    app.register_middleware(started, "request")
    app.register_middleware(observed, "response")
    app.add_route(metrics, "/metrics", methods=["GET"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actions", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", "-p", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    executor = ActionExecutor()
    executor.register_package("actions")
    from actions.services import get_services

    logging.getLogger(__name__).info("services warmed up: %s", get_services().warm_up())
    app = create_app(executor, cors_origins=None)
    add_metrics(app)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
