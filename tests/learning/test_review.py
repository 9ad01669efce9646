"""Review: flagged candidates → confirm/correct/skip → records.jsonl and reviewed.yml (Rasa format)."""

from __future__ import annotations

import json

import pytest
import yaml

from common.settings import ROOT
from learning.rasa_format import plain_text
from learning.review import ReviewError, ReviewQueue


def candidate(cid: str, text: str, intent: str | None, confidence: float | None, flags: list[str],
              entities: list[dict] | None = None) -> dict:
    return {"id": cid, "conversation_id": "c" * 32, "time": "2024-01-01T00:00:00Z", "text": text,
            "intent": intent, "confidence": confidence, "entities": entities or [], "flags": flags}


@pytest.fixture
def queue(tmp_path) -> ReviewQueue:
    export = tmp_path / "export"
    export.mkdir()
    rows = [
        candidate("a" * 16, "where is ORD-55555", "track_order", 0.42, ["low_confidence"],
                  [{"entity": "order_id", "start": 9, "end": 18, "value": "ORD-55555"}]),
        candidate("b" * 16, "my shoes fell apart after a week", "out_of_scope", 0.9, ["fallback"]),
        candidate("c" * 16, "lol whatever", "out_of_scope", 0.3, ["low_confidence"]),
        candidate("d" * 16, "red boots", "search_product", 0.97, []),  # not flagged
        candidate("e" * 16, "Where is  ORD-55555", "track_order", 0.5, ["low_confidence"],
                  [{"entity": "order_id", "start": 10, "end": 19, "value": "ORD-55555"}]),
    ]
    (export / "nlu_candidates.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return ReviewQueue(export, tmp_path / "reviewed", ROOT / "domain.yml", ROOT / "data/nlu")


def test_pending_lists_flagged_lowest_confidence_first(queue):
    assert [c["id"][0] for c in queue.pending()] == ["c", "a", "e", "b"]


def test_confirm_correct_skip_write_records_and_rasa_yaml(queue):
    confirmed = queue.review("a" * 16, reviewer="ann")
    assert confirmed["decision"] == "confirmed" and confirmed["model_intent"] == "track_order"
    corrected = queue.review("b" * 16, intent="complaint", reviewer="ann")
    assert corrected["decision"] == "corrected" and corrected["model_intent"] == "out_of_scope"
    assert queue.review("c" * 16, decision="skip", reviewer="ann")["decision"] == "skip"
    queue.review("e" * 16, reviewer="bob")  # the same text (normalised) as "a": deduplicated
    assert queue.pending() == []

    records = [json.loads(line) for line in queue.records_path.read_text().splitlines()]
    assert [r["reviewer"] for r in records] == ["ann", "ann", "ann", "bob"]  # the review record is kept
    data = yaml.safe_load(queue.yaml_path.read_text())
    examples = {block["intent"]: block["examples"].strip().splitlines() for block in data["nlu"]}
    assert examples == {"complaint": ["- my shoes fell apart after a week"],
                        "track_order": ["- Where is  [ORD-55555](order_id)"]}
    assert "lol" not in queue.yaml_path.read_text()


def test_bad_reviews_are_refused_and_nothing_is_written(queue):
    with pytest.raises(ReviewError, match="unknown intent"):
        queue.review("b" * 16, intent="buy_spaceship")
    with pytest.raises(ReviewError, match="unknown entity"):
        queue.review("b" * 16, intent="complaint", entities=[{"entity": "planet", "start": 0, "end": 2}])
    with pytest.raises(ReviewError, match="span"):
        queue.review("b" * 16, intent="complaint", entities=[{"entity": "color", "start": 5, "end": 99}])
    with pytest.raises(ReviewError, match="no candidate"):
        queue.review("f" * 16)
    assert not queue.records_path.exists()


def test_texts_already_in_the_training_data_are_not_repeated(queue, tmp_path):
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "orders.yml").write_text('version: "3.1"\nnlu:\n- intent: track_order\n  examples: |\n'
                                    "    - where is [ORD-55555](order_id)\n")
    queue.nlu_dir = nlu
    queue.review("a" * 16)
    assert yaml.safe_load(queue.yaml_path.read_text())["nlu"] == []
    assert plain_text('where is [ORD-1]{"entity": "order_id"}') == "where is ord-1"
