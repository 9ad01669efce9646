"""Where logged chats are read from: the gateway's SQL store and Rasa's trackers.

* Gateway: its export, ``python -m bot export-transcripts|export-feedback`` (JSON Lines), run
  as a command (:class:`GatewayExport`).
  The learning loop never imports the gateway: the export is the contract between them.
* Rasa trackers: over Rasa's HTTP API (``GET /conversations/{id}/tracker``, needs ``--enable-api``
  and the token), or straight from the SQL tracker store's ``events`` table (production:
  PostgreSQL, ``deploy/endpoints.production.yml``). The gateway uses the conversation id as
  Rasa's sender id, so both sides join on it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol


def parse_time(value: str | None, now: datetime | None = None) -> datetime | None:
    """ISO time (``2024-05-01``, ``2024-05-01T12:00Z``) or a relative age (``7d``, ``12h``, ``30m``)."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    if value[-1:] in units and value[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(**{units[value[-1]]: float(value[:-1])})
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_to_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class Window:
    since: datetime | None = None
    until: datetime | None = None

    def contains(self, when: datetime | None) -> bool:
        if when is None:
            return False
        return (self.since is None or when >= self.since) and (self.until is None or when < self.until)

    def to_dict(self) -> dict[str, str | None]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}


# ---------------------------------------------------------------- gateway logs
class GatewayLogs(Protocol):
    def transcripts(self) -> Iterator[dict[str, Any]]: ...
    def feedback(self) -> Iterator[dict[str, Any]]: ...


@dataclass
class GatewayExport:
    """Runs the gateway's export command against its store (SQLite or PostgreSQL URL; ``None``:
    the gateway's own setting, AISLE_GATEWAY_DB_URL) and reads what it wrote."""

    url: str | None = None

    def _run(self, command: str) -> Iterator[dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="aisle-export-") as folder:
            out = Path(folder) / f"{command}.jsonl"
            argv = [sys.executable, "-m", "bot", command, "--out", str(out)]
            if self.url:
                argv += ["--db-url", self.url]
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"python -m bot {command} failed: {done.stderr.strip()[-500:]}")
            yield from _read_jsonl(out)

    def transcripts(self) -> Iterator[dict[str, Any]]:
        yield from self._run("export-transcripts")

    def feedback(self) -> Iterator[dict[str, Any]]:
        yield from self._run("export-feedback")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The records of the export's JSON Lines file."""
    with Path(path).open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{line_no}: invalid JSON ({exc.msg})") from exc


# ---------------------------------------------------------------- Rasa trackers
class Trackers(Protocol):
    def events(self, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]: ...


@dataclass
class HttpTrackers:
    """Rasa's HTTP API (``rasa run --enable-api --auth-token …``)."""

    url: str
    token: str = ""
    timeout: float = 30.0

    def events(self, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for sender in sender_ids:
            query = {"include_events": "ALL"} | ({"token": self.token} if self.token else {})
            url = (f"{self.url.rstrip('/')}/conversations/{urllib.parse.quote(sender)}/tracker?"
                   + urllib.parse.urlencode(query))
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                tracker = json.loads(response.read())
            out[sender] = list(tracker.get("events") or [])
        return out


@dataclass
class SqlTrackers:
    """Rasa's SQL tracker store: table ``events`` (``sender_id``, ``data`` = the event as JSON)."""

    url: str
    table: str = "events"

    def events(self, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        from sqlalchemy import bindparam, create_engine, text

        ids = list(sender_ids)
        out: dict[str, list[dict[str, Any]]] = {s: [] for s in ids}
        if not ids:
            return out
        engine = create_engine(self.url)
        stmt = text(f"SELECT sender_id, data FROM {self.table} WHERE sender_id IN :ids "  # noqa: S608
                    "ORDER BY id").bindparams(bindparam("ids", expanding=True))
        try:
            with engine.connect() as conn:
                for start in range(0, len(ids), 500):
                    for sender, data in conn.execute(stmt, {"ids": ids[start:start + 500]}):
                        out[sender].append(json.loads(data) if isinstance(data, str) else data)
        finally:
            engine.dispose()
        return out
