"""Where a turn went inside Rasa: one structured log line per message (logger ``aisle.turn``).

The gateway times the Rasa round trip and the action server each action (their ``/metrics``);
this splits Rasa's share: ``nlu_ms`` (parsing the message), ``policies_ms`` (every next-action
prediction of the turn, ``predictions`` of them), ``actions_ms`` (round trips to the action
server), ``total_ms`` (the whole message, tracker store included), in the same JSON form as the
other processes' lines (``common.metrics.log_turn``). ``install`` wraps Rasa's
``MessageProcessor`` and ``RemoteAction`` methods with timers; a turn's figures live in a
context variable, so concurrent turns do not mix. Importing ``rasa_ext`` installs it in Rasa's
process; elsewhere it does nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

turn_log = logging.getLogger("aisle.turn")
_turn: ContextVar[dict[str, float] | None] = ContextVar("aisle_turn", default=None)


def _add(key: str, seconds: float) -> None:
    turn = _turn.get()
    if turn is not None:
        turn[key] = turn.get(key, 0.0) + seconds


def _timed_async(method: Callable[..., Any], key: str) -> Callable[..., Any]:
    @functools.wraps(method)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            _add(key, time.perf_counter() - started)
    return timed


def _timed_predictions(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            _add("policies", time.perf_counter() - started)
            _add("predictions", 1)
    return timed


def _logged_turn(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def handle_message(self: Any, message: Any) -> Any:
        token = _turn.set({})
        started = time.perf_counter()
        try:
            return await method(self, message)
        finally:
            turn = _turn.get() or {}
            _turn.reset(token)
            fields = {f"{key}_ms": round(turn.get(key, 0.0) * 1000, 1) for key in ("nlu", "policies", "actions")}
            turn_log.info(json.dumps({
                "process": "rasa", "conversation": str(message.sender_id)[:12],
                "total_ms": round((time.perf_counter() - started) * 1000, 1),
                "predictions": int(turn.get("predictions", 0)), **fields,
            }, separators=(",", ":"), sort_keys=True))
    return handle_message


def install() -> bool:
    """Wrap Rasa's turn methods; False when Rasa is not importable (not Rasa's process)."""
    try:
        from rasa.core.actions.action import RemoteAction
        from rasa.core.processor import MessageProcessor
    except ImportError:
        return False
    if getattr(MessageProcessor.handle_message, "aisle_timed", False):
        return True
    MessageProcessor.handle_message = _logged_turn(MessageProcessor.handle_message)  # type: ignore[method-assign]
    MessageProcessor.parse_message = _timed_async(MessageProcessor.parse_message, "nlu")  # type: ignore[method-assign]
    MessageProcessor.predict_next_with_tracker_if_should = _timed_predictions(  # type: ignore[method-assign]
        MessageProcessor.predict_next_with_tracker_if_should)
    RemoteAction.run = _timed_async(RemoteAction.run, "actions")  # type: ignore[method-assign]
    MessageProcessor.handle_message.aisle_timed = True  # type: ignore[attr-defined]
    if turn_log.level == logging.NOTSET:
        turn_log.setLevel(logging.INFO)  # Rasa's own level may be WARNING; this line is wanted
    return True
