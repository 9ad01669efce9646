"""Rate limits, counted by the `limits` library (moving window): in this process's memory by
default, in Redis when AISLE_REDIS_URL is set, so that every gateway replica counts the same hits
(docs/architecture.md §7). A Redis that does not answer lets the request through, logged: a
rate limit must never stop the chat."""

from __future__ import annotations

import asyncio
import logging
import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
REDIS_TIMEOUT_S = 0.5  # a rate-limit check waits no longer for Redis


def limit_storage(redis_url: str) -> Storage:
    """One storage for every limiter of a gateway: Redis when a URL is given, else memory."""
    if not redis_url:
        return MemoryStorage()
    uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
    return RedisStorage(uri, implementation="redispy", key_prefix="aisle-limits",
                        socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds (whole seconds, rounded up) for each key;
    ``name`` keeps the counts of different limiters apart in a shared storage."""

    def __init__(self, name: str, limit: int, window: float, storage: Storage) -> None:
        self.name = name
        self.item = RateLimitItemPerSecond(limit, max(1, math.ceil(window)))
        self.strategy = MovingWindowRateLimiter(storage)

    async def hit(self, key: str) -> float:
        """Record a hit; return 0 if allowed, else the seconds until the next one is allowed."""
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S * 2):
                if await self.strategy.hit(self.item, self.name, key):
                    return 0.0
                stats = await self.strategy.get_window_stats(self.item, self.name, key)
        except Exception as exc:  # the storage is down: let the request through
            log.warning("rate limit %s not checked (%s: %s)", self.name, type(exc).__name__, exc)
            return 0.0
        return max(0.001, stats.reset_time - time.time())
