"""The action server's /metrics (python -m actions): every webhook call timed by action, and the
recommendation's stages."""

from __future__ import annotations

import json
import re
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
