"""The Rasa side of a retraining round without Rasa: the held-out split, reading Rasa's result
files (fixtures in the exact format Rasa 3.6 writes), the retrain decision, the gate wiring with a
stand-in for the ``rasa`` executable, promotion and rollback of the model file, the server reload."""

from __future__ import annotations

import argparse
import io
import json
import os
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from common.settings import ROOT
from learning import retrain as retrain_module
from learning.promotion import promote_rasa_model, rasa_history, rollback_rasa_model
from learning.rasa_format import plain_text
from learning.rasa_round import (
    Rasa,
    RoundOptions,
    is_heldout,
    model_trained_at,
    read_intent_report,
    read_story_report,
    reload_server,
    run_round,
    should_retrain,
    split_reviewed,
    training_data,
    write_nlu,
)
from tools.stack import free_port

FIXTURES = Path(__file__).parent / "fixtures"


def fake_model(path: Path, trained_at: str = "2024-05-01T10:00:00.000000", payload: bytes = b"") -> Path:
    """A model archive shaped like Rasa 3's: ``metadata.json`` (with ``trained_at``) at the root."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("metadata.json", json.dumps({"trained_at": trained_at}).encode()),
                           ("components/x.bin", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def reviewed_file(folder: Path, n: int = 100, intents: tuple[str, ...] = ("greet", "track_order")) -> Path:
    blocks = [{"intent": intent, "examples": "".join(f"- {intent} example number {i}\n" for i in range(n))}
              for intent in intents]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviewed.yml"
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}))
    return path


# ---------------------------------------------------------------- the held-out split
def test_the_split_is_stable_disjoint_and_about_one_in_five(tmp_path):
    reviewed_file(tmp_path / "reviewed", n=200)
    split = split_reviewed(tmp_path / "reviewed")
    assert split.n_train + split.n_heldout == 400
    assert 50 <= split.n_heldout <= 110  # ~80 expected from a hash modulo 5
    for intent in ("greet", "track_order"):
        assert not set(split.train[intent]) & set(split.heldout[intent])
    assert split_reviewed(tmp_path / "reviewed") == split  # deterministic
    assert split_reviewed(tmp_path / "reviewed", every=2).n_heldout > split.n_heldout


def test_an_example_keeps_its_side_whatever_its_intent_annotation_or_neighbours():
    texts = [f"where is order number {i}" for i in range(50)]
    sides = [is_heldout(t) for t in texts]
    assert any(sides) and not all(sides)
    for text, side in zip(texts, sides, strict=True):
        annotated = text.replace("order", "[order](product_type)", 1)
        assert plain_text(annotated) == text and is_heldout(annotated) == side
        assert is_heldout(text.upper()) == side  # normalised like the review page's dedup


def test_written_files_are_rasa_nlu_and_training_data_leaves_out_the_reviewed_folder(tmp_path):
    project = tmp_path / "project"
    for name in ("data/nlu/shop.yml", "data/nlu/generated/lookups.yml", "data/nlu/reviewed/reviewed.yml",
                 "data/nlu/reviewed/records.jsonl"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text('version: "3.1"\nnlu: []\n')
    written = tmp_path / "out/reviewed.train.yml"
    n = write_nlu(written, {"greet": ["hi", "hello [Maya](person)"], "bye": []},
                  [{"synonym": "sneakers", "examples": "- trainers\n"}])
    data = yaml.safe_load(written.read_text())
    assert n == 2 and data["nlu"][0] == {"intent": "greet", "examples": "- hello [Maya](person)\n- hi\n"}
    assert data["nlu"][1]["synonym"] == "sneakers"
    assert "examples: |" in written.read_text()  # a literal block, as Rasa's own files

    paths = training_data(written, project / "data/nlu/reviewed", project)
    assert paths == [project / "data/nlu/generated/lookups.yml", project / "data/nlu/shop.yml", written,
                     project / "data/stories", project / "data/rules"]


# ---------------------------------------------------------------- Rasa's result files
def test_intent_report_gives_macro_f1_accuracy_and_support():
    metrics = read_intent_report(FIXTURES / "intent_report.json")
    report = json.loads((FIXTURES / "intent_report.json").read_text())
    assert metrics == {"nlu/macro_f1": report["macro avg"]["f1-score"], "nlu/accuracy": report["accuracy"],
                       "nlu/examples": report["macro avg"]["support"]}
    assert 0 < metrics["nlu/macro_f1"] < 1


def test_story_report_gives_the_share_of_stories_without_errors():
    metrics = read_story_report(FIXTURES / "story_report.json")
    conv = json.loads((FIXTURES / "story_report.json").read_text())["conversation_accuracy"]
    assert metrics["stories/accuracy"] == conv["accuracy"] == conv["correct"] / conv["total"]
    assert metrics["stories/failed"] == conv["total"] - conv["correct"] > 0


def test_a_story_report_without_conversation_level_result_gives_no_metric(tmp_path):
    path = tmp_path / "story_report.json"
    path.write_text(json.dumps({"utter_greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 1}}))
    assert read_story_report(path) == {}


def test_trained_at_is_read_from_the_archive(tmp_path):
    model = fake_model(tmp_path / "m.tar.gz", "2024-05-01T10:00:00.123456")
    assert model_trained_at(model).isoformat() == "2024-05-01T10:00:00.123456+00:00"
    (tmp_path / "broken.tar.gz").write_bytes(b"not a tar")
    assert model_trained_at(tmp_path / "broken.tar.gz") is None


# ---------------------------------------------------------------- whether to retrain
def test_retrain_only_when_reviewed_examples_are_newer_than_the_current_model(tmp_path):
    model = fake_model(tmp_path / "aisle.tar.gz", "2024-05-01T10:00:00")
    reviewed = tmp_path / "reviewed"
    assert should_retrain(None, reviewed, model) == (False, f"no reviewed examples in {reviewed}")
    path = reviewed_file(reviewed, n=3)
    older, newer = time.mktime((2024, 4, 1, 0, 0, 0, 0, 0, 0)), time.mktime((2024, 6, 1, 0, 0, 0, 0, 0, 0))
    os.utime(path, (older, older))
    retrain, why = should_retrain(None, reviewed, model)
    assert not retrain and "no reviewed examples newer" in why
    os.utime(path, (newer, newer))
    retrain, why = should_retrain(None, reviewed, model)
    assert retrain and "6 reviewed examples, changed after the current model was trained" in why
    assert should_retrain(False, reviewed, model) == (False, "--no-rasa given")
    assert should_retrain(True, tmp_path / "none", model) == (True, "--rasa given")
    assert not should_retrain(None, reviewed, tmp_path / "missing.tar.gz")[0]


# ---------------------------------------------------------------- the round, with a stand-in for rasa
class FakeRasa(Rasa):
    """Writes the files ``rasa train`` / ``rasa test`` write; scores come from the model's payload."""

    def __init__(self, scores: dict[bytes, tuple[float, float]]) -> None:
        super().__init__(executable=Path("/nonexistent/rasa"))
        self.scores = scores
        self.calls: list[list[str]] = []

    def run(self, args: list[str], log_file: Path) -> None:
        self.calls.append(args)
        opt = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
        if args[0] == "train":
            fake_model(Path(opt["--out"]) / f"{opt['--fixed-model-name']}.tar.gz", payload=b"candidate")
            return
        with tarfile.open(opt["--model"]) as archive:
            f1, stories = self.scores[archive.extractfile("components/x.bin").read()]
        out = Path(opt["--out"])
        out.mkdir(parents=True)
        if args[1] == "nlu":
            report = json.loads((FIXTURES / "intent_report.json").read_text())
            report["macro avg"]["f1-score"] = f1
            (out / "intent_report.json").write_text(json.dumps(report))
        else:
            report = json.loads((FIXTURES / "story_report.json").read_text())
            report["conversation_accuracy"] |= {"accuracy": stories, "correct": round(stories * 10), "total": 10}
            (out / "story_report.json").write_text(json.dumps(report))


