"""Gate + promote on real encoders: a deliberately worse candidate is refused; promotion and
rollback move model folders so that the newest one is active."""

from __future__ import annotations

import argparse
import json

from common.settings import get_settings
from learning.promotion import encoder_folders, promote_encoder, rollback_encoder
from learning.retrain import add_arguments, retrain
from tests.learning.conftest import title_judgments


def test_a_deliberately_worse_candidate_is_refused(tmp_path, monkeypatch, small_catalog, worse_encoder):
    monkeypatch.setenv("AISLE_ENCODER_DIR", str(tmp_path / "models/encoder"))
    monkeypatch.setenv("AISLE_TRAINING_DIR", str(tmp_path / "training"))
    monkeypatch.delenv("AISLE_ENCODER", raising=False)
    export = title_judgments(small_catalog, tmp_path / "export")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--export", str(export), "--catalog", str(small_catalog), "--no-rasa",
                              "--candidate-encoder", str(worse_encoder),
                              "--reports-dir", str(tmp_path / "reports"), "--mode", "dense"])
    result = retrain(args)

    decision = result["decision"]
    assert decision["promote"] is False and "worse" in decision["reason"]
    rows = {r["metric"]: r for r in decision["rows"]}
    assert rows["logged_shown/ndcg@10"]["verdict"] == "worse"
    assert rows["logged_shown/ndcg@10"]["candidate"] < rows["logged_shown/ndcg@10"]["current"] - 0.01
    assert "logged/ndcg@10" not in rows  # exposure-biased: reported, not gated
    assert result["promoted"] is None and encoder_folders() == []  # nothing moved
    report = (tmp_path / "reports").glob("retrain-*.md").__next__().read_text()
    assert "REFUSED" in report and "| logged_shown/ndcg@10 |" in report and ".svg)" in report
    assert "| logged/ndcg@10 |" in report.split("not gated")[1]
    saved = json.loads(next((tmp_path / "reports").glob("retrain-*.json")).read_text())
    assert saved["decision"] == decision


def _fake_model(folder):
    folder.mkdir(parents=True)
    (folder / "modules.json").write_text("[]")
    return folder


def test_promotion_makes_the_candidate_active_and_rollback_restores_the_previous(tmp_path, monkeypatch):
    monkeypatch.setenv("AISLE_ENCODER_DIR", str(tmp_path / "models/encoder"))
    monkeypatch.setenv("AISLE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("AISLE_ENCODER", raising=False)
    from recommender.encoder import resolve_model_path

    # fake model folders cannot be published (tests/learning/test_publish.py covers publishing)
    first = promote_encoder(_fake_model(tmp_path / "cand/20240101T000000Z"), publish=False)
    assert resolve_model_path(get_settings()) == first
    second = promote_encoder(_fake_model(tmp_path / "cand2/20230101T000000Z"), publish=False)  # older name, newer promotion
    assert resolve_model_path(get_settings()) == second
    assert [p.name for p in encoder_folders()] == [first.name, second.name]

    retired, active = rollback_encoder(publish=False)
    assert retired is not None and retired.name == second.name and not second.exists()
    assert active == first
    retired, active = rollback_encoder(publish=False)
    assert active.name != first.name  # back to the base model
    assert rollback_encoder(publish=False)[0] is None
    history = (tmp_path / "models/encoder-history.jsonl").read_text().splitlines()
    assert [json.loads(line)["action"] for line in history] == ["promote", "promote", "rollback", "rollback"]
