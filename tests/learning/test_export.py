"""Export of a time window: real SQLite gateway store, tracker events as Rasa writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from bot.store import GatewayStore
from learning.export import export, latest_export
from learning.sources import GatewayExport, Window, parse_time
from recommender.pairs import LoggedPairs


def user(text: str, intent: str, confidence: float, entities: list[dict[str, Any]] | None = None,
         ts: float = 0.0) -> dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": ts,
            "parse_data": {"intent": {"name": intent, "confidence": confidence},
                           "entities": entities or [],
                           "intent_ranking": [{"name": intent, "confidence": confidence}]}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


@dataclass
class TrackerFixture:
    """Tracker events by sender id, as Rasa's tracker store returns them."""

    by_sender: dict[str, list[dict[str, Any]]]

    def events(self, sender_ids):
        return {s: self.by_sender.get(s, []) for s in sender_ids}


def shop_session(store: GatewayStore, search: str, shown: list[str], clicks: dict[str, str]) -> str:
    conv, _ = store.create_conversation()
    q = store.add_message(conv, "shopper", {"type": "text", "text": search})
    store.add_message(conv, "bot", {"type": "products", "items": [{"id": p, "title": p} for p in shown]},
                      reply_to=q["id"])
    for pid, kind in clicks.items():
        store.add_feedback(conv, kind, pid)
    store.add_message(conv, "shopper", {"type": "text", "text": "thanks"})
    return conv


def test_export_writes_candidates_pairs_judgments_and_stories(tmp_path):
    store = GatewayStore(f"sqlite:///{tmp_path / 'gw.db'}")
    store.create_schema()
    trackers: dict[str, list[dict[str, Any]]] = {}
    convs = []
    for i in range(5):
        shown = [f"P{i}0{j}" for j in range(5)]
        conv = shop_session(store, f"red boots number {i}", shown,
                            {shown[2]: "click", shown[3]: "add_to_cart", shown[0]: "dislike"})
        trackers[conv] = [
            action("action_session_start"), action("action_listen"),
            user(f"red boots number {i}", "search_product", 0.93,
                 [{"entity": "color", "start": 0, "end": 3, "value": "red"}]),
            action("action_recommend_products"), action("action_listen"),
            user("thanks", "thank", 0.99), action("utter_thank"), action("action_listen"),
        ]
        convs.append(conv)
    # a conversation with personal data, a low-confidence turn and a handoff
    conv, _ = store.create_conversation()
    store.add_message(conv, "shopper", {"type": "text", "text": "where is ORD-10427, I'm Jane Doe"})
    store.add_message(conv, "bot", {"type": "handoff", "status": "waiting"})
    store.add_message(conv, "agent", {"type": "text", "text": "Hi Jane, your order ORD-10427 ships today"},
                      agent="ann")
    trackers[conv] = [
        user("where is ORD-10427, I'm Jane Doe", "track_order", 0.41,
             [{"entity": "order_id", "start": 9, "end": 18, "value": "ORD-10427"}]),
        {"event": "slot", "name": "email", "value": "jane@doe.org"},
        action("action_handoff"),
        user("my mail is jane@doe.org", "inform", 0.9),
    ]

    result = export(GatewayExport(store.url), TrackerFixture(trackers), tmp_path / "exports",
                    Window(since=parse_time("1h")), holdout=0.4)
    folder = result.folder
    assert latest_export(tmp_path / "exports") == folder
    everything = folder.joinpath("nlu_candidates.jsonl").read_text() + folder.joinpath("pairs.jsonl").read_text()
    assert "10427" not in everything and "Jane" not in everything and "jane@doe.org" not in everything

    candidates = [json.loads(line) for line in folder.joinpath("nlu_candidates.jsonl").read_text().splitlines()]
    flagged = [c for c in candidates if c["flags"]]
    assert len(flagged) == 1
    assert set(flagged[0]["flags"]) == {"low_confidence", "pre_handoff"}
    assert flagged[0]["intent"] == "track_order"
    assert "ORD-" in flagged[0]["text"] and "<NAME>" in flagged[0]["text"]
    entity = flagged[0]["entities"][0]
    assert flagged[0]["text"][entity["start"]:entity["end"]] == entity["value"]
    assert "10427" not in flagged[0]["agent_reply"]

    # pairs: two positives per session, disliked and skipped-above items as hard negatives
    pairs = [json.loads(line) for line in folder.joinpath("pairs.jsonl").read_text().splitlines()]
    assert len(pairs) == 10
    first = next(p for p in pairs if p["positive"] == "P003")
    assert first["grade"] == 2 and first["negatives"][0] == "P000" and "P001" in first["negatives"]
    assert "P002" not in first["negatives"]
    # temporal split: the two newest sessions with pairs are held out, never trained on
    train = list(LoggedPairs(folder / "pairs.train.jsonl").pairs())
    assert len(train) == 6 and {p.query for p in train} == {f"red boots number {i}" for i in range(3)}
    qrels = folder.joinpath("heldout/qrels.tsv").read_text().splitlines()
    assert sorted(line.split("\t")[2] for line in qrels) == ["1", "1", "2", "2"]
    queries = folder.joinpath("heldout/queries.tsv").read_text()
    assert "number 3" in queries and "number 4" in queries
    # everything each held-out query showed, in order, for the exposure-fair judgment
    shown = [line.split("\t") for line in folder.joinpath("heldout/shown.tsv").read_text().splitlines()]
    assert len(shown) == 10 and {qid for qid, _, _ in shown} == {"L00001", "L00002"}
    assert [(pid, pos) for qid, pid, pos in shown if qid == "L00001"] == [(f"P30{j}", str(j + 1)) for j in range(5)]

    stories = yaml.safe_load(folder.joinpath("test_stories.yml").read_text())["stories"]
    assert len(stories) == 5  # the handoff conversation did not end well
    assert stories[0]["steps"][0] == {"user": "[red](color) boots number 0", "intent": "search_product"}
    assert {"action": "action_recommend_products"} in stories[0]["steps"]
    assert result.manifest["redacted"]["order_id"] >= 2


def test_window_excludes_old_conversations(tmp_path):
    store = GatewayStore(f"sqlite:///{tmp_path / 'gw.db'}")
    store.create_schema()
    shop_session(store, "blue tent", ["A", "B"], {"B": "click"})
    future = datetime.now(UTC) + timedelta(hours=1)
    result = export(GatewayExport(store.url), None, tmp_path / "out", Window(since=future))
    assert result.manifest["conversations"] == 0 and result.manifest["pairs"] == 0
    result = export(GatewayExport(store.url), None, tmp_path / "out", Window(until=future))
    assert result.manifest["conversations"] == 1 and result.manifest["pairs"] == 1