@pytest.fixture
def project(tmp_path):
    """Active model, reviewed examples newer than it, test stories, and folders in tmp_path."""
    active = fake_model(tmp_path / "models/aisle.tar.gz", "2000-01-01T00:00:00", payload=b"current")
    reviewed_file(tmp_path / "reviewed", n=100)
    (tmp_path / "data/nlu").mkdir(parents=True)
    (tmp_path / "stories.yml").write_text('version: "3.1"\nstories: []\n')
    return tmp_path, active


def options(tmp_path: Path, active: Path, **extra) -> RoundOptions:
    return RoundOptions(active=active, reviewed_dir=tmp_path / "reviewed", work_dir=tmp_path / "candidates",
                        stories=tmp_path / "stories.yml", project=tmp_path, reload=False, **extra)


def test_a_better_candidate_is_trained_on_the_split_gated_and_promoted(project):
    tmp_path, active = project
    rasa = FakeRasa({b"current": (0.80, 0.9), b"candidate": (0.85, 0.9)})
    result = run_round(options(tmp_path, active), "20240601T000000Z", rasa)

    assert result.retrained and result.error is None and result.promoted, result.summary()
    assert result.current["nlu/macro_f1"] == 0.80 and result.candidate["nlu/macro_f1"] == 0.85
    verdicts = {r.metric: r.verdict for r in result.decision.rows}
    assert verdicts == {"nlu/macro_f1": "better", "stories/accuracy": "same"}
    train = next(c for c in rasa.calls if c[0] == "train")
    data = train[train.index("--data") + 1:train.index("--out")]
    folder = tmp_path / "candidates/20240601T000000Z"
    assert str(folder / "data/reviewed.train.yml") in data
    train_texts = yaml.safe_load((folder / "data/reviewed.train.yml").read_text())["nlu"]
    test_texts = yaml.safe_load((folder / "nlu-test/reviewed.heldout.yml").read_text())["nlu"]
    seen = {line for b in train_texts for line in b["examples"].splitlines()}
    assert seen and not seen & {line for b in test_texts for line in b["examples"].splitlines()}
    assert result.data["reviewed held out"] == result.data["NLU test examples"] >= 20
    # promoted: the candidate is served, the replaced model is kept for rollback
    assert active.read_bytes() == (tmp_path / "candidates/20240601T000000Z.tar.gz").read_bytes()
    assert [p.name for p in rasa_history(active)] == [Path(result.kept_previous).name]
    assert set(result.timings) == {"train", "evaluate", "promote"}


