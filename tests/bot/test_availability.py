"""/health's "since": the first probe that saw a part's current state."""

from __future__ import annotations

from bot.availability import Availability


def test_since_changes_only_when_the_state_changes() -> None:
    now = [1_700_000_000.0]
    parts = Availability(clock=lambda: now[0])
    first = parts.observe("actions", {"ok": True, "status": 200})
    now[0] += 30
    assert parts.observe("actions", {"ok": True})["since"] == first["since"] == "2023-11-14T22:13:20Z"
    assert parts.down() == []
    down = parts.observe("actions", {"ok": False, "error": "ClientConnectorError"})
    assert down["since"] == "2023-11-14T22:13:50Z" and down["error"] == "ClientConnectorError"
    now[0] += 10
    assert parts.observe("actions", {"ok": False})["since"] == down["since"]
    assert parts.down() == ["actions"]
    now[0] += 5
    assert parts.observe("actions", {"ok": True})["since"] == "2023-11-14T22:14:05Z"
    assert parts.down() == []
