"""End to end with real processes: simulated shoppers chat through the real gateway, Rasa and
action server; the logs are exported (trackers over Rasa's HTTP API), a flagged message is
reviewed through the desk's review API, and a deliberately worse encoder is refused by the gate."""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from bot.store import GatewayStore
from learning.promotion import encoder_folders
from learning.retrain import add_arguments, retrain, run_export
from tools.stack import RasaStack, start_gateway

pytestmark = pytest.mark.integration


class Desk:
    """An agent's browser session on the desk (cookie jar, JSON requests)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.url}{path}", data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"}, method="POST" if body is not None else "GET")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def test_simulate_export_review_and_refuse_a_worse_candidate(rasa_stack: RasaStack, tmp_path, monkeypatch,
                                                             small_catalog, worse_encoder):
    training, reviewed = tmp_path / "training", tmp_path / "reviewed"
    gateway = start_gateway(rasa_stack, AISLE_RATE_CLIENT="100000", AISLE_RATE_CONVERSATION="1000",
                            AISLE_WARM_UP="1", AISLE_RASA_TIMEOUT="30",
                            AISLE_TRAINING_DIR=str(training), AISLE_REVIEWED_DIR=str(reviewed))
    try:
        db_url = rasa_stack.env["AISLE_GATEWAY_DB_URL"]
        # 1. five simulated shoppers (the script, as a user would run it)
        sim = subprocess.run(
            [sys.executable, "-m", "tools.simulate_shoppers", "--url", gateway.url,
             "--sessions", "5", "--seed", "3", "--service-share", "0.2", "--handoff-share", "0.2",
             "--noise-share", "0.2", "--out", str(tmp_path / "sessions.jsonl")],
            capture_output=True, text=True, timeout=300, check=False)
        assert sim.returncode == 0, sim.stdout + sim.stderr
        summary = json.loads(sim.stdout.strip().splitlines()[-1])
        assert summary["sessions"] == 5 and summary["failed"] == 0 and summary["events"] > 0

        # 2. export the window (trackers over Rasa's HTTP API)
        monkeypatch.setenv("AISLE_TRAINING_DIR", str(training))
        monkeypatch.setenv("AISLE_REVIEWED_DIR", str(reviewed))
        monkeypatch.setenv("AISLE_ENCODER_DIR", str(tmp_path / "models/encoder"))
        monkeypatch.delenv("AISLE_ENCODER", raising=False)
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        export_args = parser.parse_args(["--gateway-db", db_url, "--tracker-url", rasa_stack.rasa_url,
                                         "--tracker-token", rasa_stack.token, "--since", "1h"])
        folder = run_export(export_args)
        manifest = json.loads((folder / "manifest.json").read_text())
        sessions = [json.loads(line) for line in (tmp_path / "sessions.jsonl").read_text().splitlines()]
        assert manifest["conversations"] >= 5 and manifest["with_tracker"] == manifest["conversations"]
        ours = {s["conversation_id"] for s in sessions}
        pairs = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
        carted = {(s["conversation_id"], s["added"]) for s in sessions if s["added"]}
        assert carted and carted <= {(p["conversation_id"], p["positive"]) for p in pairs if p["grade"] == 2}
        assert manifest["flagged"] >= 1, manifest

        # 3. review a flagged message through the desk's review API
        GatewayStore(db_url).create_agent("reviewer", "correct horse battery", replace=True)
        desk = Desk(gateway.url)
        assert desk.call("/api/desk/review")[0] == 401
        assert desk.call("/api/desk/login", {"name": "reviewer", "password": "correct horse battery"})[0] == 200
        status, listing = desk.call("/api/desk/review")
        assert status == 200 and listing["export"] == str(folder) and listing["items"]
        item = listing["items"][0]
        assert set(item["flags"]) & {"low_confidence", "fallback", "pre_handoff", "agent_answered"}
        assert any(i["conversation_id"] in ours for i in listing["items"])
        status, body = desk.call(f"/api/desk/review/{item['id']}", {"decision": "correct", "intent": "nonsense"})
        assert status == 400 and "unknown intent" in body["error"]
        status, body = desk.call(f"/api/desk/review/{item['id']}",
                                 {"decision": "correct", "intent": "contact_human_agent", "entities": []})
        assert status == 201 and body["record"]["reviewer"] == "reviewer"
        assert body["record"]["model_intent"] == item["intent"]
        data = yaml.safe_load((reviewed / "reviewed.yml").read_text())
        examples = {b["intent"]: b["examples"] for b in data["nlu"]}
        assert item["text"] in examples["contact_human_agent"]
        assert item["id"] not in {i["id"] for i in desk.call("/api/desk/review")[1]["items"]}
    finally:
        gateway.stop()

    # 4. a deliberately worse candidate is refused on the same held-out data, nothing promoted
    args = parser.parse_args(["--export", str(folder), "--catalog", str(small_catalog), "--mode", "dense",
                              "--no-rasa",  # the Rasa round has its own tests (test_rasa_*.py)
                              "--candidate-encoder", str(worse_encoder), "--reports-dir", str(tmp_path / "reports")])
    result = retrain(args)
    assert result["decision"]["promote"] is False and "worse" in result["decision"]["reason"]
    assert encoder_folders() == []
    report = Path(result["report"]).read_text()
    assert "REFUSED" in report and "eval/ndcg@10" in report