def test_a_worse_candidate_is_refused_and_the_current_model_stays(project):
    tmp_path, active = project
    before = active.read_bytes()
    result = run_round(options(tmp_path, active), "s", FakeRasa({b"current": (0.8, 0.9), b"candidate": (0.9, 0.8)}))
    assert not result.promoted and "worse than the current model on stories/accuracy" in result.decision.reason
    assert active.read_bytes() == before and rasa_history(active) == []
    assert result.summary().startswith("retrained: 200 reviewed examples")  # the reason it ran, then the verdict


def test_too_few_heldout_examples_leave_the_nlu_gate_missing(project):
    tmp_path, active = project
    rasa = FakeRasa({b"current": (0.5, 0.8), b"candidate": (0.9, 0.9)})
    result = run_round(options(tmp_path, active, min_heldout=1000), "s", rasa)
    assert not any(c[:2] == ["test", "nlu"] for c in rasa.calls)  # not even measured
    rows = {r.metric: r.verdict for r in result.decision.rows}
    assert rows == {"nlu/macro_f1": "missing", "stories/accuracy": "better"}
    assert "too small" in result.data["NLU test set"]


def test_dry_run_gates_without_promoting_and_a_failing_rasa_is_reported(project):
    tmp_path, active = project
    before = active.read_bytes()
    result = run_round(options(tmp_path, active, dry_run=True), "s",
                       FakeRasa({b"current": (0.8, 0.9), b"candidate": (0.9, 0.9)}))
    assert result.decision.promote and not result.promoted and "dry run" in result.summary()
    failed = run_round(options(tmp_path, active), "t", Rasa(executable=tmp_path / "no-rasa"))
    assert failed.error and "no Rasa executable" in failed.error and "FAILED" in failed.summary()

    class NoReport(FakeRasa):  # exits 0 but writes no story_report.json
        def run(self, args: list[str], log_file: Path) -> None:
            if args[:2] != ["test", "core"]:
                super().run(args, log_file)

    failed = run_round(options(tmp_path, active), "u", NoReport({b"current": (0.8, 0.9), b"candidate": (0.9, 0.9)}))
    assert "no usable result in" in failed.error and "story_report.json" in failed.error
    assert active.read_bytes() == before


