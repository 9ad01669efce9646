"""Prometheus metrics of a process (``GET /metrics`` on the gateway and the action server) and
the per-turn structured log line: where a slow turn spent its time (docs/architecture.md §5).

Each process has its own registry (prometheus-client's default one); the names below are the
whole list, so an operator's dashboard and this file say the same thing.
"""

from __future__ import annotations

import json
import logging

from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# gateway
TURN_SECONDS = Histogram("aisle_gateway_turn_seconds", "Shopper message in to reply out, at the gateway",
                         ["outcome"], buckets=BUCKETS)
RASA_SECONDS = Histogram("aisle_gateway_rasa_seconds", "Round trip of one REST turn to Rasa",
                         buckets=BUCKETS)
# action server
ACTION_SECONDS = Histogram("aisle_action_seconds", "One custom action (webhook call), by action",
                           ["action"], buckets=BUCKETS)
STAGE_SECONDS = Histogram("aisle_recommend_stage_seconds",
                          "One stage of a recommendation (query, encode, retrieve, rank, relax, explain)",
                          ["stage"], buckets=BUCKETS)

turn_log = logging.getLogger("aisle.turn")


def exposition() -> tuple[bytes, str]:
    """The text of ``/metrics`` and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


def log_turn(**fields: object) -> None:
    """One JSON line per turn (logger ``aisle.turn``), milliseconds for times."""
    turn_log.info(json.dumps(fields, separators=(",", ":"), sort_keys=True))
