"""The action server's /metrics (python -m actions): every webhook call timed by action, and the
recommendation's stages; Rasa's own share of the turn in its log (rasa_ext/turn_timing.py)."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest

from tools.stack import RasaStack

pytestmark = pytest.mark.integration


def test_a_search_turn_is_timed_by_action_and_stage(rasa_stack: RasaStack) -> None:
    request = urllib.request.Request(f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
                                     data=json.dumps({"sender": "metrics-1", "message": "show me running shoes"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert any("custom" in item for item in json.loads(response.read()))
    with urllib.request.urlopen(f"{rasa_stack.actions_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert re.search(r'aisle_action_seconds_count\{action="action_recommend_products"\} [1-9]', text)
    for stage in ("encode", "retrieve", "rank"):
        assert re.search(rf'aisle_recommend_stage_seconds_count\{{stage="{stage}"\}} [1-9]', text), stage


def test_rasa_logs_nlu_policies_and_the_action_round_trip_per_turn(rasa_stack: RasaStack) -> None:
    request = urllib.request.Request(f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
                                     data=json.dumps({"sender": "metrics-2", "message": "waterproof hiking boots"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert any("custom" in item for item in json.loads(response.read()))
    log = next(p for p in rasa_stack.processes if p.name == "rasa").log
    lines: list[dict] = []
    for _ in range(50):  # the log is written by another process
        lines = [json.loads(m) for m in re.findall(r'(\{"actions_ms".*?\})\s*$', log.read_text(errors="replace"), re.M)]
        if any(line["conversation"] == "metrics-2" for line in lines):
            break
        time.sleep(0.1)
    turn = next(line for line in lines if line["conversation"] == "metrics-2")
    assert turn["process"] == "rasa" and turn["predictions"] >= 2  # the action, then listen
    assert 0 < turn["nlu_ms"] < turn["total_ms"] and 0 < turn["policies_ms"] < turn["total_ms"]
    assert 0 < turn["actions_ms"] < turn["total_ms"]  # the recommendation's round trip