def test_retrain_reports_both_decisions(tmp_path, monkeypatch, project):
    """The encoder side stubbed; the Rasa round runs with the stand-in and lands in the report."""
    _, active = project
    monkeypatch.setattr(retrain_module, "evaluate_encoder",
                        lambda model, *a, **k: {"eval/ndcg@10": 0.5 if model == "cur" else 0.4})
    monkeypatch.setattr(retrain_module, "active_encoder", lambda: "cur")
    rasa = FakeRasa({b"current": (0.8, 0.9), b"candidate": (0.85, 0.9)})
    monkeypatch.setattr(retrain_module, "run_round",
                        lambda opts, stamp: run_round(options(tmp_path, active, flag=opts.flag), stamp, rasa))
    (tmp_path / "export").mkdir()
    (tmp_path / "cand").mkdir()
    parser = argparse.ArgumentParser()
    retrain_module.add_arguments(parser)
    args = parser.parse_args(["--export", str(tmp_path / "export"), "--candidate-encoder", str(tmp_path / "cand"),
                              "--reports-dir", str(tmp_path / "reports")])
    result = retrain_module.retrain(args)

    assert result["decision"]["promote"] is False and result["rasa"]["promoted"] is True
    assert {"rasa_train", "rasa_evaluate", "rasa_promote", "total"} <= set(result["timings"])
    report = Path(result["report"]).read_text()
    assert "**Encoder: REFUSED**" in report and "**Rasa: PROMOTED — better on nlu/macro_f1" in report
    assert "## Rasa" in report and "| nlu/macro_f1 | 0.8000 | 0.8500 | +0.0500 | better |" in report
    assert "- **rasa**: retrained: 200 reviewed examples" in report and "not retrained in this round" not in report
    assert (tmp_path / "reports" / f"{Path(result['report']).stem}-rasa.svg").exists()
    saved = json.loads(Path(result["report"]).with_suffix(".json").read_text())
    assert saved["rasa"]["decision"]["promote"] is True

    args.rasa = False  # --no-rasa: the report says so
    report = Path(retrain_module.retrain(args)["report"]).read_text()
    assert "**Rasa: not retrained: --no-rasa given.**" in report and "- **rasa**: not retrained: --no-rasa given" in report


# ---------------------------------------------------------------- promotion and rollback of the file
def test_promotion_keeps_the_replaced_model_and_rollback_walks_back(tmp_path):
    active = fake_model(tmp_path / "models/aisle.tar.gz", payload=b"v1")
    v2, v3 = fake_model(tmp_path / "c/v2.tar.gz", payload=b"v2"), fake_model(tmp_path / "c/v3.tar.gz", payload=b"v3")
    contents = {p.read_bytes(): name for p, name in ((active, "v1"), (v2, "v2"), (v3, "v3"))}

    promote_rasa_model(v2, active)
    promote_rasa_model(v3, active)
    assert contents[active.read_bytes()] == "v3"
    assert [contents[p.read_bytes()] for p in rasa_history(active)] == ["v1", "v2"]
    assert not list(active.parent.glob(".*partial")) and v3.exists()  # staging cleaned, candidate left

    retired, restored = rollback_rasa_model(active)
    assert contents[active.read_bytes()] == "v2" and contents[retired.read_bytes()] == "v3"
    assert time.time() - active.stat().st_mtime < 60  # newer than the data, so make keeps it
    rollback_rasa_model(active)
    assert contents[active.read_bytes()] == "v1"
    assert rollback_rasa_model(active) == (None, None) and contents[active.read_bytes()] == "v1"
    log = [json.loads(line) for line in (tmp_path / "models/rasa-history.jsonl").read_text().splitlines()]
    assert [r["action"] for r in log] == ["promote", "promote", "rollback", "rollback"]


