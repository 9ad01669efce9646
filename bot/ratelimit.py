"""In-memory sliding-window rate limits (one gateway process; see README for scaling out)."""

from __future__ import annotations

import time
from collections import deque


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float:
        """Record a hit; return 0 if allowed, else the seconds until the next one is allowed."""
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._prune(now)
            hits = self._hits[key] = deque()
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(0.001, self.window - (now - hits[0]))
        hits.append(now)
        return 0.0

    def _prune(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or now - h[-1] >= self.window]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # still full: forget the oldest half
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]
