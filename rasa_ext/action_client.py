"""Rasa's calls to the action server over kept-alive connections.

Rasa 3.6's ``EndpointConfig.request`` opens a new ``aiohttp.ClientSession`` for every request and
closes it after: every custom action pays for a new connection pool, a TCP connect and its
teardown on both sides (docs/benchmarks.md §1 gives the measured share of a turn). ``install``
makes ``EndpointConfig.session`` hand out one session per endpoint settings and event loop,
kept open, whose pool keeps connections alive between turns; ``request`` itself, its
headers, token, timeout and errors are Rasa's, unchanged. Idle connections are dropped after
``KEEPALIVE_SECONDS``, well before the action server's own keep-alive (rasa-sdk: 120 s), so a
request never goes out on a connection the server is closing. Importing ``rasa_ext`` installs it
in Rasa's process; elsewhere it does nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

KEEPALIVE_SECONDS = 10.0


class _Kept:
    """``async with`` over a session that outlives the block (Rasa's code closes its own)."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: object) -> None:
        return None


def install() -> bool:
    """Patch Rasa's endpoint sessions; False when Rasa is not importable (not Rasa's process)."""
    try:
        import aiohttp
        from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig
    except ImportError:
        return False
    if getattr(EndpointConfig.session, "kept_alive", False):
        return True
    sessions: dict[tuple[Any, ...], Any] = {}

    def session(self: Any) -> _Kept:
        loop = asyncio.get_running_loop()
        auth = (self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        key = (id(loop), repr(sorted((self.headers or {}).items())), auth)
        kept = sessions.get(key)
        if kept is None or kept.closed or kept.loop is not loop:  # a new loop (tests, restarts)
            kept = aiohttp.ClientSession(
                headers=self.headers,
                auth=aiohttp.BasicAuth(*auth) if auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
            )
            sessions[key] = kept
        return _Kept(kept)

    session.kept_alive = True  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[method-assign]
    return True