def test_rollback_command_restores_the_rasa_model(tmp_path, monkeypatch, capsys):
    from learning.__main__ import main

    active = fake_model(tmp_path / "models/aisle.tar.gz", payload=b"old")
    monkeypatch.setenv("AISLE_RASA_MODEL", str(active))
    old = active.read_bytes()
    promote_rasa_model(fake_model(tmp_path / "new.tar.gz", payload=b"new"), active)
    assert main(["rollback", "--model", "rasa", "--no-reload"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert active.read_bytes() == old and out["rasa_active"] == str(active) and out["rasa_restored"]


def test_rasa_data_command_prints_training_paths_without_the_heldout_examples(tmp_path, monkeypatch, capsys):
    from learning.__main__ import main

    reviewed_file(tmp_path / "reviewed", n=50)
    monkeypatch.setenv("AISLE_REVIEWED_DIR", str(tmp_path / "reviewed"))
    assert main(["rasa-data", "--out", str(tmp_path / "staged")]) == 0
    paths = [Path(p) for p in capsys.readouterr().out.split()]
    staged = tmp_path / "staged/reviewed.train.yml"
    assert staged in paths and paths[-2:] == [ROOT / "data/stories", ROOT / "data/rules"]
    assert not any(p.is_relative_to(tmp_path / "reviewed") for p in paths)
    lines = [line[2:] for b in yaml.safe_load(staged.read_text())["nlu"] for line in b["examples"].splitlines()]
    assert len(lines) == split_reviewed(tmp_path / "reviewed").n_train and not any(map(is_heldout, lines))


# ---------------------------------------------------------------- a running Rasa server
class _Rasa(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, bytes]] = []
    status = 204

    def _answer(self, code: int) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).requests.append((self.command, self.path, self.rfile.read(length)))
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(200)

    def do_PUT(self) -> None:  # noqa: N802
        self._answer(type(self).status)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_server():
    _Rasa.requests, _Rasa.status = [], 204
    server = HTTPServer(("127.0.0.1", 0), _Rasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_running_server_is_asked_to_load_the_promoted_model(fake_server, tmp_path):
    model = tmp_path / "aisle.tar.gz"
    message = reload_server(model, fake_server, token="s3cret")
    assert message.startswith("loaded by the Rasa server") and "204" in message
    method, path, body = _Rasa.requests[-1]
    assert (method, path) == ("PUT", "/model?token=s3cret")
    assert json.loads(body) == {"model_file": str(model.resolve())}
    _Rasa.status = 401
    assert "refused to load it: HTTP 401" in reload_server(model, fake_server, token="wrong")


def test_no_server_is_not_an_error(tmp_path):
    message = reload_server(tmp_path / "aisle.tar.gz", f"http://127.0.0.1:{free_port()}", token="")
    assert message.startswith("no Rasa server at")


def test_fixtures_are_what_rasa_writes():
    """The fixture files were copied from real ``rasa test`` runs (fixtures/README.md)."""
    intents = json.loads((FIXTURES / "intent_report.json").read_text())
    assert {"accuracy", "macro avg", "weighted avg", "micro avg"} <= set(intents)
    assert {"precision", "recall", "f1-score", "support", "confused_with"} <= set(intents["greet"])
    stories = json.loads((FIXTURES / "story_report.json").read_text())
    assert set(stories["conversation_accuracy"]) == {"accuracy", "correct", "with_warnings", "total"}
