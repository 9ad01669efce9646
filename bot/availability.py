"""Which part of the assistant is up, and since when: what ``GET /health`` reports.

The gateway probes Rasa, the action server and its own store every few seconds
(:data:`PROBE_EVERY_S`, a task in ``bot/app.py``) and on every ``/health`` request; a part's
``since`` is the first probe that saw its current state, so an operator reads "actions down since
12:03:07" rather than a bare ``false``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

PROBE_EVERY_S = 5.0


class Availability:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._since: dict[str, tuple[bool, float]] = {}

    def observe(self, part: str, probe: dict[str, Any]) -> dict[str, Any]:
        """Record one probe result (``{"ok": bool, …}``) and return it with ``since``."""
        ok = bool(probe.get("ok"))
        previous = self._since.get(part)
        if previous is None or previous[0] != ok:
            self._since[part] = (ok, self._clock())
        since = datetime.fromtimestamp(self._since[part][1], UTC).isoformat(timespec="seconds")
        return {**probe, "since": since.replace("+00:00", "Z")}

    def down(self) -> list[str]:
        return sorted(part for part, (ok, _) in self._since.items() if not ok)
