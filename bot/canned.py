"""The agent desk's canned replies: a YAML list of {title, text} in an editable file
(``AISLE_DESK_CANNED``, default ``data/desk/canned.yml``), read again when the file changes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)
MAX_REPLIES, MAX_TITLE, MAX_TEXT = 100, 80, 4000


class CannedReplies:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._replies: list[dict[str, str]] = []

    def replies(self) -> list[dict[str, str]]:
        """The replies as the file holds them now; a missing or broken file gives none."""
        try:
            stat = self.path.stat()
        except OSError:
            return []
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            self._replies = self._load()
        return list(self._replies)

    def _load(self) -> list[dict[str, str]]:
        try:
            data: Any = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            log.warning("canned replies %s unreadable: %s", self.path, exc)
            return []
        out = []
        for entry in data if isinstance(data, list) else []:
            if not isinstance(entry, dict) or not entry.get("text"):
                continue
            text = str(entry["text"]).strip()[:MAX_TEXT]
            title = str(entry.get("title") or text[:40]).strip()[:MAX_TITLE]
            out.append({"title": title, "text": text})
        return out[:MAX_REPLIES]
